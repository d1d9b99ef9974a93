/** GridBox: children placed on a CSS grid by (row, column[, row span, column span]). */

import { h } from "./dom.js";
import { applySizing, SIZING_ATTRS } from "./sizing.js";
import { View } from "./view.js";

/** A grid of child views; the views of children that stay are kept, not rebuilt. */
export class GridBoxView extends View {
  render() {
    this.views = new Map(); // child model -> view
    return h("div", { class: "ds-grid" });
  }

  connected() {
    this.watch(["children"], () => this.sync());
    this.watch(["spacing", "visible", ...SIZING_ATTRS], () => this.layout());
    this.layout();
    this.sync();
  }

  layout() {
    const spacing = this.prop("spacing");
    this.el.style.gap = Number.isFinite(spacing) ? `${spacing}px` : "";
    this.el.hidden = !this.prop("visible");
    applySizing(this);
  }

  items() {
    return (this.prop("children") ?? []).filter((item) => Array.isArray(item) && item[0] && item[0].type);
  }

  sync() {
    const items = this.items();
    const keep = new Set(items.map((item) => item[0]));
    for (const [model, view] of this.views) {
      if (!keep.has(model)) {
        view.remove();
        this.views.delete(model);
      }
    }
    let columns = 1;
    // Placed in row-major order, so that reading and tab order follow the grid.
    const sorted = [...items].sort((a, b) => a[1] - b[1] || a[2] - b[2]);
    sorted.forEach(([model, row, column, rowSpan = 1, columnSpan = 1], index) => {
      let view = this.views.get(model);
      if (view === undefined) {
        view = this.child(model);
        this.views.set(model, view);
      }
      view.el.style.gridRow = `${row + 1} / span ${rowSpan}`;
      view.el.style.gridColumn = `${column + 1} / span ${columnSpan}`;
      columns = Math.max(columns, column + columnSpan);
      const at = this.el.children[index] ?? null;
      if (at !== view.el) this.el.insertBefore(view.el, at);
    });
    this.el.style.setProperty("--ds-grid-columns", String(columns));
  }

  remove() {
    for (const view of this.views.values()) view.remove();
    this.views.clear();
    super.remove();
  }
}
