/** Row, Column and Card: flex boxes of child views, reconciled in place when ``children`` changes; Spacer. */

import { h, setText } from "./dom.js";
import { applySizing, SIZING_ATTRS } from "./sizing.js";
import { View } from "./view.js";

/** A box of children; the views of children that stay are kept, not rebuilt. */
class BoxView extends View {
  render() {
    this.views = new Map(); // child model -> view
    this.box = h("div", { class: `ds-box ${this.boxClass}` });
    return this.box;
  }

  connected() {
    this.watch(["children"], () => this.sync());
    this.watch(["spacing", "visible", ...SIZING_ATTRS], () => this.layout());
    this.layout();
    this.sync();
  }

  layout() {
    const spacing = this.prop("spacing");
    this.box.style.gap = Number.isFinite(spacing) ? `${spacing}px` : "";
    this.el.hidden = !this.prop("visible");
    applySizing(this);
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
      const at = this.box.children[index] ?? null;
      if (at !== view.el) this.box.insertBefore(view.el, at);
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

let serial = 0;

/** Children under a title bar that folds them away (``collapsed``) when clicked. */
export class CardView extends BoxView {
  boxClass = "ds-column ds-card-body";

  render() {
    super.render();
    serial += 1;
    this.box.id = `ds-card-${serial}`;
    this.title = h("span", { class: "ds-card-title" });
    this.toggle = h(
      "button",
      { type: "button", class: "ds-card-toggle", "aria-controls": this.box.id, onclick: () => this.set("collapsed", !this.prop("collapsed")) },
      h("span", { class: "ds-card-chevron", "aria-hidden": "true" }),
      this.title,
    );
    this.header = h("div", { class: "ds-card-header" }, this.toggle);
    return h("section", { class: "ds-card" }, this.header, this.box);
  }

  connected() {
    super.connected();
    this.watch(["title", "collapsed", "collapsible"], () => this.fold());
    this.fold();
  }

  fold() {
    const collapsible = Boolean(this.prop("collapsible"));
    const collapsed = collapsible && Boolean(this.prop("collapsed"));
    setText(this.title, this.prop("title"));
    this.toggle.disabled = !collapsible;
    this.toggle.setAttribute("aria-expanded", String(!collapsed));
    this.el.classList.toggle("ds-collapsed", collapsed);
    this.el.classList.toggle("ds-collapsible", collapsible);
    this.box.hidden = collapsed;
  }
}

/** Empty room of the given size (or a share of the free space when it stretches). */
export class SpacerView extends View {
  render() {
    return h("div", { class: "ds-spacer", "aria-hidden": "true" });
  }

  connected() {
    this.watch(["visible", ...SIZING_ATTRS], () => this.layout());
    this.layout();
  }

  layout() {
    this.el.hidden = !this.prop("visible");
    applySizing(this);
  }
}
