/**
 * The view of the export_csv example's CsvDownload model: nothing to see; each time the
 * server bumps ``serial`` it saves ``text`` as a file named ``filename``.
 */

import { h } from "../views/dom.js";
import { View } from "../views/view.js";

export default class CsvDownloadView extends View {
  static defaults = { filename: "data.csv", text: "", serial: 0 };

  render() {
    return h("div", { class: "ds-hidden", hidden: true });
  }

  connected() {
    this.watch(["serial"], () => this.save());
  }

  save() {
    const blob = new Blob([this.prop("text") ?? ""], { type: "text/csv" });
    const url = URL.createObjectURL(blob);
    const link = h("a", { href: url, download: this.prop("filename") || "data.csv" });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }
}
