/**
 * Models and events to document JSON and back (values through serialization.js); the
 * mirror of docsync/document/wire.py, with the same checks and error texts.
 */

import { Slice } from "./columns.js";
import { DeserializationError, PatchError, UnknownModelError } from "./exceptions.js";
import * as ev from "./events.js";
import { Model } from "./model.js";
import { pyReprCut } from "./pyrepr.js";
import { Decoder } from "./serialization.js";
import { isDict, isPlainObject } from "./values.js";

export const MAX_MODELS_PER_MESSAGE = 100_000;

/** Return {"type": "object", "name", "id", "attributes"} for ``model``. */
export function modelDefinition(model, encoder) {
  const attributes = {};
  for (const [attr, value] of model.attributes) attributes[attr] = encoder.encode(value);
  return { type: "object", name: model.type, id: model.id, attributes };
}

/**
 * Build models from definitions; references may point at each other or at ``known``
 * (a Map of id to model). ``reuse(id, name)`` may return an existing model to fill in
 * instead of a new one. With ``keepKnown``, a definition of a model of ``known`` (same
 * id and type) is skipped. Returns {created: Map id -> model, attributes: Map id -> Map}.
 */
export function decodeDefinitions(definitions, known, buffers, { maxArrayElements = 100_000_000, maxModels = MAX_MODELS_PER_MESSAGE, reuse = null, keepKnown = false } = {}) {
  if (!Array.isArray(definitions)) throw new DeserializationError("model definitions must be a list");
  if (definitions.length > maxModels) throw new DeserializationError(`too many models: ${definitions.length} > ${maxModels}`);
  const created = new Map();
  const pending = [];
  for (const definition of definitions) {
    if (!isPlainObject(definition) || definition.type !== "object") {
      throw new DeserializationError(`invalid model definition ${pyReprCut(definition, 80)}`);
    }
    const { id, name } = definition;
    const attributes = Object.hasOwn(definition, "attributes") ? definition.attributes : {};
    if (typeof id !== "string" || !id || typeof name !== "string") {
      throw new DeserializationError(`model definition needs a string id and name: ${pyReprCut(definition, 80)}`);
    }
    // keepKnown: the model held is kept (a server's correction defines every model its value reaches).
    if (keepKnown && known.get(id)?.type === name && !created.has(id)) continue;
    if (created.has(id) || known.has(id)) throw new DeserializationError(`duplicate model id ${pyReprCut(id, 60)}`);
    if (!isPlainObject(attributes)) throw new DeserializationError(`attributes of ${pyReprCut(id, 40)} must be an object`);
    const model = reuse?.(id, name) ?? new Model(name, { id });
    created.set(id, model);
    pending.push([model, attributes]);
  }
  const resolveRef = (modelId) => {
    const model = created.get(modelId) ?? known.get(modelId);
    if (model === undefined) throw new DeserializationError(`reference to unknown model id ${pyReprCut(modelId, 60)}`);
    return model;
  };
  const decoder = new Decoder(buffers, { resolveRef, maxArrayElements });
  const attributes = new Map();
  for (const [model, raw] of pending) {
    attributes.set(model.id, new Map(Object.entries(raw).map(([attr, value]) => [attr, decoder.decode(value)])));
  }
  return { created, attributes };
}

/**
 * Build new models from definitions (see decodeDefinitions); return a Map id -> model. A
 * model ``reuse`` gave (one the page still holds out of ``known``) takes the definition's
 * attributes alone, once every definition is read: one object per id.
 */
export function instantiateModels(definitions, known, buffers, options = {}) {
  const reused = new Set();
  const reuse = options.reuse ? (id, name) => {
    const model = options.reuse(id, name) ?? undefined;
    if (model !== undefined) reused.add(model);
    return model;
  } : null;
  const { created, attributes } = decodeDefinitions(definitions, known, buffers, { ...options, reuse });
  for (const [modelId, model] of created) {
    if (reused.size && reused.has(model)) {
      model.attributes.clear(); // (rare) what it held before is not the definition's
      if (model._changedOut !== null) model._changedOut = new Set(); // its values are the server's: none to send
    }
    for (const [attr, value] of attributes.get(modelId)) model.attributes.set(attr, value);
  }
  return created;
}

function encodeIndex(index) {
  return index instanceof Slice ? { type: "slice", start: index.start, stop: index.stop, step: index.step } : index;
}

function entriesJSON(entries, encoder) {
  return Object.fromEntries(Object.entries(entries).map(([name, column]) => [name, encoder.encode(column)]));
}

/** Return the wire JSON of one event. */
export function eventJSON(event, encoder) {
  const kind = event.kind;
  if (event instanceof ev.TitleChangedEvent) return { kind, title: event.title };
  if (event instanceof ev.MessageSentEvent) {
    const out = { kind, msg_type: event.msgType, msg_data: encoder.encode(event.msgData) };
    if (event.model) out.model = { id: event.model.id };
    return out;
  }
  const out = { kind, model: { id: event.model.id } };
  if (event instanceof ev.RootAddedEvent || event instanceof ev.RootRemovedEvent) return out;
  out.attr = event.attr;
  if (event instanceof ev.ModelChangedEvent) out.new = encoder.encode(event.new);
  else if (event instanceof ev.ColumnDataChangedEvent) out.columns = entriesJSON(event.columns, encoder);
  else if (event instanceof ev.ColumnsStreamedEvent) {
    out.data = entriesJSON(event.data, encoder);
    out.rollover = event.rollover;
  } else if (event instanceof ev.ColumnsPatchedEvent) {
    out.patches = Object.fromEntries(
      Object.entries(event.patches).map(([name, entries]) => [
        name, entries.map(([index, value]) => [encodeIndex(index), encoder.encode(value)]),
      ]),
    );
  } else if (event instanceof ev.ListSplicedEvent) {
    Object.assign(out, { index: event.index, delete: event.delete, items: encoder.encode(event.items) });
  } else if (event instanceof ev.DictItemsSetEvent) out.items = encoder.encode(event.items);
  else if (event instanceof ev.DictItemsDeletedEvent) out.keys = encoder.encode([...event.keys]);
  return out;
}

/**
 * Return {"events": [...], "references": [...]} for a batch of events. ``references``
 * holds the definition of every model the events attached to the document that
 * ``attached`` (the document's index) still holds or that the encoded JSON refers to.
 * Encode events as soon as they are made: definitions and values are read now.
 */
export function encodeEvents(events, encoder, attached = null) {
  const encoded = events.map((event) => eventJSON(event, encoder));
  const candidates = new Map();
  for (const event of events) {
    for (const model of event.newModels) if (!candidates.has(model.id)) candidates.set(model.id, model);
  }
  const references = [];
  // A definition may refer to further candidates, hence the loop until nothing is added.
  let added = true;
  while (added) {
    added = false;
    for (const [modelId, model] of [...candidates]) {
      if (attached === null || attached.has(modelId) || encoder.referenced.has(modelId)) {
        candidates.delete(modelId);
        references.push(modelDefinition(model, encoder));
        added = true;
      }
    }
  }
  return { events: encoded, references };
}

/**
 * Events decoded from a PATCH-DOC, and the models its references created. ``skipped``
 * counts events left out because they name a model the document no longer holds (only
 * when decoded with ``skipUnknown``).
 */
export class DecodedPatch {
  constructor(events, newModels, skipped = 0) {
    this.events = events;
    this.newModels = newModels;
    this.skipped = skipped;
  }
}

function decodeIndex(raw) {
  if (isPlainObject(raw) && raw.type === "slice") {
    const parts = [raw.start ?? null, raw.stop ?? null, raw.step ?? null];
    if (!parts.every((part) => part === null || Number.isInteger(part))) {
      throw new DeserializationError(`invalid slice ${pyReprCut(raw, 60)}`);
    }
    return new Slice(...parts);
  }
  if (!Number.isInteger(raw)) throw new DeserializationError(`invalid patch index ${pyReprCut(raw ?? null, 40)}`);
  return raw;
}

function string(raw, key) {
  const value = raw[key] ?? null;
  if (typeof value !== "string") {
    throw new DeserializationError(`event field '${key}' must be a string, got ${pyReprCut(value, 40)}`);
  }
  return value;
}

function columnsOf(raw, decoder, what) {
  if (!isPlainObject(raw)) throw new DeserializationError(`${what} must be an object of columns`);
  return Object.fromEntries(Object.entries(raw).map(([name, value]) => [name, decoder.decode(value)]));
}

function target(raw, resolve) {
  const ref = raw.model;
  // A reference is exactly {"id": <string>} (protocol.md §5), as the Python decoder reads it.
  if (!isPlainObject(ref) || Object.keys(ref).length !== 1 || typeof ref.id !== "string") {
    throw new DeserializationError(`event without a model reference: ${pyReprCut(raw, 80)}`);
  }
  return resolve(ref.id);
}

/** Every event kind of protocol.md §8. */
const EVENT_KINDS = new Set([
  "ModelChanged", "ColumnDataChanged", "ColumnsStreamed", "ColumnsPatched", "ListSpliced",
  "DictItemsSet", "DictItemsDeleted", "RootAdded", "RootRemoved", "TitleChanged", "MessageSent",
]);

function decodeEvent(raw, decoder, resolve, setter) {
  if (!isPlainObject(raw)) throw new DeserializationError(`event must be an object, got ${pyReprCut(raw, 60)}`);
  const kind = raw.kind;
  // The kind is judged before the model, as in wire.py: an event of no known kind cannot
  // be read, whatever model it names.
  if (typeof kind !== "string" || !EVENT_KINDS.has(kind)) {
    throw new PatchError(`unknown event kind ${pyReprCut(kind ?? null, 40)}`);
  }
  if (kind === "TitleChanged") return new ev.TitleChangedEvent(string(raw, "title"), setter);
  if (kind === "MessageSent") {
    const model = Object.hasOwn(raw, "model") ? target(raw, resolve) : null;
    return new ev.MessageSentEvent(string(raw, "msg_type"), decoder.decode(raw.msg_data ?? null), model, setter);
  }
  if (kind === "RootAdded") return new ev.RootAddedEvent(target(raw, resolve), setter);
  if (kind === "RootRemoved") return new ev.RootRemovedEvent(target(raw, resolve), setter);
  const model = target(raw, resolve);
  const attr = string(raw, "attr");
  switch (kind) {
    case "ModelChanged":
      return new ev.ModelChangedEvent(model, attr, undefined, decoder.decode(raw.new ?? null), setter);
    case "ColumnDataChanged":
      return new ev.ColumnDataChangedEvent(model, attr, columnsOf(raw.columns, decoder, "columns"), setter);
    case "ColumnsStreamed": {
      const rollover = raw.rollover ?? null;
      if (rollover !== null && !Number.isInteger(rollover)) {
        throw new DeserializationError(`invalid rollover ${pyReprCut(rollover, 40)}`);
      }
      return new ev.ColumnsStreamedEvent(model, attr, columnsOf(raw.data, decoder, "data"), rollover, setter);
    }
    case "ColumnsPatched":
      return new ev.ColumnsPatchedEvent(model, attr, decodePatches(raw.patches, decoder), setter);
    case "ListSpliced": {
      const items = decoder.decode(raw.items ?? null);
      // The field at fault is named, as the Python decoder names it.
      for (const field of ["index", "delete"]) {
        if (!Number.isInteger(raw[field] ?? null) || typeof raw[field] === "boolean") {
          const got = pyReprCut(raw[field] ?? null, 40);
          throw new DeserializationError(`invalid ListSpliced event: ${field} must be an integer, got ${got}`);
        }
      }
      if (!Array.isArray(items)) throw new DeserializationError("invalid ListSpliced event: items must be a list");
      return new ev.ListSplicedEvent(model, attr, raw.index, raw.delete, items, setter);
    }
    case "DictItemsSet": {
      const items = decoder.decode(raw.items ?? null);
      if (!isDict(items)) throw new DeserializationError("DictItemsSet items must be a map");
      return new ev.DictItemsSetEvent(model, attr, items, setter);
    }
    case "DictItemsDeleted": {
      const keys = decoder.decode(raw.keys ?? null);
      if (!Array.isArray(keys)) throw new DeserializationError("DictItemsDeleted keys must be a list");
      return new ev.DictItemsDeletedEvent(model, attr, keys, setter);
    }
    default:
      throw new PatchError(`unknown event kind ${pyReprCut(kind ?? null, 40)}`);
  }
}

function decodePatches(patches, decoder) {
  if (!isPlainObject(patches)) throw new DeserializationError("patches must be an object of columns");
  const decoded = {};
  for (const [name, entries] of Object.entries(patches)) {
    if (!Array.isArray(entries) || !entries.every((e) => Array.isArray(e) && e.length === 2)) {
      throw new DeserializationError(`patches of column ${pyReprCut(name, 40)} must be [index, value] pairs`);
    }
    decoded[name] = entries.map(([index, value]) => [decodeIndex(index), decoder.decode(value)]);
  }
  return decoded;
}

/**
 * Decode PATCH-DOC content into events against ``known`` models; nothing is applied yet.
 * With ``skipUnknown``, an event that names a model the document does not hold is left
 * out (and counted) instead of refusing the whole patch. ``reuse(id, name)`` (a page's
 * ``Document.departedModel``): a model defined anew that the page still holds is that
 * object, its attributes the definition's (instantiateModels). ``revive(id)``: a reference
 * in a value to a model neither held nor defined is that object, held out (below).
 */
export function decodePatch(content, known, buffers, { setter = null, maxArrayElements = 100_000_000, maxNewModels = MAX_MODELS_PER_MESSAGE, skipUnknown = false, keepKnown = false, reuse = null, revive = null } = {}) {
  if (!isPlainObject(content) || !Array.isArray(content.events)) {
    throw new DeserializationError("patch content must be an object with an 'events' list");
  }
  const references = Object.hasOwn(content, "references") ? content.references : [];
  const newModels = instantiateModels(references, known, buffers, { maxArrayElements, maxModels: maxNewModels, keepKnown, reuse });
  const resolve = (modelId) => {
    const model = newModels.get(modelId) ?? known.get(modelId);
    if (model === undefined) throw new UnknownModelError(`unknown model id ${pyReprCut(modelId, 60)}`);
    return model;
  };
  // ``revive(id)`` (the page's ``Document.departedModel``): a reference in an event's value
  // to a model neither held nor defined is the object the page holds out of the document
  // (the server attaches the model it holds, which this client took out, its change
  // unanswered); an event's own model is never looked up so (seed 5200001383).
  const resolveRef = revive === null ? resolve : (modelId) => {
    const model = newModels.get(modelId) ?? known.get(modelId);
    if (model !== undefined) return model;
    const out = revive(modelId);
    if (out == null || out.document !== null) throw new UnknownModelError(`unknown model id ${pyReprCut(modelId, 60)}`);
    return out;
  };
  const decoder = new Decoder(buffers, { resolveRef, maxArrayElements });
  if (!skipUnknown) return new DecodedPatch(content.events.map((raw) => decodeEvent(raw, decoder, resolve, setter)), newModels);
  const events = [];
  let skipped = 0;
  for (const raw of content.events) {
    try {
      events.push(decodeEvent(raw, decoder, resolve, setter));
    } catch (err) {
      if (!(err instanceof UnknownModelError)) throw err;
      skipped += 1;
    }
  }
  return new DecodedPatch(events, newModels, skipped);
}
