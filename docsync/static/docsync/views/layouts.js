/** Row and Column: flex boxes of child views, reconciled in place when ``children`` changes. */

import { h } from "./dom.js";
import { View } from "./view.js";

/** A box of children; the views of children that stay are kept, not rebuilt. */
class BoxView extends View {
  render() {
    this.views = new Map(); // child model -> view
    return h("div", { class: `ds-box ${this.boxClass}` });
  }

  connected() {
    this.watch(["children"], () => this.sync());
    this.watch(["spacing", "width", "sizing_mode"], () => this.layout());
    this.layout();
    this.sync();
  }

  layout() {
    const spacing = this.prop("spacing");
    this.el.style.gap = Number.isFinite(spacing) ? `${spacing}px` : "";
    const width = this.prop("width");
    this.el.style.width = Number.isFinite(width) ? `${width}px` : "";
    this.el.classList.toggle("ds-fixed-width", Number.isFinite(width));
    this.el.classList.toggle("ds-sizing-fixed", this.prop("sizing_mode") === "fixed");
  }

  sync() {
    const children = [...new Set((this.prop("children") ?? []).filter((child) => child && child.type))];
    const keep = new Set(children);
    for (const [model, view] of this.views) {
      if (!keep.has(model)) {
        view.remove();
        this.views.delete(model);
      }
    }
    children.forEach((model, index) => {
      let view = this.views.get(model);
      if (view === undefined) {
        view = this.child(model);
        this.views.set(model, view);
      }
      const at = this.el.children[index] ?? null;
      if (at !== view.el) this.el.insertBefore(view.el, at);
    });
  }

  remove() {
    for (const view of this.views.values()) view.remove();
    this.views.clear();
    super.remove();
  }
}

/** Children side by side, wrapping on narrow screens. */
export class RowView extends BoxView {
  boxClass = "ds-row";
}

/** Children one above the other. */
export class ColumnView extends BoxView {
  boxClass = "ds-column";
}
