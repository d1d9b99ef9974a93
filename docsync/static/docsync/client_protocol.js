/**
 * ClientProtocol: a client's side of a docsync session, sans I/O; the mirror of
 * docsync/sync/client.py.
 *
 * It owns what a client must get right to converge with the server, and nothing that
 * waits: the handshake (ACK, then PULL-DOC-REQ or RESUME-REQ), the last server position
 * applied (``lastSeq``), local changes encoded as they are made and sent one patch at a
 * time with the position they were made on (``base``), answers (OK, ERROR), resets
 * (PUSH-DOC), resumes (replay or full, ``fresh``), and changes made while offline, kept
 * with their base and sent after the resume.
 *
 * Data goes in through plain methods (connectionMade, receiveMessage, connectionLost,
 * flush, and the document's own change events); messages come out of messagesToSend()
 * and events out of eventsReceived(). connection.js moves messages between it and a
 * WebSocket; tests drive it in memory.
 */

import {
  DictItemsSetEvent, ListSplicedEvent, MessageSentEvent, ModelChangedEvent, RootAddedEvent, RootRemovedEvent,
  TitleChangedEvent, propertyKey,
} from "./events.js";
import { DeserializationError, PatchError, ProtocolError, ValidationError } from "./exceptions.js";
import { modelsIn } from "./model.js";
import { Outbox } from "./outbox.js";
import { Pacer } from "./pacing.js";
import {
  ACK, ERROR, PATCH_DOC, PULL_DOC_REPLY, PULL_DOC_REQ, PUSH_DOC, RESUME_REPLY, RESUME_REQ, newMessage, sendFault,
} from "./protocol.js";
import { redefined } from "./redefined.js";
import { Decoder } from "./serialization.js";
import { splice, transform } from "./splices.js";
import { applyEvents } from "./patching.js";
import { DecodedPatch, decodePatch } from "./wire.js";

/** The msg_type of the notices a server sends to be shown to the user. */
export const NOTICE = "docsync.notice";

/** Where a client protocol is in a connection's life. */
export const ClientState = Object.freeze({
  IDLE: "idle", // no connection (before the first, or after one was lost)
  CONNECTING: "connecting", // connected, waiting for the server's ACK
  SYNCING: "syncing", // waiting for the PULL-DOC-REPLY or RESUME-REPLY
  LIVE: "live",
  CLOSED: "closed", // for good
});

const TRANSITIONS = {
  idle: ["connecting", "closed"],
  connecting: ["syncing", "idle", "closed"],
  syncing: ["live", "idle", "closed"],
  live: ["syncing", "idle", "closed"],
  closed: [],
};

// What the document may throw at a patch or a document JSON that does not fit it.
function refused(err) {
  return err instanceof PatchError || err instanceof DeserializationError || err instanceof ValidationError
    || err instanceof TypeError || err instanceof RangeError;
}

function label(model) {
  const name = model.get("name");
  return typeof name === "string" && name ? name : model.type;
}

/** Name what ``event`` changed, for a notice: "phase.value", "title", "roots". */
export function describeChange(event) {
  if (event instanceof TitleChangedEvent) return "title";
  if (event instanceof RootAddedEvent || event instanceof RootRemovedEvent) return "roots";
  if (event instanceof MessageSentEvent) return `message ${event.msgType}`;
  return event.model ? `${label(event.model)}.${event.attr}` : event.kind;
}

// The requests the server counts in a bucket of their own (DOCUMENT_REQUESTS_PER_SECOND).
const OWN_BUCKET = new Set([PULL_DOC_REQ, RESUME_REQ, PUSH_DOC]);
/** At most this many model ids kept as missed (beyond, a correction keeps the copy held, as before). */
const MISSED_LIMIT = 10_000;

/** The longest ERROR detail (a server's traceback) an error event carries. */
export const MAX_DETAIL_CHARS = 20_000;

/**
 * Keep ``document`` in sync with one server session; no I/O. ``options``: clientId (1 to
 * 64 characters, the same on every connection), setter (what server changes are applied
 * as; the protocol itself by default), maxArrayElements, sendLimits (the server's limits
 * on what it receives, as ``sendFault`` takes them; null: none checked),
 * maxMessagesPerSecond (the server's MAX_PATCHES_PER_SECOND, which messagesToSend keeps
 * to: a message over it waits, sendDelay says how long, and changes made meanwhile go in
 * the next patch together; null: no pacing) and clock (milliseconds, for that pacing).
 *
 * Events (plain objects with a ``type``): {type: "live", mode: "pull" | "replay" | "full",
 * seq, fresh, replayed}; {type: "reset", seq}; {type: "changes-lost", reason: "rejected" |
 * "refused" | "reset" | "resync" | "too-large", changes: [names], count, text (the server's,
 * when refused; the limit, when too large to send)};
 * {type: "error", text, code,
 * reqid, msgtype, and detail when the ERROR has one: a traceback, sent only while the
 * site runs with Django's DEBUG on}; {type: "reply", message} (to a request of the adapter's own).
 */
/**
 * The events of a server patch that change a model it defines before an event attaches
 * it. The server sends only changes of models its document holds, so such a model was
 * held there: a correction later in the patch (the value of a list it is in) defines it
 * as the position left it, those changes included (protocol.md §9). A receiver that holds
 * the model keeps its own and ignores the definition; one that does not (it took the model
 * out, its change unanswered) makes it from the definition, and applying them to it again
 * put a tag in a list twice (the mirror of client.py's _before_attached; convergence over
 * a real server, child moves, seed 3422791825). Read before this client skips any event:
 * where it skips the one attaching the model (a splice of a list left stale), the
 * definition is still as of that event, and the changes after it, left out as made before
 * the correction attaching it here, were lost (child moves in memory, seed 2276682393).
 */
function beforeAttached(events, defined) {
  const fresh = new Set(defined.values());
  const attached = new Set();
  const early = new Set();
  for (const event of events) {
    let values;
    if (event instanceof RootAddedEvent) {
      values = [event.model];
    } else {
      const target = event.model ?? null;
      if (target !== null && fresh.has(target) && !attached.has(target)) {
        early.add(event); // in its definition already
        continue;
      }
      if (event instanceof ModelChangedEvent) values = [...modelsIn(event.new)];
      else if (event instanceof ListSplicedEvent || event instanceof DictItemsSetEvent) values = [...modelsIn(event.items)];
      else values = [];
    }
    while (values.length > 0) { // what the event attaches: the models it names, and those they reach
      const model = values.pop();
      if (fresh.has(model) && !attached.has(model)) {
        attached.add(model);
        values.push(...model.references());
      }
    }
  }
  return early;
}

export class ClientProtocol {
  constructor(document, {
    clientId, setter = null, maxArrayElements = 100_000_000, sendLimits = null, maxMessagesPerSecond = null, clock = undefined,
  } = {}) {
    if (typeof clientId !== "string" || clientId.length < 1 || clientId.length > 64) {
      throw new RangeError(`clientId must be a string of 1 to 64 characters, got ${String(clientId).slice(0, 80)}`);
    }
    this.document = document;
    this.clientId = clientId;
    this.setter = setter ?? this;
    this.maxArrayElements = maxArrayElements;
    this.sendLimits = sendLimits;
    this._state = ClientState.IDLE;
    /** The last server position applied to the document (null before the first pull). */
    this.lastSeq = null;
    /** Which session the document belongs to (changes if the server made it again). */
    this.incarnation = null;
    // A model in the document, or out of it and held elsewhere (the page, a waiting change).
    this.outbox = new Outbox({ alive: (id) => document.modelHeld(id) });
    /** The patch sent and not answered yet: {message, entries}, or null. */
    this.inFlight = null;
    this._handshake = null; // the msgid of the PULL-DOC-REQ or RESUME-REQ being answered
    this._broken = false; // a server patch could not be read while syncing: pull once live
    // A pull (resync) was asked and not answered: the document holds changes reported lost,
    // which only the server's document undoes. A connection lost before the reply asks
    // for it again, not for a resume from lastSeq.
    this._pullOwed = false;
    // The position of what the server sends after an answer (the changes the patch caused
    // at its own position), while it has not arrived.
    this._reactionSeq = 0;
    // Lists whose local splices lost to a server splice they conflict with: the server's
    // whole value of each is coming, and its splices are skipped until then.
    this._stale = new Set();
    // Models whose server changes were skipped while this client had them out (its change
    // unanswered): a correction's definition of one it holds again is taken (redefined.js).
    this._missed = new Set();
    // Per server patch: a server splice of a list a waiting put-back defines, where that
    // put-back stands among this client's pending changes (``Outbox.refreshRedefined``).
    this._atPutBacks = new Map();
    this._toSend = [];
    // The server closes a connection sending faster than its MAX_PATCHES_PER_SECOND (4029).
    this._pacer = maxMessagesPerSecond === null ? null : new Pacer(maxMessagesPerSecond, clock);
    this._events = [];
    this._stopWatching = null;
    this._watch();
  }

  // -- state ------------------------------------------------------------------------------

  /** Where this protocol is in a connection's life (a ClientState value). */
  get state() {
    return this._state;
  }

  _setState(state) {
    if (!TRANSITIONS[this._state].includes(state)) throw new ProtocolError(`cannot go from ${this._state} to ${state}`);
    this._state = state;
  }

  /**
   * Tell whether the document is live with no local change in flight or waiting, and what
   * the server did in reaction to the last one has arrived.
   */
  get settled() {
    if (this._state !== ClientState.LIVE || this.inFlight !== null || this.outbox.size !== 0) return false;
    return (this.lastSeq ?? 0) >= this._reactionSeq;
  }

  // -- out --------------------------------------------------------------------------------

  /**
   * Return (and forget) the messages to write to the socket now, in order. Those past the
   * server's rate wait (sendDelay), and those after them.
   */
  messagesToSend() {
    const pacer = this._pacer;
    if (pacer === null) {
      const messages = this._toSend;
      this._toSend = [];
      return messages;
    }
    let ready = 0;
    for (const message of this._toSend) {
      // PULL-DOC-REQ, RESUME-REQ and PUSH-DOC have a bucket of their own, of 10 per
      // second, that one pull or resume per connection stays far under.
      if (!OWN_BUCKET.has(message.msgtype) && !pacer.take()) break;
      ready += 1;
    }
    const messages = this._toSend.slice(0, ready);
    this._toSend = this._toSend.slice(ready);
    return messages;
  }

  /**
   * Return in how many milliseconds a message waiting for the server's rate may go (null:
   * none waits). The adapter then calls flush and messagesToSend again.
   */
  sendDelay() {
    const pacer = this._pacer;
    if (pacer === null) return null;
    if (this._toSend.length > 0
      || (this._state === ClientState.LIVE && this.inFlight === null && this.outbox.size > 0 && !pacer.ready())) {
      return pacer.delay();
    }
    return null;
  }

  /** Return (and forget) what happened since the last call, in order. */
  eventsReceived() {
    const events = this._events;
    this._events = [];
    return events;
  }

  /**
   * Queue a request of the adapter's own; its reply comes back as a "reply" event. Local
   * changes made before it and waiting for the server's rate go before it, in a patch of
   * their own: a request after changes (a barrier) does not overtake them.
   */
  send(message) {
    if (this._state !== ClientState.LIVE) throw new ProtocolError(`cannot send ${message.msgtype} while ${this._state}`);
    if (this._pacer !== null) this._flushNow();
    this._toSend.push(message);
  }

  // -- the connection ---------------------------------------------------------------------

  /** A new connection is open: wait for the server's ACK. */
  connectionMade() {
    this._setState(ClientState.CONNECTING);
    this._pacer?.reset(); // the server's bucket for the connection is full
  }

  /** The connection is gone: what is in flight is sent again after the next resume. */
  connectionLost() {
    if (this._state === ClientState.CLOSED) return;
    this._handshake = null;
    this._toSend = [];
    if (this._state !== ClientState.IDLE) this._setState(ClientState.IDLE);
  }

  /** Stop for good: nothing more is sent. */
  close() {
    this._unwatch();
    this._toSend = [];
    this._state = ClientState.CLOSED;
  }

  // -- in ---------------------------------------------------------------------------------

  /** Handle one message from the server. */
  receiveMessage(message) {
    if (this._state === ClientState.IDLE || this._state === ClientState.CLOSED) {
      throw new ProtocolError(`cannot receive ${message.msgtype} while ${this._state}`);
    }
    const { msgtype, reqid } = message;
    if (msgtype === ERROR) {
      const { text = "", code = null, detail = null } = message.content;
      const event = { type: "error", text: String(text), code, reqid, msgtype: this._asked(reqid) };
      // A traceback (DEBUG only): without it a developer saw "ZeroDivisionError" and nothing of where.
      if (typeof detail === "string" && detail !== "") event.detail = detail.slice(0, MAX_DETAIL_CHARS);
      this._events.push(event);
    }
    if (this._state === ClientState.CONNECTING) {
      if (msgtype === ACK) this._startSync(this.lastSeq !== null && !this._pullOwed);
      return;
    }
    if (reqid !== null && reqid === this._handshake) {
      this._handshake = null;
      if (msgtype === PULL_DOC_REPLY) this._pulled(message);
      else if (msgtype === RESUME_REPLY) this._resumed(message);
      // An ERROR to the handshake leaves the protocol syncing: the server closes.
      return;
    }
    if (this.inFlight !== null && reqid === this.inFlight.message.msgid) this._answered(message);
    else if (reqid !== null) this._events.push({ type: "reply", message });
    else if (msgtype === PATCH_DOC) {
      if (this._state === ClientState.LIVE) this._serverPatch(message.content, message.bufferMap());
    } else if (msgtype === PUSH_DOC && this._state === ClientState.LIVE) this._reset(message);
  }

  /** Return the type of the request of this protocol's own that ``reqid`` names, if any. */
  _asked(reqid) {
    if (reqid !== null && this.inFlight !== null && reqid === this.inFlight.message.msgid) return PATCH_DOC;
    if (reqid !== null && reqid === this._handshake) {
      return this.lastSeq !== null && !this._pullOwed ? RESUME_REQ : PULL_DOC_REQ;
    }
    return null;
  }

  _startSync(resume) {
    let request;
    if (resume) {
      const content = { last_seq: this.lastSeq, client_id: this.clientId };
      if (this.incarnation !== null) content.incarnation = this.incarnation;
      // The server answers it in the reply if it saw it, by position.
      if (this.inFlight !== null) content.pending = [this.inFlight.message.msgid];
      request = newMessage(RESUME_REQ, content);
    } else {
      request = newMessage(PULL_DOC_REQ, { client_id: this.clientId });
    }
    this._handshake = request.msgid;
    this._setState(ClientState.SYNCING);
    this._toSend.push(request);
  }

  /** Pull the whole document again on this connection (after something went wrong). */
  resync() {
    if (this._state !== ClientState.LIVE) return;
    this._lose(this.outbox.drain(), "resync", null);
    this._pullOwed = true;
    this._startSync(false);
  }

  // -- handshake replies ------------------------------------------------------------------

  _pulled(reply) {
    const { doc, seq = 0, incarnation } = reply.content;
    if (!this._replace(doc, reply.bufferMap(), seq)) return;
    this._pullOwed = false;
    if (incarnation !== undefined) this.incarnation = incarnation;
    this._goLive({ type: "live", mode: "pull", seq: this.lastSeq, fresh: false, replayed: 0 });
  }

  _resumed(reply) {
    const content = reply.content;
    if (content.incarnation !== undefined) this.incarnation = content.incarnation;
    const seq = Number.isInteger(content.seq) ? content.seq : null;
    let answer = this._answerIn(content);
    if (content.mode === "full") {
      if (!this._replace(content.doc, reply.bufferMap(), seq ?? 0)) return;
      if (answer !== null) this._settle(answer);
      this._goLive({ type: "live", mode: "full", seq: this.lastSeq, fresh: Boolean(content.fresh), replayed: 0 });
      return;
    }
    const buffers = reply.bufferMap();
    const patches = Array.isArray(content.patches) ? content.patches : [];
    for (const patch of patches) {
      // The patch in flight took its place before this one: it is in the state the patch
      // was made on, and no longer shifts what follows.
      if (answer !== null && Number.isInteger(patch?.seq) && patch.seq >= (answer.seq ?? 0)) {
        this._settle(answer);
        answer = null;
      }
      this._serverPatch(patch, buffers);
    }
    if (answer !== null) this._settle(answer);
    if (seq !== null) this.lastSeq = Math.max(this.lastSeq ?? 0, seq);
    this._goLive({ type: "live", mode: "replay", seq: this.lastSeq, fresh: false, replayed: patches.length });
  }

  /** The answer a RESUME-REPLY carries to the patch in flight, if any. */
  _answerIn(content) {
    if (this.inFlight === null || !Array.isArray(content.answers)) return null;
    const msgid = this.inFlight.message.msgid;
    return content.answers.find((a) => a !== null && typeof a === "object" && a.msgid === msgid) ?? null;
  }

  _goLive(event) {
    this._setState(ClientState.LIVE);
    this._events.push(event);
    if (this._broken) {
      this._broken = false;
      this.resync();
      return;
    }
    // Unanswered: sent again, once, with its msgid (the server knows it by that).
    if (this.inFlight !== null) this._toSend.push(this.inFlight.message);
    else this.flush();
  }

  /** Replace the document with the server's; false (reported) if it cannot be read. */
  _replace(doc, buffers, seq) {
    try {
      this.document.replaceWithJSON(doc, buffers, { setter: this.setter, maxArrayElements: this.maxArrayElements });
    } catch (err) {
      if (!refused(err)) throw err;
      this._events.push({ type: "error", text: `cannot read the server's document: ${err.message}`, code: "bad-document", reqid: null, msgtype: null });
      return false;
    }
    this.outbox.held(this.document.models.keys()); // the server holds what it sent, and nothing else of ours
    this.lastSeq = seq;
    this._reactionSeq = 0; // the document replaced holds whatever came before it
    // What is pending was made on the document replaced: the server judges it (it loses
    // to the fence), and server splices are no longer shifted past it.
    this._stale.clear();
    this._missed.clear();
    for (const entry of [...(this.inFlight?.entries ?? []), ...this.outbox.entries]) entry.doomed = true;
    return true;
  }

  // -- patches and answers ----------------------------------------------------------------

  _serverPatch(content, buffers) {
    const seq = content?.seq;
    if (Number.isInteger(seq) && this.lastSeq !== null && seq <= this.lastSeq) return; // already in the document
    let decoded;
    try {
      // keepKnown: a correction defines the models its value reaches, held or not.
      // reuseDeparted: one object per id, a model the page still holds (taken out, say)
      // defined anew is that object, with the server's values (protocol.md §9).
      // A model the server attaches by reference that this client took out (its change
      // unanswered) is the object the page holds out, with the page's values: noted as
      // missed, so that the correction that follows (of the place the server put it, once
      // this client's change of it arrives) lays the server's values over it (§9).
      const revived = (modelId) => { if (this._missed.size < MISSED_LIMIT) this._missed.add(modelId); };
      decoded = this.document.decodePatch(content, buffers, { setter: this.setter, maxArrayElements: this.maxArrayElements, skipUnknown: true, keepKnown: true, reuseDeparted: true, revived });
    } catch (err) {
      if (!refused(err)) throw err;
      this._events.push({ type: "error", text: `cannot apply the server's patch: ${err.message}`, code: "bad-patch", reqid: null, msgtype: null });
      if (this._state === ClientState.LIVE) this.resync();
      else this._broken = true;
      return;
    }
    if (this._stale.size > 0 && decoded.newModels.size > 0) {
      // A model defined anew comes with the server's whole value of each property: a list
      // of it left stale (its correction never came: the model had left this client's
      // document) is stale no more (child moves in memory, seed 4000001329).
      for (const key of [...this._stale]) if (decoded.newModels.has(JSON.parse(key)[0])) this._stale.delete(key);
    }
    // A put-back of its own model the server came to hold since (an answer) keeps its
    // definition aside (redefine) from now, where the server's changes of the model reach it
    // (refreshRedefined): left among the definitions to send until the patch went, it was
    // sent without them (child moves in memory, seed 700001151).
    if (this.outbox.size > 0) this.outbox.referToHeld();
    // (Rare: most patches define no model.) Judged on the patch's events as sent, before this
    // client skips any: a definition is the model's state as of the event of the patch that
    // attached it, skipped here or not (beforeAttached).
    const early = decoded.newModels.size > 0 ? beforeAttached(decoded.events, decoded.newModels) : null;
    const laid = [];
    if (Array.isArray(content.references) && content.references.length > 0 && (this.inFlight !== null || this.outbox.size > 0 || this._stale.size > 0 || this._missed.size > 0)) {
      // A model its changes kept held may come defined anew (redefined.js); and one whose
      // server changes it skipped while out takes a correction's definition, its own change
      // of it answered or not (the correction of a list the server's move attached it to
      // follows that answer).
      decoded.events = redefined(decoded.events, content.references, this.document._models, decoded.newModels, buffers instanceof Map ? buffers : new Map(buffers ?? []), { setter: this.setter, maxArrayElements: this.maxArrayElements, missed: this._missed, serverHeld: () => this._serverHeld(), laid });
    }
    // (Rare: a correction's definition laid over a model whose server changes were skipped.)
    const over = laid.length > 0 ? new Set(laid) : null;
    decoded.events = decoded.events.filter((event) => this._reconcile(event, over !== null && over.has(event)));
    // (Rare: events of models this client took out, or that left.)
    if (decoded.skipped > 0 && (this.inFlight !== null || this.outbox.size > 0)) this._reconcileSkipped(content.events, decoded.newModels, buffers instanceof Map ? buffers : new Map(buffers ?? []));
    if (early !== null && early.size > 0) decoded.events = decoded.events.filter((event) => !early.has(event));
    this._apply(decoded);
    // (Rare: most patches define no model.)
    if (decoded.newModels.size > 0 && (this._missed.size > 0 || this.inFlight !== null || this.outbox.size > 0 || this._stale.size > 0)) this._noteDefined(decoded.newModels);
    if (this.outbox.redefining) this.outbox.refreshRedefined(decoded.events, this._atPutBacks); // (rare: a put-back of its own model waits)
    this._atPutBacks.clear();
    if (decoded.newModels.size > 0 && (this.inFlight !== null || this.outbox.size > 0)) this._pendingOnDefined(decoded.newModels);
    // The definition laid over is the server's state before this client's unanswered changes
    // of the model, which the server applies after it (child moves in memory, seed 948609809:
    // its own label, in flight, was taken as lost to the definition). Only those of the
    // properties it changed: the others kept this client's changes.
    if (laid.length > 0) this._pendingOnDefined(new Map(laid.map((event) => [event.model.id, event.model])), new Set(laid.map((event) => event.propertyKey())));
    if (Number.isInteger(seq)) this.lastSeq = seq;
    // (Nothing of its own held back: the server's patches reach all it holds.)
    if (this.inFlight === null && this.outbox.size === 0 && this._stale.size === 0) this._missed.clear();
  }

  /**
   * Note whether the models a server patch defined have its changes of them here (_missed).
   * One made from the definition and attached has every server change of it: a later
   * correction's definition is not laid over it (that undid the client's own unanswered
   * splice of its list, which the server went on to take: child moves in memory, seed
   * 65477341). One no event of the patch attached here (the event was skipped: a splice of
   * a list left stale, say) lost the definition and the patch's changes of it with it:
   * where the client holds the model again (its own put-back of the object it had taken
   * out), a correction's definition of it is laid over it (redefined.js), as for a model
   * whose server changes it skipped (seed 3907741231).
   */
  _noteDefined(defined) {
    for (const [modelId, model] of defined) {
      if (this.document._models.get(modelId) === model) this._missed.delete(modelId);
      else if (this._missed.size < MISSED_LIMIT) this._missed.add(modelId);
    }
  }

  /**
   * The ids of the models this client holds where the server holds them too, as far as it
   * can tell: those its document reaches from a root no unanswered change of its own added,
   * through no list left stale (its server splices skipped) and past no model an unanswered
   * change of its own put in. A server patch defining one of them defines it in a
   * correction, as the correction left it, not as a model made anew (redefined.js).
   */
  _serverHeld() {
    const put = new Map();
    const rooted = new Set();
    for (const entry of [...(this.inFlight?.entries ?? []), ...this.outbox.entries]) {
      const event = entry.event;
      if (event instanceof RootAddedEvent) rooted.add(event.model.id);
      else if (entry.key !== null && (event instanceof ModelChangedEvent || event instanceof ListSplicedEvent || event instanceof DictItemsSetEvent)) {
        if (!put.has(entry.key)) put.set(entry.key, new Set());
        for (const model of modelsIn(event instanceof ModelChangedEvent ? event.new : event.items)) put.get(entry.key).add(model.id);
      }
    }
    const held = new Set();
    const stack = this.document.roots.filter((root) => !rooted.has(root.id));
    while (stack.length > 0) {
      const model = stack.pop();
      if (held.has(model.id)) continue;
      held.add(model.id);
      for (const [attr, value] of model.attributes) {
        const key = propertyKey(model.id, attr);
        if (this._stale.has(key)) continue;
        const mine = put.get(key);
        for (const reached of modelsIn(value)) if (mine === undefined || !mine.has(reached.id)) stack.push(reached);
      }
    }
    return held;
  }

  /**
   * Make this client's unanswered changes of a model the server's patch defined anew hold
   * on it. A model this client does not hold (it took it out, say, its change of it still
   * unanswered) can come back defined by a server's patch (a correction of the list it
   * was in) with the server's values, which do not have this client's changes yet: the
   * server applies them after. They are applied to the model defined, as the server's
   * (not sent again): the client took the definition's values, and its changes, which the
   * server went on to take, were seen nowhere in its document. ``keys``: only the changes
   * of those properties (the ones a definition laid over a held model changed).
   */
  _pendingOnDefined(defined, keys = null) {
    for (const entry of [...(this.inFlight?.entries ?? []), ...this.outbox.entries]) {
      const event = entry.event;
      const target = event.model ?? null;
      if (entry.doomed || target === null || entry.key === null || (keys !== null && !keys.has(entry.key))) continue;
      const model = defined.get(target.id);
      // (``model`` may be ``target`` itself: held by the page, defined anew in place.)
      if (model === undefined || model.document !== this.document) continue;
      const again = Object.assign(Object.create(Object.getPrototypeOf(event)), event, { model });
      if (again instanceof ListSplicedEvent && entry.splice !== null) {
        again.index = entry.splice.index;
        again.delete = entry.splice.delete;
      } else if (again instanceof ModelChangedEvent && modelsIn(event.new).next().done) {
        // The value as it was set, from the change's wire form: the event's holds the list
        // the model went on to hold, which this client's later splices of it changed in
        // place, and which those, applied after, would change again (child moves in memory,
        // seed 3192555471: a tag twice, then a splice out of range).
        try {
          again.new = new Decoder(new Map(entry.buffers ?? [])).decode(entry.json.new);
        } catch (err) {
          if (err instanceof DeserializationError) continue;
          throw err;
        }
      }
      try {
        this.document.applyPatch(new DecodedPatch([again], new Map()), undefined, { setter: this.setter });
      } catch (err) {
        if (!refused(err)) throw err; // (it does not fit the server's value: it loses there, and that value follows)
      }
    }
  }

  /** This client's changes of ``key`` not answered yet and not known to lose, in order. */
  _pending(key) {
    const entries = [...(this.inFlight?.entries ?? []), ...this.outbox.entries];
    return entries.filter((entry) => entry.key === key && !entry.doomed);
  }

  _doom(key) {
    for (const entry of this._pending(key)) entry.doomed = true;
  }

  /**
   * Fit a server event to this client's unanswered changes; false to skip it. The server
   * applied it before them. A whole value wins over them: what waits is dropped (the
   * user is told), what is in flight will lose. A splice is shifted past the local
   * splices of its list, as the server shifts those past it; where they really touch the
   * same items (or a local whole value of the list is pending), the local changes lose,
   * the server's value of the whole list follows, and until then the server's splices of
   * that list are skipped. ``defining``: the event lays a correction's definition over a
   * model whose server changes this client skipped: the server's state before this client's
   * changes of it, which it does not supersede.
   */
  _reconcile(event, defining = false) {
    const key = event.propertyKey();
    if (key === null) return true;
    if (event instanceof ModelChangedEvent) {
      this._stale.delete(key);
      if (defining) return true;
      this._lose(this.outbox.supersede(key), "rejected", null);
      this._doom(key);
      return true;
    }
    if (!(event instanceof ListSplicedEvent)) return true;
    if (this._stale.has(key)) return false;
    let incoming = splice(event.index, event.delete, event.items.length);
    const shifted = [];
    // (Rare: a waiting put-back defines this list's model: note the splice where it stands.)
    const putBacks = this.outbox.redefining ? this.outbox.redefiningAt(event.model.id) : [];
    const at = new Map();
    for (const entry of this._pending(key)) {
      while (putBacks.length && putBacks[0][0] < this.outbox.position(entry)) at.set(putBacks.shift()[1], incoming);
      const result = entry.splice === null ? null : transform(incoming, entry.splice);
      if (result === null) {
        this._stale.add(key);
        this._doom(key);
        return false;
      }
      incoming = result[0];
      shifted.push([entry, result[1]]);
    }
    for (const [entry, mine] of shifted) entry.splice = mine;
    for (const [, putBack] of putBacks) at.set(putBack, incoming);
    if (at.size) this._atPutBacks.set(event, at);
    event.index = incoming.index;
    event.delete = incoming.delete;
    return true;
  }

  /**
   * Fit this client's unanswered changes to the server's events skipped as naming a model
   * it does not hold. A model this client took out (its change unanswered) is not held
   * here, so the server's changes of it are skipped; its pending splices of the model's
   * lists are still shifted past the server's splices, and lose to its whole values, as
   * ``_reconcile`` does for a model held. The model may come back defined by a server
   * patch (a correction: ``_pendingOnDefined``), where a splice left unshifted took out
   * the wrong item (child moves in memory, seed 1414213735). A waiting put-back of its own
   * model keeping a definition (taken out again since, by a waiting change) takes the
   * server's splice where it stands at the put-back: the server makes the model from that
   * definition and shifts this client's later splices of the list past the splice, which,
   * left out, made its next splice out of range (seed 2869534871). The model's object the
   * page holds out takes it where it stands now (``_spliceDeparted``).
   */
  _reconcileSkipped(raws, defined, buffers) {
    const held = this.document.models;
    const outbox = this.outbox;
    for (const raw of raws) {
      if (raw === null || typeof raw !== "object") continue;
      const ref = raw.model;
      if (ref === null || typeof ref !== "object" || typeof ref.id !== "string" || typeof raw.attr !== "string") continue;
      if (held.has(ref.id) || defined.has(ref.id)) continue; // (skipped for a model its value names, if at all: not this one's)
      if (this._missed.size < MISSED_LIMIT) this._missed.add(ref.id);
      const key = propertyKey(ref.id, raw.attr);
      const pending = this._pending(key);
      // (Rare: a waiting put-back keeps a definition of the model.)
      let putBacks = raw.kind === "ListSpliced" && outbox.redefining ? outbox.redefiningAt(ref.id) : [];
      if (!pending.length && !putBacks.length) {
        // (Its object, held out by the page, takes it.)
        if (raw.kind === "ListSpliced") this._spliceDeparted(ref.id, raw, null, buffers);
        else this._changeDeparted(ref.id, raw, buffers);
        continue;
      }
      if (raw.kind === "ModelChanged") {
        this._doom(key);
        this._changeDeparted(ref.id, raw, buffers); // (the server's value wins, as over a model held)
      } else if (raw.kind !== "ListSpliced") {
        this._changeDeparted(ref.id, raw, buffers);
      } else {
        if (!Number.isInteger(raw.index) || !Number.isInteger(raw.delete) || !Array.isArray(raw.items)) {
          this._doom(key);
          continue;
        }
        let incoming = splice(raw.index, raw.delete, raw.items.length);
        const shifted = [];
        const placed = []; // (a put-back, the splice where it stands there)
        let conflict = false;
        for (const entry of pending) {
          while (putBacks.length && putBacks[0][0] < outbox.position(entry)) placed.push([putBacks.shift()[1], incoming]);
          const result = entry.splice === null ? null : transform(incoming, entry.splice);
          if (result === null) {
            conflict = true;
            break;
          }
          incoming = result[0];
          shifted.push([entry, result[1]]);
        }
        if (conflict) {
          this._doom(key); // (the put-backs after it: their later splices lose, corrected)
          putBacks = [];
        } else {
          for (const [entry, mine] of shifted) entry.splice = mine;
          this._spliceDeparted(ref.id, raw, incoming, buffers);
        }
        for (const [, putBack] of putBacks) placed.push([putBack, incoming]);
        if (placed.length) outbox.spliceRedefined(ref.id, raw.attr, placed, raw.items, buffers);
      }
    }
  }

  /**
   * Apply a server's splice ``raw`` of a list of model ``modelId``, skipped (the model out
   * of the document), to the model's object the page holds out. One object per id: it is
   * what a put-back attaches, and what this client's later splices of its lists are made
   * on. Without the server's splice, a later splice (based after it, so not shifted past it
   * by the server) deleted items its maker had not meant to where the server held the
   * model still (the removal lost: child moves in memory, seed 2138669479). ``at``: the
   * splice shifted past this client's unanswered splices of the list (null: it has none).
   * A list of models, or one with a change of this client's known to lose (the server's
   * value follows), is left as it is.
   */
  _spliceDeparted(modelId, raw, at, buffers) {
    const model = this.document.departedModel(modelId);
    if (model === null) return;
    if (!Number.isInteger(raw.index) || !Number.isInteger(raw.delete) || !Array.isArray(raw.items)) return;
    const key = propertyKey(modelId, raw.attr);
    const entries = [...(this.inFlight?.entries ?? []), ...this.outbox.entries];
    if (entries.some((entry) => entry.key === key && entry.doomed)) return;
    const list = model.get(raw.attr);
    const where = at ?? splice(raw.index, raw.delete, raw.items.length);
    if (!Array.isArray(list) || where.index < 0 || where.delete < 0 || where.index + where.delete > list.length) return;
    if (!modelsIn(list).next().done) return; // (a reference among the items: the decoder refuses it)
    let items;
    try {
      items = new Decoder(buffers).decode(raw.items);
    } catch (err) {
      if (err instanceof DeserializationError) return;
      throw err;
    }
    model.spliceOut(raw.attr, where.index, where.delete, items, this.setter);
  }

  /**
   * Apply a server's change ``raw`` of model ``modelId`` other than a splice, skipped (the
   * model out of the document), to the model's object the page holds out. One object per
   * id, as for a splice (``_spliceDeparted``): where no correction follows, that object is
   * what the document holds again. A server's whole value of the list this client took the
   * model out of supersedes that removal, waiting (it is never sent, so nothing is
   * corrected), and attaches the object where the server holds the model: without the
   * server's changes skipped while it was out, it kept a ``counts`` item another client had
   * deleted, and this client's later deletion of it was refused (child moves in memory,
   * seed 6500002493). A value holding models is left as it is, and so is one with a change
   * of this client's known to lose (its server value follows) but for a whole value.
   */
  _changeDeparted(modelId, raw, buffers) {
    const model = this.document.departedModel(modelId);
    if (model === null) return;
    const key = propertyKey(modelId, raw.attr);
    if (raw.kind !== "ModelChanged") {
      const entries = [...(this.inFlight?.entries ?? []), ...this.outbox.entries];
      if (entries.some((entry) => entry.key === key && entry.doomed)) return;
    }
    if (!modelsIn(model.get(raw.attr)).next().done) return; // (a value holding models)
    let decoded;
    try {
      decoded = decodePatch({ events: [raw] }, new Map([[modelId, model]]), buffers, { setter: this.setter, maxArrayElements: this.maxArrayElements, skipUnknown: true });
    } catch (err) {
      if (err instanceof DeserializationError || refused(err)) return;
      throw err;
    }
    if (decoded.events.length !== 1) return;
    const [event] = decoded.events;
    if ("new" in event && !modelsIn(event.new).next().done) return;
    try {
      model.changeOut(raw.attr, () => applyEvents(this.document, decoded.events, { setter: this.setter, newModels: new Map([[modelId, model]]) }));
    } catch (err) {
      if (!refused(err)) throw err; // (it does not fit: its correction follows)
    }
  }

  _apply(decoded) {
    try {
      this.document.applyPatch(decoded, undefined, { setter: this.setter });
      return;
    } catch (err) {
      if (!refused(err)) throw err;
    }
    // An event that does not fit conflicts with a local change not answered yet (or one
    // that lost): that change loses, and the winning value follows.
    for (const event of decoded.events) {
      try {
        this.document.applyPatch(new DecodedPatch([event], decoded.newModels), undefined, { setter: this.setter });
      } catch (err) {
        if (!refused(err)) throw err;
      }
    }
  }

  _answered(reply) {
    if (reply.msgtype === ERROR) {
      this._settle({ error: reply.content.text ?? "" });
    } else {
      // Every change up to ``seq`` meant for this client was sent before the OK.
      const { seq, applied_seq: applied } = reply.content;
      if (Number.isInteger(seq)) {
        this.lastSeq = Math.max(this.lastSeq ?? 0, seq);
        if (Number.isInteger(applied) && applied > seq) this._reactionSeq = Math.max(this._reactionSeq, applied); // it follows the OK
      }
      this._settle(reply.content);
    }
    this.flush();
  }

  /** The patch in flight was answered (``answer``: an OK's content, or {error: text}). */
  _settle(answer) {
    const { entries } = this.inFlight;
    this.inFlight = null;
    if (Object.hasOwn(answer, "error")) {
      this._lose(entries, "refused", null, null, String(answer.error));
      return;
    }
    const { rejected = 0, lost } = answer;
    let taken = entries;
    if (Number.isInteger(rejected) && rejected > 0) {
      this._lose(entries, "rejected", lost, rejected);
      // (Some lost, the server did not say which: what they defined is not known to be held.)
      if (!Array.isArray(lost)) return;
      taken = entries.filter((entry, i) => !lost.includes(i));
    }
    if (this._stale.size > 0) {
      // A model its taken change defined (its own put back, say) the server made from the
      // definition: each list of it is the definition's whole value there, a list left
      // stale here (its correction skipped, the model out) stale no more (child moves in
      // memory, seed 5700004569: the server's later splices of it skipped for good).
      const defined = new Set();
      for (const entry of taken) {
        for (const definition of entry.references) defined.add(definition.id);
        for (const definition of entry.redefined) defined.add(definition.id);
      }
      if (defined.size > 0) {
        for (const key of [...this._stale]) if (defined.has(JSON.parse(key)[0])) this._stale.delete(key);
      }
    }
    // The server holds what the changes it took defined, and let go of this client's own
    // models they took out (Outbox.settle).
    this.outbox.settle(taken);
  }

  _lose(entries, reason, which, count = null, text = null) {
    if (entries.length === 0) return;
    let lost = entries;
    if (Array.isArray(which) && which.every((i) => Number.isInteger(i) && i >= 0 && i < entries.length)) {
      lost = which.map((i) => entries[i]);
    } else if (count !== null && count < entries.length) {
      lost = []; // some of them, the server did not say which
    }
    const changes = [...new Set(lost.map((entry) => describeChange(entry.event)))];
    this._events.push({ type: "changes-lost", reason, changes, count: count ?? entries.length, text });
  }

  /** Make ``doc`` the document at position ``seq`` (after this client pushed it). */
  replaceDocument(doc, buffers, seq) {
    this._lose(this.outbox.drain(), "reset", null);
    this._replace(doc, buffers, seq);
  }

  _reset(message) {
    // A structural change of this client lost: the server's document replaces ours, and
    // what waited was made on the old one.
    const dropped = this.outbox.drain();
    const seq = Number.isInteger(message.content.seq) ? message.content.seq : this.lastSeq ?? 0;
    if (this._replace(message.content.doc, message.bufferMap(), seq)) {
      this._events.push({ type: "reset", seq: this.lastSeq });
      this._lose(dropped, "reset", null);
    }
  }

  // -- local changes ----------------------------------------------------------------------

  _watch() {
    if (this._stopWatching === null) this._stopWatching = this.document.onChange((event) => this._localChange(event));
  }

  _unwatch() {
    if (this._stopWatching !== null) this._stopWatching();
    this._stopWatching = null;
  }

  _localChange(event) {
    if (event.setter === this.setter) {
      // Applied from the server: not sent back. (Rare: most changes attach and detach
      // nothing.) The server holds what its change attached, and may have let go of what
      // it detached.
      if (event.newModels.length) this.outbox.hold(event.newModels.map((model) => model.id));
      if (event.departed.length) this.outbox.forget(event.departed);
      return;
    }
    const document = this.document;
    this.outbox.add(event, { base: this.lastSeq ?? 0, attached: document.models, departed: (id) => document.departedModel(id) });
    // A whole new value does not depend on what the list was: the server's splices of it
    // are judged against this value from now on (if one arrives before the value is
    // answered, the value loses, as in _reconcile).
    if (event instanceof ModelChangedEvent) this._stale.delete(event.propertyKey());
  }

  /**
   * Send the oldest waiting changes as one PATCH-DOC, if none is in flight. Changes the
   * server would refuse together (``sendLimits``) go in smaller patches; one change it
   * would refuse alone is not sent: the server would close the connection for it. It is
   * reported lost ("too-large") and the document pulled again, which undoes it here.
   * Past the server's rate (maxMessagesPerSecond) nothing is sent: sendDelay says when.
   */
  flush() {
    if (this._pacer !== null && (this._toSend.length > 0 || !this._pacer.ready())) {
      // Over the server's rate (or behind messages that are): the changes wait, and those
      // made meanwhile go with them in one patch (sendDelay).
      return;
    }
    this._flushNow();
  }

  /** flush, whatever the rate: the patch made waits in messagesToSend for its token. */
  _flushNow() {
    if (this._state !== ClientState.LIVE || this.inFlight !== null) return;
    let batch = this.outbox.take();
    if (batch === null) return;
    let message = newMessage(PATCH_DOC, batch.content, { buffers: batch.buffers });
    let fault = this.sendLimits === null ? null : sendFault(message.toFrames(), this.sendLimits);
    while (fault !== null && batch.entries.length > 1) {
      this.outbox.restore(batch);
      batch = this.outbox.take(Math.ceil(batch.entries.length / 2));
      message = newMessage(PATCH_DOC, batch.content, { buffers: batch.buffers });
      fault = sendFault(message.toFrames(), this.sendLimits);
    }
    if (fault !== null) {
      this._lose(batch.entries, "too-large", null, null, `not sent: ${fault}`);
      this.resync();
      return;
    }
    this.inFlight = { message, entries: batch.entries };
    this._toSend.push(message);
  }
}
