/** The view of a whole document: its roots, one after the other, kept in step with it. */

import { RootAddedEvent, RootRemovedEvent } from "../events.js";
import { h } from "./dom.js";

/** Shows every root of a document; roots that stay keep their views. */
export class DocumentView {
  constructor(document, context) {
    this.document = document;
    this.context = context;
    this.views = new Map(); // root model -> view
    this.el = h("div", { class: "ds-document" });
    this._stop = document.onChange((event) => {
      if (event instanceof RootAddedEvent || event instanceof RootRemovedEvent) this.sync();
    });
    this.sync();
  }

  sync() {
    const roots = this.document.roots;
    const keep = new Set(roots);
    for (const [model, view] of this.views) {
      if (!keep.has(model)) {
        view.remove();
        this.views.delete(model);
      }
    }
    roots.forEach((model, index) => {
      let view = this.views.get(model);
      if (view === undefined) {
        view = this.context.factory.build(model);
        this.views.set(model, view);
      }
      const at = this.el.children[index] ?? null;
      if (at !== view.el) this.el.insertBefore(view.el, at);
    });
  }

  /** Remove every view and stop following the document. */
  remove() {
    this._stop();
    for (const view of this.views.values()) view.remove();
    this.views.clear();
    this.el.remove();
  }
}
