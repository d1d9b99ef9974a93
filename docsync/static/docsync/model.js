/**
 * Models as generic objects: a type name, an id and attributes; the mirror of
 * docsync/document/model.py without the property declarations (the server checks
 * values; the client keeps what it is given).
 *
 * Setters check what they can (ranges, columns), apply, and report one fine-grained
 * event to the document: set() a whole value, splice() a list, setItems()/deleteItems()
 * dict entries, setColumns()/stream()/patch() column data.
 */

import { checkPatches, checkStream, applyPatches, joinColumn } from "./columns.js";
import { PatchError, ValidationError } from "./exceptions.js";
import {
  ColumnDataChangedEvent, ColumnsPatchedEvent, ColumnsStreamedEvent, DictItemsDeletedEvent,
  DictItemsSetEvent, ListSplicedEvent, ModelChangedEvent,
} from "./events.js";
import { pyRepr, pyReprCut, pyReprShow, PY_REPR } from "./pyrepr.js";
import { isReference, MODEL_REF } from "./serialization.js";
import { deepEqual, dictCopy, dictDelete, dictUpdate, entriesOf, findKey, isDict, isPlainObject, isPrimitive } from "./values.js";

// Ids only need to be unique within a document; a random per-page prefix keeps the ids
// of models made in the browser apart from the server's.
const ID_PREFIX = Math.random().toString(16).slice(2, 8);
let lastId = 0;

/** Return a fresh model id. */
export function newModelId() {
  lastId += 1;
  return `${ID_PREFIX}${lastId}`;
}

/** Yield every model held by ``value`` (in lists, dicts, Maps, Sets; not in typed arrays). */
export function* modelsIn(value) {
  if (value === null || typeof value !== "object") return;
  if (isReference(value)) {
    yield value;
  } else if (Array.isArray(value) || value instanceof Set) {
    for (const item of value) if (item !== null && typeof item === "object") yield* modelsIn(item);
  } else if (value instanceof Map) {
    for (const [key, item] of value) {
      yield* modelsIn(key);
      yield* modelsIn(item);
    }
  } else if (isPlainObject(value)) {
    for (const item of Object.values(value)) yield* modelsIn(item);
  }
}

/**
 * Tell whether setting ``value`` over ``old`` changes nothing (Python's _same: scalars and
 * lists by value). A number is the same by Object.is: NaN is NaN, and -0 is not 0, whose
 * sign a receiver sees (1 / x); a list's numbers alike, its other items by value.
 */
export function sameValue(old, value) {
  if (typeof old === "number" && typeof value === "number") return Object.is(old, value);
  if (old === value) return true;
  if (Array.isArray(old) && Array.isArray(value)) {
    return old.length === value.length && old.every((item, i) => sameItem(item, value[i]));
  }
  return false;
}

function sameItem(old, value) {
  return isPrimitive(old) || isPrimitive(value) ? sameValue(old, value) : deepEqual(old, value);
}

/** Splice ``items`` into ``list`` in place (without spreading a huge argument list); return the removed. */
function spliceInPlace(list, index, deleteCount, items) {
  if (items.length < 10000) return list.splice(index, deleteCount, ...items);
  const removed = list.slice(index, index + deleteCount);
  const tail = list.slice(index + deleteCount);
  list.length = index;
  for (const item of items) list.push(item);
  for (const item of tail) list.push(item);
  return removed;
}

/** Throw unless a splice at ``index`` deleting ``deleteCount`` fits a list of ``length``. */
export function checkSplice(model, attr, index, deleteCount, length) {
  const fitsIndex = Number.isInteger(index) && index >= 0 && index <= length;
  if (!fitsIndex || !Number.isInteger(deleteCount) || deleteCount < 0 || deleteCount > length - index) {
    throw new PatchError(`splice at ${index} deleting ${deleteCount} out of range of ${model.type}.${attr}`);
  }
}

/** Throw unless every column of ``columns`` (for ``model.attr``) is an Array or a typed array. */
export function checkColumns(model, attr, columns) {
  for (const [name, column] of entriesOf(columns)) {
    const isColumn = Array.isArray(column) || (ArrayBuffer.isView(column) && !(column instanceof DataView));
    if (typeof name !== "string" || !isColumn) {
      throw new ValidationError(`${model.type}.${attr} expected a dict of column name to ndarray or list, got ${pyReprShow(columns)}`);
    }
  }
}

/** Return ``value`` as the list of ``model.attr`` (none is an empty list), or throw PatchError. */
export function listOf(model, attr, value) {
  if (value === undefined) return [];
  if (value === null) throw new PatchError(`${model.type}.${attr} is None, not a list`);
  if (!Array.isArray(value)) throw new PatchError(`${model.type}.${attr} is not a list`);
  return value;
}

/** Return ``value`` as the dict of ``model.attr`` (none is an empty one), or throw PatchError. */
export function dictOf(model, attr, value) {
  if (value === undefined) return {};
  if (value === null) throw new PatchError(`${model.type}.${attr} is None, not a dict`);
  if (!isDict(value)) throw new PatchError(`${model.type}.${attr} is not a dict`);
  return value;
}

/** Return ``value`` as the column data of ``model.attr`` (none is no columns), or throw PatchError. */
export function columnsOf(model, attr, value) {
  if (value === undefined) return {};
  if (value === null) throw new PatchError(`${model.type}.${attr} is None, not column data`);
  if (!isPlainObject(value)) throw new PatchError(`${model.type}.${attr} is not column data`);
  return value;
}

/** A piece of a document: a type name (the Python class), an id and attributes. */
export class Model {
  /** ``attributes``: a plain object or Map of attribute values (already decoded). */
  constructor(type, { id = newModelId(), attributes = {} } = {}) {
    this._type = type;
    this._id = id;
    this._attributes = new Map(entriesOf(attributes));
    this._document = null;
    this._callbacks = null;
    // While a local change has taken it out of its page's document (trackChangesOut): the
    // names of the attributes changed since, in order (no values: nothing is copied).
    this._changedOut = null;
  }

  /** The model's id, unique within its document. */
  get id() {
    return this._id;
  }

  /** The model's type name (e.g. "Slider"). */
  get type() {
    return this._type;
  }

  /** The document this model belongs to, or null. */
  get document() {
    return this._document;
  }

  /**
   * Note, from now on, which attributes change while the model is in no document
   * (changedOut). Names noted already (since an earlier call, not asked for since) stay noted.
   */
  trackChangesOut() {
    this._changedOut ??= new Set();
  }

  /**
   * The attributes changed out of a document since trackChangesOut(), in order, or null
   * when they were not noted; stop noting them. A page's outbox asks, for a model a local
   * change took out, when a local change puts it back: only the names are noted, never the
   * values (a swapped-out data source's columns are neither copied nor kept).
   */
  changedOut() {
    const names = this._changedOut;
    this._changedOut = null;
    return names === null ? null : [...names];
  }

  /**
   * Splice list ``attr`` of this model, in no document, with another origin's change, not
   * noted as changed out: a client applies so a server's splice it skipped (the model out
   * of its document) to the object the page holds, the server's value, not one to send at
   * a put-back.
   */
  spliceOut(attr, index, deleteCount, items, setter = null) {
    const noted = this._changedOut;
    const wasNoted = noted !== null && noted.has(attr);
    this._splice(attr, index, deleteCount, [...items], setter);
    if (noted !== null && !wasNoted) noted.delete(attr);
  }

  /**
   * Run ``change``, another origin's change of ``attr`` of this model in no document, not
   * noted as changed out: a client applies so a server's change it skipped (the model out
   * of its document) to the object the page holds, as ``spliceOut`` a splice.
   */
  changeOut(attr, change) {
    const noted = this._changedOut;
    const wasNoted = noted !== null && noted.has(attr);
    try {
      change();
    } finally {
      if (noted !== null && !wasNoted) noted.delete(attr);
    }
  }

  /** Report ``event`` to the model's document, or note its attribute as changed out of one (trackChangesOut). */
  _report(event, removed, added) {
    if (this._document !== null) this._document._modelChanged(event, removed, added);
    else if (this._changedOut !== null) this._changedOut.add(event.attr);
  }

  /** The model's name attribute, or null. */
  get name() {
    return this._attributes.get("name") ?? null;
  }

  /** The attributes the model holds, by name (read them; change them through the setters). */
  get attributes() {
    return this._attributes;
  }

  /** Return the value of ``attr`` (undefined when the model holds none: the default applies). */
  get(attr) {
    return this._attributes.get(attr);
  }

  /** Tell whether the model holds a value for ``attr``. */
  has(attr) {
    return this._attributes.has(attr);
  }

  [PY_REPR]() {
    return `${this._type}(id=${pyRepr(this._id)})`;
  }

  toString() {
    return this[PY_REPR]();
  }

  /** Yield the models this model's attributes hold directly. */
  *references() {
    for (const value of this._attributes.values()) yield* modelsIn(value);
  }

  // -- local setters: check, apply, report -------------------------------------------

  /** Give ``attr`` a whole new value. */
  set(attr, value, setter = null) {
    this._setValue(attr, value, setter);
  }

  /** Replace ``deleteCount`` items at ``index`` of list ``attr`` by ``items``. */
  splice(attr, index, deleteCount, items = [], setter = null) {
    checkSplice(this, attr, index, deleteCount, listOf(this, attr, this.get(attr)).length);
    this._splice(attr, index, deleteCount, [...items], setter);
  }

  /** Set entries (a plain object or Map) of dict ``attr``. */
  setItems(attr, items, setter = null) {
    dictOf(this, attr, this.get(attr));
    this._dictSet(attr, items, setter, false);
  }

  /** Delete ``keys`` of dict ``attr`` (each must be present). */
  deleteItems(attr, keys, setter = null) {
    const dict = this.get(attr);
    const missing = keys.find((key) => dict === null || !findKey(dictOf(this, attr, dict), key).found);
    if (missing !== undefined) throw new PatchError(`${this._type}.${attr} has no key ${pyReprCut(missing, 40)}`);
    this._dictDelete(attr, [...keys], setter);
  }

  /** Replace (or add) some columns of column data ``attr``, keeping the others. */
  setColumns(attr, columns, setter = null) {
    if (this.get(attr) !== null) dictOf(this, attr, this.get(attr));
    checkColumns(this, attr, columns);
    dictOf(this, attr, this.get(attr));
    this._dictSet(attr, columns, setter, true);
  }

  /** Append rows to every column of ``attr``, keeping at most ``rollover`` rows. */
  stream(attr, data, rollover = null, setter = null) {
    const rows = this._withContext(attr, () => checkStream(columnsOf(this, attr, this.get(attr)), data, rollover));
    this._stream(attr, rows, rollover, setter);
  }

  /** Replace cells of columns of ``attr``: {column: [[index or Slice, value], ...]}. */
  patch(attr, patches, setter = null) {
    const checked = this._withContext(attr, () => checkPatches(columnsOf(this, attr, this.get(attr)), patches));
    this._patch(attr, checked, setter);
  }

  _withContext(attr, check) {
    try {
      return check();
    } catch (err) {
      if (err instanceof ValidationError) throw new ValidationError(`${this._type}.${attr}: ${err.message}`);
      throw err;
    }
  }


  // -- applying checked changes (also used by patches) --------------------------------

  _setValue(attr, value, setter) {
    const old = this._attributes.get(attr);
    this._attributes.set(attr, value);
    if (sameValue(old, value)) return;
    this._report(new ModelChangedEvent(this, attr, old, value, setter), old, value);
    this._trigger(attr, old, value);
  }

  _splice(attr, index, deleteCount, items, setter) {
    let list = this._attributes.get(attr);
    if (!Array.isArray(list)) this._attributes.set(attr, (list = []));
    const old = this._oldCopy(attr, list);
    const removed = spliceInPlace(list, index, deleteCount, items);
    this._report(new ListSplicedEvent(this, attr, index, deleteCount, items, setter), removed, items);
    this._trigger(attr, old, list);
  }

  _dictSet(attr, items, setter, columns) {
    const dict = this._attributes.get(attr) ?? {};
    const old = this._oldCopy(attr, dict);
    const entries = entriesOf(items);
    const replaced = [];
    for (const [key] of entries) {
      const found = findKey(dict, key);
      if (found.found) replaced.push(dict instanceof Map ? dict.get(found.key) : dict[found.key]);
    }
    const updated = dictUpdate(dict, entries);
    this._attributes.set(attr, updated);
    const event = columns
      ? new ColumnDataChangedEvent(this, attr, items, setter)
      : new DictItemsSetEvent(this, attr, items, setter);
    // Columns hold no models, so the index need not look at them.
    if (columns) this._report(event, undefined, undefined);
    else this._report(event, replaced, entries);
    this._trigger(attr, old, updated);
  }

  _dictDelete(attr, keys, setter) {
    const dict = this._attributes.get(attr) ?? {};
    const old = this._oldCopy(attr, dict);
    const removed = keys.map((key) => {
      const found = findKey(dict, key);
      return [found.key, dict instanceof Map ? dict.get(found.key) : dict[found.key]];
    });
    dictDelete(dict, keys);
    this._report(new DictItemsDeletedEvent(this, attr, keys, setter), removed, undefined);
    this._trigger(attr, old, dict);
  }

  _stream(attr, rows, rollover, setter) {
    const data = this._attributes.get(attr);
    for (const [name, newRows] of Object.entries(rows)) data[name] = joinColumn(data[name], newRows, rollover);
    this._report(new ColumnsStreamedEvent(this, attr, rows, rollover, setter), undefined, undefined);
    this._trigger(attr, null, data);
  }

  _patch(attr, patches, setter) {
    const data = this._attributes.get(attr);
    applyPatches(data, patches);
    this._report(new ColumnsPatchedEvent(this, attr, patches, setter), undefined, undefined);
    this._trigger(attr, null, data);
  }

  _oldCopy(attr, container) {
    // Copy the old collection only when a callback will look at it.
    if (!this._callbacks?.has(attr)) return container;
    return Array.isArray(container) ? [...container] : dictCopy(container);
  }

  // -- callbacks -----------------------------------------------------------------------

  /** Call ``callback(attr, old, new)`` whenever ``attr`` changes; return a function that stops it. */
  onChange(attr, callback) {
    this._callbacks ??= new Map();
    if (!this._callbacks.has(attr)) this._callbacks.set(attr, []);
    this._callbacks.get(attr).push(callback);
    return () => this.removeOnChange(attr, callback);
  }

  /** Stop calling ``callback`` when ``attr`` changes. */
  removeOnChange(attr, callback) {
    const callbacks = this._callbacks?.get(attr);
    if (!callbacks) return;
    const remaining = callbacks.filter((cb) => cb !== callback);
    if (remaining.length) this._callbacks.set(attr, remaining);
    else this._callbacks.delete(attr);
  }

  _trigger(attr, old, value) {
    for (const callback of [...(this._callbacks?.get(attr) ?? [])]) {
      try {
        callback(attr, old, value);
      } catch (err) {
        // A failing callback must not break the change that triggered it.
        console.error(`error in callback of ${this} on ${attr}`, err);
      }
    }
  }
}

Model.prototype[MODEL_REF] = true;
