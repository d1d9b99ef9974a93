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
 * it was out of the document, which no event told, follows as changes of its own: the
 * model notes the names of the attributes changed while it is out (Model.changedOut),
 * never their values, so that taking out a data source of a million rows copies nothing
 * and keeps nothing of it.
 *
 * Whether a model is defined is decided when the change is made, and again when it is
 * sent: a change queued while the patch defining its model was unanswered defines it, and
 * the answer (or a resume's) may make the server hold it before the change goes. take()
 * then sends it as a reference, and what changed while the model was out follows it.
 */

import { ListSplicedEvent, ModelChangedEvent } from "./events.js";
import { modelsIn } from "./model.js";
import { Encoder } from "./serialization.js";
import { splice } from "./splices.js";
import { encodeEvents } from "./wire.js";

/** The most events the server takes in one PATCH-DOC (MAX_PATCH_EVENTS in docsync/sync/patches.py). */
export const MAX_PATCH_EVENTS = 1000;

/**
 * Most models a local change detached that are remembered (ids: Outbox._keepLeft); past
 * it, those of models the server does not hold are forgotten first.
 */
export const MAX_LEFT_KEPT = 1024;

/**
 * serverIds past this many (and past twice as many as after the last look) drops the ids
 * of models nothing here holds any more (Outbox._dropGone).
 */
export const MIN_IDS_LOOKED_AT = 1024;

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
    /**
     * For a model the change defines that a local change took out before: what changed
     * while it was out, as changes (by model id), sent after this one if the definition
     * is not (take).
     */
    this.whileOut = null;
    /**
     * Superseded (carried) with ``whileOut``: the waiting change that came after it, before
     * which what changed while out goes if the definition is not sent (null: the end).
     */
    this.anchor = null;
    /**
     * The models a local change had taken out that this one attached again (put back):
     * out again should the server's value supersede it (supersede).
     */
    this.putBack = [];
    /**
     * Definitions of this client's own models the change puts back (Outbox._own): sent with
     * it if a taken change of this client took them out of the server's document before
     * (take: nothing there may hold them), else left out (they are referred to).
     */
    this.redefine = [];
    /** Those of ``redefine`` the patch carrying the change sent (take). */
    this.redefined = [];
    /**
     * The models a whole value holds that a change it superseded defined (carried): the
     * server makes them from the carried definitions, and holds them once it takes this.
     */
    this.adopted = [];
    /**
     * When the change was made (Outbox._serial then): the order of the definitions of a
     * batch and of those carried (take).
     */
    this.made = 0;
  }
}

/** Local changes waiting to be sent, in order. */
export class Outbox {
  /**
   * ``alive(id)``: whether a model of that id is in the document, or out of it and still
   * held by something (the page, a change waiting or in flight): one that is neither can
   * never be attached by a change of this client again (_dropGone).
   */
  constructor({ alive = null } = {}) {
    this._alive = alive;
    this._lookAt = MIN_IDS_LOOKED_AT;
    this._entries = [];
    // Definitions (and their buffers) of superseded changes: the models they attached
    // may still be referred to by what is sent.
    this._carried = [];
    this._serial = 0;
    /** The ids of the models the server holds, as far as this client knows: referred to, never defined. */
    this.serverIds = new Set();
    // The ids of the models a local change detached, until a local change attaches them
    // again (the oldest first). Each such model notes the names of the attributes changed
    // while it is out (Model.trackChangesOut): their values then are sent (or kept with the
    // change that defines the model, should the server hold it when it is sent). Noted for
    // models the server does not hold too: the patch defining one may be unanswered, and
    // its answer make the server hold it before it is put back. Values used to be copied
    // here as each model left: a page swapping out big data sources copied every column
    // and kept up to 1,024 of them.
    this._left = new Set();
    // How many waiting changes (and carried ones) define models, and whether the server
    // came to hold more models since take() last looked at them: it decides again whether
    // each definition goes only then (most patches define none).
    this._defining = 0;
    this._newlyHeld = false;
    // The models this client defined that the server took (its answered patches: a subset
    // of serverIds, bounded with it), and those of them that a change of this client the server took has
    // taken out since: nothing on the server may hold those any more (the application may),
    // and a put-back defines them again (``redefine``), where a reference would name nothing
    // and lose, its sender reset (protocol.md §9).
    this._own = new Set();
    this._letGo = new Set();
    // The models a server's change detached that were never this client's own (the
    // server's, another client's; the oldest first, as bounded as _left): a put-back of one
    // refers to it, to lose, never defines it. The page may still hold it (a take-out of
    // one of two places its document held it in, say, left it there until the server's
    // change detached it): defined, it was refused with the whole patch (an id the server
    // reserves, or a name a client may not give; seed 3875583031, in Python).
    this._foreign = new Set();
  }

  /** The server holds the models of ``modelIds`` now (the document pulled: replaces what was known). */
  held(modelIds) {
    this.serverIds = new Set(modelIds);
    for (const id of this.serverIds) this._foreign.delete(id);
    this._left.clear();
    this._own.clear();
    this._letGo.clear();
    this._newlyHeld = true;
    this._lookAt = Math.max(MIN_IDS_LOOKED_AT, 2 * this.serverIds.size);
  }

  /** The server holds these models too (its patch defined them, or it took this client's). */
  hold(modelIds) {
    for (const id of modelIds) {
      this.serverIds.add(id);
      this._letGo.delete(id);
      this._foreign.delete(id);
    }
    this._newlyHeld = true;
    if (this.serverIds.size > this._lookAt) this._dropGone();
  }

  /**
   * Forget the models nothing here holds any more (neither the document nor anything else).
   *
   * The server's change detaching a model makes this client forget it (forget()); this
   * client's own does not: it may attach the model again, a reference. One whose object is
   * gone never comes back (a server's definition of its id would make a new one, held
   * anew): without this, serverIds and _own kept every model this client took out for the
   * whole session. Amortized: looked at once the ids have doubled since the last look.
   */
  _dropGone() {
    const alive = this._alive;
    if (alive !== null) {
      for (const id of [...this.serverIds]) {
        if (alive(id)) continue;
        this.serverIds.delete(id);
        this._own.delete(id);
        this._letGo.delete(id);
      }
    }
    this._lookAt = Math.max(MIN_IDS_LOOKED_AT, 2 * this.serverIds.size);
  }

  /**
   * The server took these changes of a patch: it holds what they defined, and let go of
   * this client's own models they took out. Not what a later change of the batch took out
   * again: only the document held those, and a put-back must define them (a reference to
   * a model nothing holds loses).
   */
  settle(taken) {
    const held = new Set();
    const own = this._own;
    const letGo = this._letGo;
    for (const entry of taken) {
      for (const id of entry.departed) {
        held.delete(id);
        if (own.has(id)) letGo.add(id);
      }
      for (const model of entry.putBack) letGo.delete(model.id);
      for (const definition of entry.references) held.add(definition.id);
      for (const definition of entry.redefined) held.add(definition.id);
      for (const id of entry.adopted) held.add(id);
    }
    for (const id of held) own.add(id);
    this.hold(held);
  }

  /**
   * The server's change detached these models: it may no longer hold them.
   *
   * One a local change had taken out already (it notes what changes on it while out)
   * stays among them: it is the server's, never this client's own, and a put-back of it
   * goes as a reference (which loses if the server holds it no longer). Defined, it was refused with the
   * whole patch: the application's id, or a name a client may not give (seed 5027).
   */
  forget(modelIds) {
    const left = this._left;
    for (const id of modelIds) {
      if (left.has(id)) continue;
      if (this.serverIds.has(id) && !this._own.has(id)) {
        this._foreign.delete(id); // (re-added: the newest last)
        this._foreign.add(id);
        if (this._foreign.size > MAX_LEFT_KEPT) this._foreign.delete(this._foreign.values().next().value);
      }
      this.serverIds.delete(id);
      this._own.delete(id);
      this._letGo.delete(id);
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
   * document (``Document.departedModel``): one the server holds, or may hold when the
   * change attaching it again is sent, notes what changes while it is out when a change
   * detaches it.
   */
  add(event, { base, attached, departed = null }) {
    this._serial += 1;
    const made = this._serial;
    // Buffer ids must be unique in a message that gathers several encoded changes.
    const encoder = new Encoder({ bufferPrefix: `c${this._serial}.` });
    const encoded = encodeEvents([event], encoder, attached);
    const events = encoded.events;
    let references = encoded.references;
    let returning = [];
    let redefine = [];
    if (references.length && this.serverIds.size) {
      // The server holds these: referred to (the JSON already does), not defined again.
      returning = references.filter((definition) => this.serverIds.has(definition.id)).map((definition) => definition.id);
      if (returning.length) {
        // Its own models taken out: their definitions kept aside (take).
        if (this._own.size && this._left.size) {
          redefine = references.filter((definition) => this._own.has(definition.id) && this._left.has(definition.id));
        }
        references = references.filter((definition) => !this.serverIds.has(definition.id));
      }
    }
    if (references.length && this._foreign.size) {
      // Not held, yet never this client's: referred to (and lose), not defined.
      references = references.filter((definition) => !this._foreign.has(definition.id));
    }
    // The encoder's buffers are views of the arrays' memory. An array a whole value or
    // new columns bring becomes the document's own, whose cells a later patch writes in
    // place: its bytes are copied here, so that a change waiting (or resent after a
    // resume) keeps the values it was made with. Streamed rows and patch values are
    // copied into the columns, never written: they go out as they are.
    const kind = events[0].kind;
    const rowsOrCells = kind === "ColumnsStreamed" || kind === "ColumnsPatched";
    const buffers = rowsOrCells ? encoder.buffers : encoder.buffers.map(([id, bytes]) => [id, bytes.slice(0)]);
    const entry = new Entry(event, events[0], references, buffers, base);
    entry.made = made; // (the changes noted while out, queued below, are made after it)
    entry.redefine = redefine;
    if (references.length) {
      this._defining += 1;
      const left = this._left;
      if (left.size && references.some((definition) => left.has(definition.id))) this._keepWhileOut(entry, attached);
    }
    if (event.departed.length && departed !== null) this._keepLeft(event.departed, departed);
    if (event instanceof ModelChangedEvent && entry.key !== null) {
      const defined = new Set(references.map((definition) => definition.id));
      const redefines = this._entries.some(
        (waiting) => waiting.key === entry.key && waiting.departed.some((id) => defined.has(id)),
      );
      // (If it defines a model an earlier value detached, both go: the server still holds
      // that model, and takes its definition in a later patch, after that value: take.)
      if (!redefines) {
        const dropped = this._drop(entry.key, entry);
        entry.departed = [...entry.departed, ...dropped.flatMap((e) => e.departed)];
        const carried = new Set(dropped.flatMap((e) => [...e.references.map((definition) => definition.id), ...e.adopted]));
        if (carried.size) {
          // Counted only by the changes' own definitions, such a model was not held: a later
          // put-back of it defined it again, refused with the whole patch (seed 4119971791).
          entry.adopted = [...new Set([...modelsIn(event.new)].map((model) => model.id).filter((id) => carried.has(id)))];
        }
      }
    }
    this._entries.push(entry);
    for (const modelId of returning) {
      if (this._left.has(modelId) && attached.has(modelId)) entry.putBack.push(attached.get(modelId));
      this._changedWhileOut(modelId, attached, base);
    }
  }

  /** Remember the models of ``modelIds`` as out of the document; each notes what changes on it while out. */
  _keepLeft(modelIds, departed) {
    const left = this._left;
    for (const modelId of modelIds) {
      // (Remembered already, it may be another object of that id: a server's patch defined
      // it anew meanwhile, and this one notes nothing yet.)
      const model = departed(modelId);
      if (model === null) continue;
      model.trackChangesOut(); // (names only: nothing copied, whatever its size)
      left.add(modelId);
    }
    if (left.size > MAX_LEFT_KEPT) {
      // (Bounded: models taken out and never put back.)
      for (const modelId of [...left]) if (!this.serverIds.has(modelId)) left.delete(modelId);
      for (const modelId of left) {
        if (left.size <= MAX_LEFT_KEPT) break;
        left.delete(modelId); // (the oldest first: a Set keeps the order of insertion)
      }
      for (const modelId of [...this._letGo]) if (!left.has(modelId)) this._letGo.delete(modelId);
    }
  }

  /** Queue a change for each value of model ``modelId`` (back in the document) that changed while it was out. */
  _changedWhileOut(modelId, attached, base) {
    const model = attached.get(modelId);
    this._left.delete(modelId);
    if (model === undefined) return;
    for (const event of changesOut(model)) this.add(event, { base, attached });
  }

  /** Keep with ``entry`` what changed on each model it defines since a local change took it out. */
  _keepWhileOut(entry, attached) {
    for (const definition of entry.references) {
      const modelId = definition.id;
      const wasLeft = this._left.delete(modelId);
      const model = attached.get(modelId);
      if (model === undefined) continue;
      if (wasLeft) entry.putBack.push(model);
      const events = changesOut(model);
      if (!events.length) continue;
      // Encoded now, as every change is, into a list of their own (not queued).
      const waiting = this._entries;
      this._entries = [];
      let changes;
      try {
        for (const event of events) this.add(event, { base: entry.base, attached });
      } finally {
        changes = this._entries;
        this._entries = waiting;
      }
      if (changes.length) {
        entry.whileOut ??= new Map();
        entry.whileOut.set(modelId, changes);
        // (Counted when they are queued, if they are: _referToHeld.)
        this._defining -= changes.filter((change) => change.references.length).length;
      }
    }
  }

  /** The waiting changes, oldest first (a copy). */
  get entries() {
    return [...this._entries];
  }

  /**
   * Drop the waiting changes of property ``key`` (the server's whole value wins over them);
   * return them. A model one of them put back is out of the document again (``_left``), as
   * the local change that took it out left it. One that took out a model a later waiting
   * change of another property puts back (a move: out of this list, into another or the
   * roots) stays, to lose at the server (the client dooms it) with the patch of the
   * put-back: there an event attaching a model an earlier rejected event of the patch was
   * to take out loses too (§13 rule 7). Dropped, the put-back alone went, and the model was
   * in two places (child moves, seed 6633).
   */
  supersede(key) {
    const dropped = this._drop(key, null, this._movesOutOf(key));
    for (const entry of dropped) if (entry.putBack.length) this._outAgain(entry.putBack); // (rare)
    return dropped;
  }

  /**
   * The put-back of ``models`` lost to the server's value: they are out of the document again.
   *
   * The server's value takes them out of this page's list, where only the put-back had put
   * them: that tells nothing of whether the server holds them (forget leaves the ids of
   * models out among those it holds). Forgotten, a model the server came to hold as the
   * put-back waited (this page's new root, its defining patch answered by a resume's reply
   * first) was defined again by a carried definition, and the server refused the whole
   * patch (``duplicate model id``; child moves, seed 5201).
   */
  _outAgain(models) {
    const found = new Map(models.map((model) => [model.id, model]));
    this._keepLeft([...found.keys()], (modelId) => found.get(modelId) ?? null);
  }

  /** The waiting changes of ``key`` that took out a model a later waiting change of another property puts back. */
  _movesOutOf(key) {
    const moves = new Set();
    const putBack = new Set();
    for (let i = this._entries.length - 1; i >= 0; i--) {
      const entry = this._entries[i];
      if (entry.key !== key) {
        for (const model of entry.putBack) putBack.add(model.id);
      } else if (putBack.size && entry.departed.some((id) => putBack.has(id))) {
        moves.add(entry);
      }
    }
    return moves;
  }

  _drop(key, following = null, moves = null) {
    // A carried change with whileOut keeps its place (anchor): what changed while its model
    // was out goes there if the server comes to hold the model (_referToHeld).
    const anchored = this._carried.length ? this._carried.filter((carried) => carried.whileOut?.size) : [];
    const kept = [];
    const dropped = [];
    let placing = [];
    for (const entry of this._entries) {
      if (entry.key !== key || moves?.has(entry)) {
        kept.push(entry);
        for (const carried of placing) carried.anchor = entry;
        placing = [];
        continue;
      }
      dropped.push(entry);
      if (entry.references.length) {
        this._carried.push(entry);
        if (entry.whileOut?.size) placing.push(entry); // (rare: a put-back of a model taken out, queued unanswered)
      }
      for (const carried of anchored) if (carried.anchor === entry) placing.push(carried);
    }
    for (const carried of placing) carried.anchor = following;
    this._entries = kept;
    return dropped;
  }

  /**
   * Send as references the definitions of waiting changes of models the server holds now.
   *
   * A change keeps the definitions decided when it was made: one made while the patch
   * defining its model was unanswered (a model taken out and put back meanwhile, across a
   * resume too) defines it, and the answer may make the server hold it before the change
   * goes. The server refuses a definition of a model it holds (``duplicate model id``, the
   * whole patch): the JSON of the change refers to the model by id already, so the
   * definition is dropped, and what changed while the model was out (``whileOut``) follows
   * the change, as it does for a change made once the model was held.
   */
  _referToHeld() {
    const held = this.serverIds;
    let following = []; // [where, what changed while out]
    this._entries.forEach((entry, index) => {
      if (entry.references.length && this._refer(entry, held) && entry.whileOut !== null) {
        following.push(...this._heldWhileOut(entry, index + 1, held));
      }
    });
    const anchored = [];
    for (const entry of this._carried) {
      if (entry.references.length && this._refer(entry, held) && entry.whileOut?.size) {
        // Superseded: what changed while out goes where the change was (before its anchor).
        const where = this._entries.indexOf(entry.anchor);
        anchored.push(...this._heldWhileOut(entry, where < 0 ? this._entries.length : where, held));
      }
    }
    // (At one place, a change's own go before those of carried ones, which came after it.)
    if (anchored.length) following = [...following, ...anchored].sort((a, b) => a[0] - b[0]);
    for (const [index, changes] of following.reverse()) this._entries.splice(index, 0, ...changes);
  }

  /** Take from ``entry.whileOut`` the changes of models in ``held``, to be queued at ``where``: [[where, changes]]. */
  _heldWhileOut(entry, where, held) {
    const placed = [];
    for (const modelId of [...entry.whileOut.keys()]) {
      if (!held.has(modelId)) continue;
      const changes = entry.whileOut.get(modelId);
      entry.whileOut.delete(modelId);
      placed.push([where, changes]);
      this._defining += changes.filter((change) => change.references.length).length;
    }
    return placed;
  }

  /** Drop the definitions of ``entry`` of models in ``held``; tell whether it had any. */
  _refer(entry, held) {
    if (!entry.references.some((definition) => held.has(definition.id))) return false;
    if (this._own.size && entry.putBack.length) {
      // A put-back of its own model, now held: its definition kept aside, as add() keeps it (take).
      const back = new Set(entry.putBack.map((model) => model.id));
      for (const definition of entry.references) {
        if (held.has(definition.id) && this._own.has(definition.id) && back.has(definition.id)) {
          entry.redefine.push(definition);
        }
      }
    }
    entry.references = entry.references.filter((definition) => !held.has(definition.id));
    if (!entry.references.length) this._defining -= 1;
    return true;
  }

  /** Refer to the models the server came to hold since a waiting change defined them (``take`` does too). */
  referToHeld() {
    if (this._newlyHeld) {
      // A definition decided when its change was made may name a model the server has
      // come to hold since (an answer, a resume's): sent, the server would refuse the
      // whole patch (``duplicate model id``; convergence workload, seed 5118).
      this._newlyHeld = false;
      if (this._defining) this._referToHeld(); // (rare: most waiting changes define nothing)
    }
  }

  /**
   * Take the oldest waiting changes that share one base, ``most`` at most, as one
   * PATCH-DOC body: {content: {events, references, base}, buffers, base, entries,
   * carried}. Returns null when nothing waits.
   */
  take(most = MAX_PATCH_EVENTS) {
    if (this._entries.length === 0) return null;
    this.referToHeld();
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
    if (this._letGo.size) this._redefine(entries); // (rare: this client took out its own models, and the server took that)
    this._entries = this._entries.slice(count);
    // A carried definition goes with the first batch holding a change made after it: only
    // such a change may refer to its model. Sent with a batch of older changes alone, it
    // named a model nothing there attached (the server makes nothing of it), and the batch
    // of the later changes defined the model only by a later change (child moves, seed
    // 5700000727).
    let carried = []; // (a list of the batch's own: _carried grows on)
    if (this._carried.length) {
      const last = entries.reduce((most, entry) => Math.max(most, entry.made), 0);
      carried = this._carried.filter((entry) => entry.made < last);
      this._carried = this._carried.filter((entry) => entry.made >= last); // (kept, never dropped)
    }
    const seen = new Map();
    const references = [];
    const made = []; // (when each of references was made)
    // A model defined both by a change of the batch and by a carried definition is defined
    // as the one made first had it: the batch's changes of it made after that apply on top.
    // The batch's own may be the later (a model attached by a change of the batch, changed
    // by the next, taken out and put back by a change the server's value superseded: the
    // carried definition had the change, applied twice; child moves, seed 3591), or the
    // carried one (a model a splice attached, changed by the batch's next changes, then
    // attached again by one of them, the splice superseded by a whole value: the batch's
    // own definition had the changes, and deleting a tag was out of range; seed 5700000727).
    [...entries, ...carried].forEach((entry, index) => {
      if (entry.references.length) this._defining -= 1;
      for (const definition of entry.redefined.length ? [...entry.references, ...entry.redefined] : entry.references) {
        // The server refuses a model defined twice in one patch.
        const at = seen.get(definition.id);
        if (at === undefined) {
          seen.set(definition.id, references.length);
          references.push(definition);
          made.push(entry.made);
        } else if (index >= count && entry.made < made[at]) {
          // (a carried one, made first)
          references[at] = definition;
          made[at] = entry.made;
        }
      }
    });
    return {
      content: { events: entries.map((entry) => entry.json), references, base },
      buffers: [...carried, ...entries].flatMap((entry) => entry.buffers),
      base,
      entries,
      carried,
    };
  }

  /**
   * Send with each change the definitions of the models it puts back that the server let
   * go of (``_letGo``). Nothing on the server may hold such a model: a reference would name
   * nothing and lose. The server reads a definition of one the application still holds as
   * the reference (what changed while out follows either way). Not one an earlier change of
   * the batch took out: the server holds it while it reads the definitions.
   */
  _redefine(entries) {
    const letGo = this._letGo;
    const out = new Set();
    for (const entry of entries) {
      if (entry.redefine.length) entry.redefined = entry.redefine.filter((d) => letGo.has(d.id) && !out.has(d.id));
      for (const id of entry.departed) out.add(id);
    }
  }

  /** Whether a waiting change keeps definitions of this client's own models it puts back. */
  get redefining() {
    if (!this._own.size || !this._entries.length) return false; // (most often: nothing waits, or nothing of its own)
    return this._entries.some((entry) => entry.redefine.length);
  }

  /** The waiting changes keeping a definition of ``modelId`` (a put-back), with their places. */
  redefiningAt(modelId) {
    const found = [];
    this._entries.forEach((entry, index) => {
      if (entry.redefine.some((definition) => definition.id === modelId)) found.push([index, entry]);
    });
    return found;
  }

  /** Where ``entry`` stands among the waiting changes (-1: taken, in flight, before them all). */
  position(entry) {
    return this._entries.indexOf(entry);
  }

  /**
   * Bring the kept definitions of waiting put-backs (``redefine``) up to date with the
   * server's ``events``, just applied. Such a definition is the model's state when the
   * put-back was made; a server change of the model applied after it (a correction of a
   * change of it that lost) changes the model here, and the server, which makes the model
   * anew from the definition, would never see it (child moves in memory, seed 1414213825).
   * Each property the server changed is written again from the model, unless a waiting
   * change of it follows the put-back (it would apply twice): a whole value of the
   * server's superseded those (``supersede``).
   */
  refreshRedefined(events, atPutBacks = new Map()) {
    const waiting = this._entries;
    waiting.forEach((entry, index) => {
      if (!entry.redefine.length) return;
      const kept = new Map(entry.redefine.map((definition) => [definition.id, definition]));
      for (const event of events) {
        const key = event.propertyKey();
        const model = event.model ?? null;
        if (key === null || model === null || !kept.has(model.id)) continue;
        if (waiting.slice(index + 1).some((later) => later.key === key)) {
          // The model's value has those later changes: the server's splice goes into the
          // definition where it stood at the put-back (seed 3141594177).
          const at = atPutBacks.get(event)?.get(entry);
          if (at === undefined || !(event instanceof ListSplicedEvent)) continue;
          this._serial += 1;
          const encoder = new Encoder({ bufferPrefix: `c${this._serial}.` });
          const definition = kept.get(model.id);
          const attributes = { ...definition.attributes };
          const items = Array.isArray(attributes[event.attr]) ? [...attributes[event.attr]] : [];
          items.splice(at.index, at.delete, ...event.items.map((item) => encoder.encode(item)));
          attributes[event.attr] = items;
          kept.set(model.id, { ...definition, attributes });
          if (encoder.buffers.length) entry.buffers = [...entry.buffers, ...encoder.buffers.map(([id, bytes]) => [id, bytes.slice(0)])];
          continue;
        }
        this._serial += 1;
        const encoder = new Encoder({ bufferPrefix: `c${this._serial}.` });
        const definition = kept.get(model.id);
        const attributes = { ...definition.attributes };
        if (model.attributes.has(event.attr)) attributes[event.attr] = encoder.encode(model.attributes.get(event.attr));
        else delete attributes[event.attr];
        kept.set(model.id, { ...definition, attributes });
        if (encoder.buffers.length) entry.buffers = [...entry.buffers, ...encoder.buffers.map(([id, bytes]) => [id, bytes.slice(0)])];
      }
      entry.redefine = [...kept.values()];
    });
  }

  /**
   * Splice a server's ``items`` of list ``attr`` of ``modelId`` (wire JSON), skipped here,
   * into the definitions waiting put-backs keep. ``placed``: each put-back with the splice
   * where it stands there. The model was out of the document when the splice came (taken
   * out again by a later waiting change), so it does not have it; the server made the model
   * from the definition, and shifted this client's later splices of the list past the
   * server's: its next one was refused as out of range (child moves in memory, seed
   * 2869534871). The model's object, out, takes the splice where it stands now
   * (``ClientProtocol._spliceDeparted``, seed 2138669479).
   */
  spliceRedefined(modelId, attr, placed, items, buffers) {
    for (const [entry, at] of placed) {
      entry.redefine = entry.redefine.map((definition) => {
        if (definition.id !== modelId) return definition;
        const values = Object.hasOwn(definition.attributes, attr) ? definition.attributes[attr] : [];
        // (Not the list the splice was made on: the server's correction follows.)
        if (!Array.isArray(values) || at.index + at.delete > values.length) return definition;
        this._serial += 1;
        const taken = [];
        const spliced = [...values];
        spliced.splice(at.index, at.delete, ...rekeyed(items, buffers, `c${this._serial}.`, taken));
        if (taken.length) entry.buffers = [...entry.buffers, ...taken];
        return { ...definition, attributes: { ...definition.attributes, [attr]: spliced } };
      });
    }
  }

  /** Put a batch ``take`` returned back, first, as if it had not been taken. */
  restore(batch) {
    for (const entry of batch.entries) entry.redefined = [];
    this._entries = [...batch.entries, ...this._entries];
    this._carried = [...batch.carried, ...this._carried];
    this._defining += [...batch.entries, ...batch.carried].filter((entry) => entry.references.length).length;
  }

  /** Remove and return every waiting change (the document is being replaced). */
  drain() {
    const entries = this._entries;
    this._entries = [];
    this._carried = [];
    this._left.clear();
    this._own.clear();
    this._letGo.clear();
    this._defining = 0;
    return entries;
  }
}

/** A copy of wire JSON ``value`` whose binary values name buffers of their own (``prefix``), added to ``taken``. */
function rekeyed(value, buffers, prefix, taken) {
  if (Array.isArray(value)) return value.map((item) => rekeyed(item, buffers, prefix, taken));
  if (value === null || typeof value !== "object") return value;
  const copied = Object.fromEntries(Object.entries(value).map(([name, item]) => [name, rekeyed(item, buffers, prefix, taken)]));
  // (A typed value's, never a plain object's.)
  if (Object.hasOwn(value, "type") && typeof value.buffer === "string" && buffers.has(value.buffer)) {
    copied.buffer = `${prefix}${taken.length}`;
    taken.push([copied.buffer, buffers.get(value.buffer).slice(0)]);
  }
  return copied;
}

/**
 * A change for each attribute of ``model`` changed while it was out of the document, with
 * its value now. A value set while out and set back goes too, with the value the server
 * has: where the change that took the model out reached the server, it touched all of the
 * model, and another origin's change of it crossing the move loses anyway (protocol.md §9).
 */
function changesOut(model) {
  const names = model.changedOut();
  if (!names) return [];
  return names.map((attr) => new ModelChangedEvent(model, attr, undefined, model.get(attr)));
}
