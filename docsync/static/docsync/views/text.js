/** Div and Paragraph: text shown as text, never parsed as HTML. */

import { h, setText } from "./dom.js";
import { WidgetView } from "./view.js";

/** A Div (a block) or a Paragraph (a <p>) of plain text; line breaks are kept. */
export class TextView extends WidgetView {
  static watched = ["text"];

  render() {
    return this.model.type === "Paragraph" ? h("p", { class: "ds-text ds-paragraph" }) : h("div", { class: "ds-text ds-div" });
  }

  update() {
    setText(this.el, this.prop("text"));
  }
}
