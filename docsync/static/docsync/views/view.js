/**
 * The base of every view: one DOM element showing one model, kept in step with it.
 *
 * A view subscribes to its model (``watch``) and to the document events of any model it
 * shows (``listen``), updates its element in place, and sends only what the user
 * changed (``set`` a property the model declares client-writable, or ``send`` a UI
 * event). ``remove()`` undoes every subscription. Custom views extend this class; see
 * docs/extending.md.
 */

import { patchDoc } from "../protocol.js";
import { Encoder } from "../serialization.js";
import { defaultOf } from "./defaults.js";
import { h } from "./dom.js";
import { applySizing, SIZING_ATTRS } from "./sizing.js";

/** A view of one model. Subclasses implement ``render()`` and may implement ``connected()``. */
export class View {
  /** ``context``: the ViewContext of the embed (session, factory, notices). */
  constructor(model, context) {
    this.model = model;
    this.context = context;
    this.el = null;
    this._stops = [];
    this._removed = false;
  }

  /** Create the element (``render()``), mark it, then call ``connected()``; return this. */
  build() {
    this.el = this.render();
    this.el.classList.add("ds-view");
    this.el.dataset.docsyncType = this.model.type;
    this.el.dataset.docsyncId = this.model.id;
    const name = this.model.get("name");
    if (typeof name === "string") this.el.dataset.docsyncName = name;
    this.el.docsyncView = this; // for debugging and tests: the view behind an element
    this.connected();
    return this;
  }

  /** Return the view's element, subscribed to what it shows. */
  render() {
    return h("div");
  }

  /** Called once ``this.el`` exists: subscribe and fill it in. */
  connected() {}

  /**
   * The value of ``attr`` of ``model`` (default: this view's): the model's, else the
   * default the model's type declares (a custom view gives its own in ``static defaults``).
   */
  prop(attr, model = this.model) {
    const value = model.get(attr);
    if (value !== undefined) return value;
    const own = model === this.model ? this.constructor.defaults : undefined;
    if (own && Object.hasOwn(own, attr)) return own[attr];
    return defaultOf(model.type, attr) ?? null;
  }

  /** Call ``callback(attr, old, new)`` when any of ``attrs`` of ``model`` (default: this one) changes. */
  watch(attrs, callback, model = this.model) {
    for (const attr of [].concat(attrs)) this.own(model.onChange(attr, callback));
  }

  /** Call ``callback(event)`` for each document event about ``model`` (streams, patches, ...). */
  listen(model, callback) {
    return this.own(this.context.listen(model, callback));
  }

  /** Keep ``stop`` (an unsubscribe function) to call on removal; return it. */
  own(stop) {
    this._stops.push(stop);
    return stop;
  }

  /** Give ``attr`` a new value because the user changed it: it goes to the server. */
  set(attr, value) {
    this.model.set(attr, value);
  }

  /** Send UI event ``msgType`` aimed at this model (e.g. "button_click"). */
  send(msgType, data = null) {
    this.context.session.sendMessage(msgType, data, { model: this.model });
  }

  /**
   * Send UI event ``msgType`` aimed at this model in a patch of its own, now, and resolve
   * once the server accepted it (reject with its refusal, or if the connection drops).
   * For data that must arrive in order and be paced by the server, such as file chunks:
   * the changes ``set`` makes wait and are merged, this does not.
   */
  request(msgType, data = null) {
    const encoder = new Encoder({ bufferPrefix: "r" });
    const event = { kind: "MessageSent", msg_type: msgType, msg_data: encoder.encode(data), model: { id: this.model.id } };
    return this.context.session.connection.request(patchDoc({ events: [event] }, encoder.buffers));
  }

  /** Build the view of another model (a child). */
  child(model) {
    return this.context.factory.build(model);
  }

  /** Tell whether the view has been removed. */
  get removed() {
    return this._removed;
  }

  /** Stop every subscription and take the element out of the page. */
  remove() {
    if (this._removed) return;
    this._removed = true;
    for (const stop of this._stops.splice(0)) stop();
    this.el?.remove();
  }
}

/** A view of a widget: ``visible``, sizes and ``disabled`` applied the same way for all. */
export class WidgetView extends View {
  connected() {
    this.watch(["visible", "disabled", ...SIZING_ATTRS], () => this.applyCommon());
    this.applyCommon();
    this.update();
    this.watch(this.constructor.watched ?? [], () => this.update());
  }

  /** Apply the common widget properties. */
  applyCommon() {
    this.el.hidden = !this.prop("visible");
    applySizing(this);
    const disabled = Boolean(this.prop("disabled"));
    this.el.classList.toggle("ds-disabled", disabled);
    for (const control of this.controls()) control.disabled = disabled;
  }

  /** The form controls that ``disabled`` applies to. */
  controls() {
    return [];
  }

  /** Bring the element in line with the model (called for each watched property). */
  update() {}
}

/** A view of a model that draws nothing (a data source, a glyph, a table column). */
export class HiddenView extends View {
  render() {
    return h("div", { class: "ds-hidden", hidden: true });
  }
}

/** What is shown for a model no view is known for. */
export class UnknownView extends View {
  render() {
    return h("div", { class: "ds-unknown", title: `no view for ${this.model.type}` }, `${this.model.type} (no view)`);
  }
}
