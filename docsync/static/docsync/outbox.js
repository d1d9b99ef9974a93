/**
 * Local changes waiting to be sent to the server, encoded as they are made.
 *
 * A whole new value of a property supersedes the changes of that property still
 * waiting, so that dragging a slider while a patch is in flight queues one value, not
 * hundreds. Encoding at once freezes each change as it was: a later edit of the same
 * value cannot leak into an earlier event, and the definition of a model attached by a
 * change is its state then (later edits follow as events of their own).
 *
 * Every change remembers ``base``, the last server position applied when it was made. A
 * patch carries one base, so take() sends the oldest changes that share it: changes made
 * after a server patch was applied go out in a patch of their own, judged (and, for list
 * splices, transformed) against what their maker had really seen. The mirror of
 * docsync/sync/outbox.py.
 *
 * A model the server holds (``serverIds``: pulled, or defined by the server's patches or
 * by this client's answered ones) is never defined, only referred to: the server refuses
 * a definition of a model it holds. One a change detached and a later one attaches again
 * (children reordered by removing and inserting) goes as a reference; what changed while
 * it was out of the document, which no event told, follows as changes of its own.
 */

import { ListSplicedEvent, ModelChangedEvent } from "./events.js";
import { Encoder } from "./serialization.js";
import { splice } from "./splices.js";
import { isNdarray } from "./arrays.js";
import { deepEqual } from "./values.js";
import { encodeEvents } from "./wire.js";

/** The most events the server takes in one PATCH-DOC (MAX_PATCH_EVENTS in docsync/sync/patches.py). */
export const MAX_PATCH_EVENTS = 1000;

/**
 * One waiting change: its wire JSON, the definitions and buffers it needs, and its base.
 * For a list splice, ``splice`` is where it stands now: shifted by the server's splices
 * of that list applied since it was made (its JSON keeps the indices it was made with,
 * which the server transforms itself). ``doomed`` marks a change known to lose.
 */
class Entry {
  constructor(event, json, references, buffers, base) {
    this.event = event;
    this.key = event.propertyKey();
    this.json = json;
    this.references = references;
    this.buffers = buffers;
    this.base = base;
    this.splice = event instanceof ListSplicedEvent ? splice(event.index, event.delete, event.items.length) : null;
    this.doomed = false;
    /** Ids of the models the change detached (with those of the changes it superseded). */
    this.departed = event.departed ?? [];
  }
}

/** Local changes waiting to be sent, in order. */
export class Outbox {
  constructor() {
    this._entries = [];
    // Definitions (and their buffers) of superseded changes: the models they attached
    // may still be referred to by what is sent.
    this._carried = [];
    this._serial = 0;
    /** The ids of the models the server holds, as far as this client knows: referred to, never defined. */
    this.serverIds = new Set();
    // The values of such models a local change detached, as they were then, until a local
    // change attaches them again (by reference): what differs then is sent.
    this._left = new Map();
  }

  /** The server holds the models of ``modelIds`` now (the document pulled: replaces what was known). */
  held(modelIds) {
    this.serverIds = new Set(modelIds);
    this._left.clear();
  }

  /** The server holds these models too (its patch defined them, or it took this client's). */
  hold(modelIds) {
    for (const id of modelIds) this.serverIds.add(id);
  }

  /** The server's change detached these models: it may no longer hold them. */
  forget(modelIds) {
    for (const id of modelIds) {
      this.serverIds.delete(id);
      this._left.delete(id);
    }
  }

  /** How many changes wait. */
  get size() {
    return this._entries.length;
  }

  /**
   * Queue ``event``, a change made on top of server position ``base``; ``attached``
   * is the document's index (definitions are sent for models it still holds, unless the
   * server holds them: ``serverIds``). ``departed(id)`` finds a model that left the
   * document (``Document.departedModel``): the values of one the server holds are kept
   * when a change detaches it.
   */
  add(event, { base, attached, departed = null }) {
    this._serial += 1;
    // Buffer ids must be unique in a message that gathers several encoded changes.
    const encoder = new Encoder({ bufferPrefix: `c${this._serial}.` });
    const encoded = encodeEvents([event], encoder, attached);
    const events = encoded.events;
    let references = encoded.references;
    let returning = [];
    if (references.length && this.serverIds.size) {
      // The server holds these: referred to (the JSON already does), not defined again.
      returning = references.filter((definition) => this.serverIds.has(definition.id)).map((definition) => definition.id);
      if (returning.length) references = references.filter((definition) => !this.serverIds.has(definition.id));
    }
    if (event.departed.length && departed !== null && this.serverIds.size) this._keepLeft(event.departed, departed);
    // The encoder's buffers are views of the arrays' memory. An array a whole value or
    // new columns bring becomes the document's own, whose cells a later patch writes in
    // place: its bytes are copied here, so that a change waiting (or resent after a
    // resume) keeps the values it was made with. Streamed rows and patch values are
    // copied into the columns, never written: they go out as they are.
    const kind = events[0].kind;
    const rowsOrCells = kind === "ColumnsStreamed" || kind === "ColumnsPatched";
    const buffers = rowsOrCells ? encoder.buffers : encoder.buffers.map(([id, bytes]) => [id, bytes.slice(0)]);
    const entry = new Entry(event, events[0], references, buffers, base);
    if (event instanceof ModelChangedEvent && entry.key !== null) {
      const defined = new Set(references.map((definition) => definition.id));
      const redefines = this._entries.some(
        (waiting) => waiting.key === entry.key && waiting.departed.some((id) => defined.has(id)),
      );
      // (If it defines a model an earlier value detached, both go: the server still holds
      // that model, and takes its definition in a later patch, after that value: take.)
      if (!redefines) entry.departed = [...entry.departed, ...this._drop(entry.key).flatMap((e) => e.departed)];
    }
    this._entries.push(entry);
    for (const modelId of returning) this._changedWhileOut(modelId, attached, base);
  }

  /** Keep the values of the models of ``modelIds`` the server holds, as they left the document. */
  _keepLeft(modelIds, departed) {
    for (const modelId of modelIds) {
      if (!this.serverIds.has(modelId) || this._left.has(modelId)) continue;
      const model = departed(modelId);
      if (model !== null) this._left.set(modelId, new Map([...model.attributes].map(([attr, value]) => [attr, copied(value)])));
    }
  }

  /** Queue a change for each value of model ``modelId`` (back in the document) that changed while it was out. */
  _changedWhileOut(modelId, attached, base) {
    const before = this._left.get(modelId);
    const model = attached.get(modelId);
    this._left.delete(modelId);
    if (before === undefined || model === undefined) return;
    for (const attr of new Set([...before.keys(), ...model.attributes.keys()])) {
      const now = model.get(attr);
      if (before.has(attr) && deepEqual(before.get(attr), now)) continue;
      this.add(new ModelChangedEvent(model, attr, before.get(attr), now), { base, attached });
    }
  }

  /** The waiting changes, oldest first (a copy). */
  get entries() {
    return [...this._entries];
  }

  /** Drop the waiting changes of property ``key`` (it has a whole new value); return them. */
  supersede(key) {
    return this._drop(key);
  }

  _drop(key) {
    const kept = [];
    const dropped = [];
    for (const entry of this._entries) {
      if (entry.key !== key) {
        kept.push(entry);
        continue;
      }
      dropped.push(entry);
      if (entry.references.length) this._carried.push(entry);
    }
    this._entries = kept;
    return dropped;
  }

  /**
   * Take the oldest waiting changes that share one base, ``most`` at most, as one
   * PATCH-DOC body: {content: {events, references, base}, buffers, base, entries,
   * carried}. Returns null when nothing waits.
   */
  take(most = MAX_PATCH_EVENTS) {
    if (this._entries.length === 0) return null;
    const base = this._entries[0].base;
    let count = this._entries.findIndex((entry) => entry.base !== base);
    if (count < 0) count = this._entries.length;
    count = Math.max(1, Math.min(count, most, MAX_PATCH_EVENTS)); // the rest follows in a patch of the same base
    const departed = new Set();
    for (let i = 0; i < count; i++) {
      const entry = this._entries[i];
      if (departed.size && entry.references.some((definition) => departed.has(definition.id))) {
        // It defines a model an earlier change of the batch detached: the server holds
        // that one until the batch is applied, and refuses a patch defining a model it
        // holds (or one twice). The rest follows in a patch of its own, of the same base.
        count = i;
        break;
      }
      for (const id of entry.departed) departed.add(id);
    }
    const entries = this._entries.slice(0, count);
    const carried = this._carried;
    this._entries = this._entries.slice(count);
    this._carried = [];
    const seen = new Set();
    const references = [];
    for (const entry of [...carried, ...entries]) {
      for (const definition of entry.references) {
        // The server refuses a model defined twice in one patch.
        if (!seen.has(definition.id)) references.push(definition);
        seen.add(definition.id);
      }
    }
    return {
      content: { events: entries.map((entry) => entry.json), references, base },
      buffers: [...carried, ...entries].flatMap((entry) => entry.buffers),
      base,
      entries,
      carried,
    };
  }

  /** Put a batch ``take`` returned back, first, as if it had not been taken. */
  restore(batch) {
    this._entries = [...batch.entries, ...this._entries];
    this._carried = [...batch.carried, ...this._carried];
  }

  /** Remove and return every waiting change (the document is being replaced). */
  drain() {
    const entries = this._entries;
    this._entries = [];
    this._carried = [];
    this._left.clear();
    return entries;
  }
}

/** A value as it is now: a copy of a list, dict or array (changed in place later), else the value. */
function copied(value) {
  if (Array.isArray(value) || isNdarray(value)) return value.slice();
  if (value instanceof Map) return new Map(value);
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) return { ...value };
  return value;
}
