/**
 * The Document: a title, ordered roots, an index of every model reachable from them,
 * change events, and atomic patches; the mirror of docsync/document/document.py.
 */

import { DeserializationError } from "./exceptions.js";
import { MessageSentEvent, ModelChangedEvent, RootAddedEvent, RootRemovedEvent, TitleChangedEvent } from "./events.js";
import { Model, modelsIn } from "./model.js";
import { applyEvents } from "./patching.js";
import { pyReprCut } from "./pyrepr.js";
import { Encoder } from "./serialization.js";
import { isPlainObject, samePulled } from "./values.js";
import { DecodedPatch, decodeDefinitions, decodePatch, instantiateModels, modelDefinition } from "./wire.js";

function toBufferMap(buffers) {
  return buffers instanceof Map ? buffers : new Map(buffers ?? []);
}

function checkedDocumentJSON(data) {
  if (!isPlainObject(data) || !Array.isArray(data.roots)) {
    throw new DeserializationError("document JSON must be an object with a 'roots' list");
  }
  const title = Object.hasOwn(data, "title") ? data.title : "";
  if (typeof title !== "string") throw new DeserializationError("document title must be a string");
  return { title, definitions: Object.hasOwn(data, "models") ? data.models : [] };
}

function rootModels(data, models) {
  return data.roots.map((ref) => {
    const modelId = isPlainObject(ref) ? ref.id : undefined;
    if (!models.has(modelId)) throw new DeserializationError(`root is not a defined model: ${pyReprCut(ref, 60)}`);
    return models.get(modelId);
  });
}

/** Past this many, departed models no longer held anywhere are forgotten (Document.departedModel). */
const MAX_DEPARTED_KEPT = 4096;

/** A title, ordered roots, and every model reachable from them, indexed by id. */
export class Document {
  constructor({ title = "docsync" } = {}) {
    this._title = title;
    this._roots = [];
    this._models = new Map();
    this._subscribers = [];
    // Models that left the index, by id, as long as something else holds them (departedModel).
    this._departed = new Map();
  }

  // -- title and roots ------------------------------------------------------------------

  /** The document's title. */
  get title() {
    return this._title;
  }

  set title(title) {
    this.setTitle(title);
  }

  /** Change the title, recording who changed it. */
  setTitle(title, setter = null) {
    if (typeof title !== "string") throw new TypeError(`title must be a string, got ${pyReprCut(title, 60)}`);
    if (title === this._title) return;
    this._title = title;
    this._notify(new TitleChangedEvent(title, setter));
  }

  /** The root models, in order (a copy). */
  get roots() {
    return [...this._roots];
  }

  /** Every model reachable from the roots, by id (read it; do not change it). */
  get models() {
    return this._models;
  }

  /** Add ``model`` (and all it references) as a root. */
  addRoot(model, setter = null) {
    if (!(model instanceof Model)) throw new TypeError(`a root must be a Model, got ${pyReprCut(model, 60)}`);
    if (this._roots.includes(model)) return;
    const attached = this._attach([model]);
    this._roots.push(model);
    const event = new RootAddedEvent(model, setter);
    event.newModels = attached;
    this._notify(event);
  }

  /** Remove root ``model``; models no longer reachable leave the index. */
  removeRoot(model, setter = null) {
    const index = this._roots.indexOf(model);
    if (index < 0) throw new RangeError(`${model} is not a root`);
    this._roots.splice(index, 1);
    const event = new RootRemovedEvent(model, setter);
    event.departed = this._recompute();
    this._notify(event);
  }

  /** Remove every root. */
  clear(setter = null) {
    for (const root of [...this._roots]) this.removeRoot(root, setter);
  }

  /** The model of id ``modelId`` that left the document and is still held elsewhere, or null. */
  departedModel(modelId) {
    if (this._models.has(modelId)) return null;
    return this._departed.get(modelId)?.deref() ?? null;
  }

  /** Whether the model of id ``modelId`` is in the document, or left it and is still held elsewhere. */
  modelHeld(modelId) {
    return this._models.has(modelId) || this._departed.get(modelId)?.deref() !== undefined;
  }

  /** Return the model with id ``modelId``, or null. */
  getModelById(modelId) {
    return this._models.get(modelId) ?? null;
  }

  /** Return the first model named ``name``, or null. */
  getModelByName(name) {
    for (const model of this._models.values()) if (model.get("name") === name) return model;
    return null;
  }

  /** Return every model named ``name``. */
  select(name) {
    return [...this._models.values()].filter((model) => model.get("name") === name);
  }

  // -- index ------------------------------------------------------------------------------

  /** Index every model reachable from ``start`` that is new; return the new ones. */
  _attach(start) {
    const attached = [];
    const stack = [...start];
    try {
      while (stack.length) {
        const model = stack.pop();
        const known = this._models.get(model.id);
        if (known === model) continue;
        if (known !== undefined) throw new Error(`two models share the id ${pyReprCut(model.id, 60)}`);
        if (model.document !== null && model.document !== this) throw new Error(`${model} already belongs to another document`);
        model._document = this;
        this._models.set(model.id, model);
        if (this._departed.size) this._departed.delete(model.id);
        attached.push(model);
        for (const ref of model.references()) stack.push(ref);
      }
    } catch (err) {
      for (const model of attached) {
        model._document = null;
        this._models.delete(model.id);
      }
      throw err;
    }
    return attached;
  }

  /** Drop models no longer reachable from the roots (linear in the models); return their ids. */
  _recompute() {
    const reachable = new Set();
    const stack = [...this._roots];
    while (stack.length) {
      const model = stack.pop();
      if (reachable.has(model.id)) continue;
      reachable.add(model.id);
      for (const ref of model.references()) stack.push(ref);
    }
    const departed = [];
    for (const [modelId, model] of this._models) {
      if (!reachable.has(modelId)) {
        this._models.delete(modelId);
        model._document = null;
        departed.push(modelId);
        this._departed.set(modelId, new WeakRef(model));
      }
    }
    if (departed.length && this._departed.size > MAX_DEPARTED_KEPT) {
      for (const [modelId, ref] of this._departed) if (ref.deref() === undefined) this._departed.delete(modelId);
    }
    return departed;
  }

  /** Keep the index in step with a change (``removed``/``added``: values that held models), then report it. */
  _modelChanged(event, removed, added) {
    if (added !== undefined) event.newModels = this._attach(modelsIn(added));
    // Noted on the event: a patch must not define again a model it detached (Outbox.take).
    if (removed !== undefined && !modelsIn(removed).next().done) event.departed = this._recompute();
    this._notify(event);
  }

  // -- events -----------------------------------------------------------------------------

  /** Call ``subscriber(event)`` for every change; return a function that stops it. */
  onChange(subscriber) {
    this._subscribers.push(subscriber);
    return () => this.removeOnChange(subscriber);
  }

  /** Stop reporting changes to ``subscriber``. */
  removeOnChange(subscriber) {
    this._subscribers = this._subscribers.filter((s) => s !== subscriber);
  }

  _notify(event) {
    for (const subscriber of [...this._subscribers]) subscriber(event);
  }

  /** Send an application-defined message or UI event (``model``: the model it is aimed at). */
  sendMessage(msgType, msgData = null, { model = null, setter = null } = {}) {
    this._notify(new MessageSentEvent(msgType, msgData, model, setter));
  }

  _messageReceived(event) {
    this._notify(event);
  }

  // -- JSON -------------------------------------------------------------------------------

  /** Return {doc, buffers}: the document JSON and the [id, payload] buffers its arrays travel in. */
  toJSON({ encoder = new Encoder() } = {}) {
    const models = [...this._models.values()].map((model) => modelDefinition(model, encoder));
    const roots = this._roots.map((root) => ({ id: root.id }));
    return { doc: { title: this._title, roots, models }, buffers: encoder.buffers };
  }

  /** Build a document from document JSON and its buffers (Map or [id, payload] pairs), checking everything. */
  static fromJSON(data, buffers = new Map(), { maxArrayElements = 100_000_000 } = {}) {
    const { title, definitions } = checkedDocumentJSON(data);
    const models = instantiateModels(definitions, new Map(), toBufferMap(buffers), { maxArrayElements });
    const document = new Document({ title });
    for (const root of rootModels(data, models)) document.addRoot(root);
    return document;
  }

  /**
   * Bring this document in line with document JSON (a pull after a reconnection, or a
   * PUSH-DOC), keeping the model objects whose id and type are unchanged so that views
   * of them stay; report each difference as an event by ``setter``. A model attribute
   * that is no longer given is removed (a ModelChanged whose ``new`` is undefined).
   */
  replaceWithJSON(data, buffers = new Map(), { setter = null, maxArrayElements = 100_000_000 } = {}) {
    const { title, definitions } = checkedDocumentJSON(data);
    // One object per id: a model held, or one that left and the page still holds (a view it
    // took out), takes the pulled values.
    const reuse = (modelId, name) => {
      const existing = this._models.get(modelId);
      return existing?.type === name ? existing : this._departedOfType(modelId, name);
    };
    const { created, attributes } = decodeDefinitions(definitions, new Map(), toBufferMap(buffers), { maxArrayElements, reuse });
    const roots = rootModels(data, created);
    // Everything is decoded and checked; from here on nothing can fail. Values are set
    // first and the index rebuilt once, so that no model is detached half-way.
    const changes = [];
    for (const [modelId, model] of created) {
      const values = attributes.get(modelId);
      const reused = this._models.get(modelId) === model;
      if (!reused && model.attributes.size) {
        // (Rare: one the page held out of the document, built in place, as one built anew would be.)
        model.attributes.clear();
        if (model._changedOut !== null) model._changedOut = new Set();
      }
      for (const attr of [...model.attributes.keys()]) {
        if (!values.has(attr)) {
          changes.push([model, attr, model.attributes.get(attr), undefined]);
          model.attributes.delete(attr);
        }
      }
      for (const [attr, value] of values) {
        const old = model.attributes.get(attr);
        // An equal value keeps the object held (a view's or an application's dict or column stays live).
        if (reused && model.attributes.has(attr) && samePulled(old, value)) continue;
        model.attributes.set(attr, value);
        if (reused) changes.push([model, attr, old, value]);
      }
    }
    const oldRoots = this._roots;
    this._roots = [...new Set(roots)];
    this._rebuildIndex();
    this.setTitle(title, setter);
    for (const root of oldRoots) if (!roots.includes(root)) this._notify(new RootRemovedEvent(root, setter));
    for (const [model, attr, old, value] of changes) {
      if (model.document !== this) continue;
      this._notify(new ModelChangedEvent(model, attr, old, value, setter));
      model._trigger(attr, old, value);
    }
    for (const root of roots) if (!oldRoots.includes(root)) this._notify(new RootAddedEvent(root, setter));
  }

  /** Index exactly the models reachable from the roots. */
  _rebuildIndex() {
    const previous = this._models;
    this._models = new Map();
    this._attach(this._roots);
    for (const [modelId, model] of previous) if (this._models.get(modelId) !== model) model._document = null;
  }

  /**
   * Decode PATCH-DOC content against this document, without applying it (``skipUnknown``,
   * ``keepKnown``: see wire.js). With ``reuseDeparted`` (a client reading the server's
   * patches), a model defined anew that left the document and that the page still holds
   * (departedModel) is that object, with the definition's attributes: one object per id;
   * so is one a value refers to without defining it (the server moved it: seed 5200001383),
   * whose id ``revived(id)`` (if given) is told.
   */
  decodePatch(content, buffers = new Map(), { setter = null, maxArrayElements = 100_000_000, skipUnknown = false, keepKnown = false, reuseDeparted = false, revived = null } = {}) {
    const reuse = reuseDeparted ? (modelId, name) => this._departedOfType(modelId, name) : null;
    // And a reference in a value to such a model, neither held nor defined: that object too.
    const revive = reuseDeparted ? (modelId) => {
      const model = this.departedModel(modelId);
      if (model != null && model.document === null && revived !== null) revived(modelId);
      return model;
    } : null;
    return decodePatch(content, this._models, toBufferMap(buffers), { setter, maxArrayElements, skipUnknown, keepKnown, reuse, revive });
  }

  /** The model of ``modelId`` out of the document that the page still holds, if of type ``name``. */
  _departedOfType(modelId, name) {
    const model = this.departedModel(modelId);
    return model !== null && model.type === name && model.document === null ? model : undefined;
  }

  /**
   * Apply PATCH-DOC content (or a DecodedPatch) atomically: if any event is refused
   * (PatchError, DeserializationError), none is applied.
   */
  applyPatch(patch, buffers = new Map(), { setter = null, maxArrayElements = 100_000_000 } = {}) {
    const decoded = patch instanceof DecodedPatch ? patch : this.decodePatch(patch, buffers, { setter, maxArrayElements });
    applyEvents(this, decoded.events, { setter, newModels: decoded.newModels });
    return decoded.events;
  }
}
