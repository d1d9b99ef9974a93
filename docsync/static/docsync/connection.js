/**
 * The connection: the only module that touches a WebSocket.
 *
 * Handshake: subprotocols ["docsync", token], wait for ACK, PULL-DOC-REQ (naming this
 * page's client id, so that the server knows its changes across reconnections), apply
 * the PULL-DOC-REPLY {"doc", "seq"}. Then PATCH-DOC both ways: the server's carry their
 * position "seq"; ours carry "base", the last server position applied when the change
 * was made. One patch of ours is in flight at a time; changes made meanwhile wait in the
 * Outbox, where a new value of a property replaces the one waiting. When the socket
 * drops, reconnect with backoff and pull again (the resume protocol will improve this).
 *
 * The socket comes from a factory, ``socketFactory(url, protocols)``, so that tests can
 * hand in a fake one; timers and randomness are injected for the same reason.
 */

import { ConnectionLostError, ServerError, closeAction } from "./exceptions.js";
import { ModelChangedEvent } from "./events.js";
import { Outbox } from "./outbox.js";
import {
  ACK, ERROR, PATCH_DOC, PULL_DOC_REQ, PUSH_DOC, Receiver, newMessage, patchDoc,
} from "./protocol.js";

export const SUBPROTOCOL = "docsync";

/** The states a connection goes through; "failed" and "closed" are final. */
export const ConnectionState = Object.freeze({
  IDLE: "idle",
  CONNECTING: "connecting",
  LIVE: "live",
  RECONNECTING: "reconnecting",
  FAILED: "failed",
  CLOSED: "closed",
});


// Codes this client closes with (a browser may only send 1000 and 3000-4999).
const CLOSE_NORMAL = 1000;
const CLOSE_NO_ACK = 4000;
const CLOSE_BAD_FRAMES = 4002;

const TRANSITIONS = {
  idle: ["connecting", "closed"],
  connecting: ["live", "reconnecting", "failed", "closed"],
  live: ["reconnecting", "failed", "closed"],
  reconnecting: ["live", "reconnecting", "failed", "closed"],
  failed: [],
  closed: [],
};

const DEFAULT_BACKOFF = { initial: 500, factor: 2, max: 10_000, jitter: 0.25, maxAttempts: 12 };

const defaultTimers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (id) => globalThis.clearTimeout(id),
};

function defaultSocketFactory(url, protocols) {
  return new WebSocket(url, protocols);
}

function randomClientId() {
  const bytes = new Uint8Array(8);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Keeps a Document in sync with a server session over a WebSocket. */
export class Connection {
  /**
   * ``document``: the Document to keep in sync (emptied and filled by the first pull).
   * ``options``: url, token, and for tests or tuning: clientId, socketFactory, timers
   * ({setTimeout, clearTimeout}), backoff ({initial, factor, max, jitter, maxAttempts}),
   * ackTimeout (ms), random, log (console-like), receiverLimits (Receiver options).
   */
  constructor(document, {
    url, token, clientId = randomClientId(), socketFactory = defaultSocketFactory, timers = defaultTimers,
    backoff = {}, ackTimeout = 30_000, random = Math.random, log = console, receiverLimits = {},
  }) {
    this.document = document;
    this.url = url;
    this.token = token;
    this.clientId = clientId;
    this._socketFactory = socketFactory;
    this._timers = timers;
    this._backoff = { ...DEFAULT_BACKOFF, ...backoff };
    this._ackTimeout = ackTimeout;
    this._random = random;
    this._log = log;
    this._receiverLimits = receiverLimits;
    this._state = ConnectionState.IDLE;
    this._listeners = new Map();
    this._socket = null;
    this._receiver = null;
    this._timer = null;
    this._attempt = 0;
    this._lastSeq = null;
    this._pending = new Map(); // msgid -> {msgtype, onReply}
    this._outbox = new Outbox();
    this._inFlight = null; // the Outbox entries of the patch awaiting its reply
    this._pulling = false;
    this._early = []; // server patches that arrived while a pull was answered
    this._replay = []; // local changes to make again once the document is pulled
    this._flushQueued = false;
    this._closeReason = "";
    this._stopWatching = document.onChange((event) => this._localChange(event));
    this.ready = new Promise((resolve, reject) => {
      this._resolveReady = resolve;
      this._rejectReady = reject;
    });
    // A page that never awaits ``ready`` must not see an unhandled rejection.
    this.ready.catch(() => {});
  }

  /** The connection state (a ConnectionState value). */
  get state() {
    return this._state;
  }

  /** The last server position applied to the document (null before the first pull). */
  get lastSeq() {
    return this._lastSeq;
  }

  /** How many local changes wait to be sent (the one in flight not counted). */
  get waiting() {
    return this._outbox.size;
  }

  /** Tell whether the connection is live with no local change in flight or waiting. */
  get settled() {
    return this._state === ConnectionState.LIVE && !this._pulling && this._inFlight === null && this._outbox.size === 0;
  }

  /**
   * Call ``listener(detail)`` on each "state" event ({state, previous, reason, and when
   * reconnecting attempt and delay in ms}) or "error" event ({text, code, reqid,
   * msgtype}); return a function that stops it.
   */
  on(type, listener) {
    if (!this._listeners.has(type)) this._listeners.set(type, new Set());
    this._listeners.get(type).add(listener);
    return () => this._listeners.get(type).delete(listener);
  }

  _emit(type, detail) {
    for (const listener of [...(this._listeners.get(type) ?? [])]) {
      try {
        listener(detail);
      } catch (err) {
        this._log.error("docsync: error in a connection listener", err);
      }
    }
  }

  _setState(state, detail = {}) {
    const previous = this._state;
    if (!TRANSITIONS[previous].includes(state)) throw new Error(`cannot go from ${previous} to ${state}`);
    this._state = state;
    this._emit("state", { state, previous, reason: "", ...detail });
  }

  /** Open the connection; resolves once the document is live (as ``ready`` does). */
  connect() {
    if (this._state !== ConnectionState.IDLE) {
      if (this._state === ConnectionState.CLOSED || this._state === ConnectionState.FAILED) {
        throw new Error(`cannot connect after the connection ${this._state}`);
      }
      return this.ready;
    }
    this._setState(ConnectionState.CONNECTING);
    this._open();
    return this.ready;
  }

  /** Close for good: no reconnection, waiting changes are not sent. */
  close() {
    if (this._state === ConnectionState.CLOSED) return;
    this._stopWatching();
    this._timers.clearTimeout(this._timer);
    const socket = this._socket;
    this._socket = null;
    if (socket) this._detach(socket).close(CLOSE_NORMAL, "closed by the page");
    this._failPending("the connection was closed");
    this._rejectReady(new ConnectionLostError("the connection was closed"));
    if (this._state !== ConnectionState.FAILED) this._setState(ConnectionState.CLOSED);
  }

  /**
   * Send a request and resolve with its reply; reject with ServerError for an ERROR
   * reply, with ConnectionLostError when the connection drops first.
   */
  request(message) {
    return new Promise((resolve, reject) => {
      if (this._state !== ConnectionState.LIVE) {
        reject(new ConnectionLostError(`cannot send ${message.msgtype} while ${this._state}`));
        return;
      }
      this._send(message, (reply) => {
        if (reply instanceof Error) reject(reply);
        else if (reply.msgtype === ERROR) reject(new ServerError(reply.content.text, reply.content.code ?? null));
        else resolve(reply);
      });
    });
  }

  // -- the socket ------------------------------------------------------------------------

  _open() {
    const socket = this._socketFactory(this.url, [SUBPROTOCOL, this.token]);
    socket.binaryType = "arraybuffer";
    socket.onmessage = (event) => this._onFrame(socket, event.data);
    socket.onclose = (event) => this._onClose(socket, event);
    socket.onerror = () => {}; // a close event follows; it carries what can be known
    this._socket = socket;
    this._receiver = new Receiver(this._receiverLimits);
    this._closeReason = "";
    this._timer = this._timers.setTimeout(() => this._drop(socket, CLOSE_NO_ACK, "no ACK from the server"), this._ackTimeout);
  }

  _detach(socket) {
    socket.onmessage = socket.onclose = socket.onerror = null;
    return socket;
  }

  /** Give up on ``socket`` from this side: close it and carry on as if it had dropped. */
  _drop(socket, code, reason) {
    if (socket !== this._socket) return;
    try {
      this._detach(socket).close(code, reason);
    } catch (err) {
      this._log.warn("docsync: closing the socket failed", err);
    }
    this._lost(code, reason);
  }

  _onClose(socket, event) {
    if (socket !== this._socket) return;
    this._detach(socket);
    this._lost(event.code, this._closeReason || event.reason || `closed with code ${event.code}`);
  }

  _lost(code, reason) {
    this._timers.clearTimeout(this._timer);
    this._socket = null;
    this._pulling = false;
    this._early = [];
    this._failPending(`the connection dropped: ${reason}`);
    // What was in flight may or may not have been applied; the pull will tell. Whole
    // values can safely be set again; other changes are lost (resume will keep them).
    if (this._inFlight) this._replay.push(...this._inFlight);
    this._inFlight = null;
    this._replay.push(...this._outbox.drain());
    // After some closes trying again cannot help (a refused token, no such app): exceptions.js.
    if (closeAction(code) === "give-up") {
      this._fail(reason);
      return;
    }
    this._attempt += 1;
    if (this._attempt > this._backoff.maxAttempts) {
      this._fail(`gave up after ${this._backoff.maxAttempts} attempts: ${reason}`);
      return;
    }
    const delay = this._delay(this._attempt);
    this._setState(ConnectionState.RECONNECTING, { reason, attempt: this._attempt, delay });
    this._timer = this._timers.setTimeout(() => this._open(), delay);
  }

  /** Return the wait before attempt ``attempt``: exponential, capped, with jitter. */
  _delay(attempt) {
    const { initial, factor, max, jitter } = this._backoff;
    const delay = Math.min(max, initial * factor ** (attempt - 1));
    return Math.round(delay * (1 - jitter + 2 * jitter * this._random()));
  }

  _fail(reason) {
    this._replay = [];
    this._rejectReady(new ConnectionLostError(reason));
    this._setState(ConnectionState.FAILED, { reason });
  }

  _failPending(reason) {
    const pending = [...this._pending.values()];
    this._pending.clear();
    for (const { onReply } of pending) onReply(new ConnectionLostError(reason));
  }

  _send(message, onReply = null) {
    if (onReply) this._pending.set(message.msgid, { msgtype: message.msgtype, onReply });
    for (const frame of message.toFrames()) this._socket.send(frame);
  }

  // -- incoming --------------------------------------------------------------------------

  _onFrame(socket, data) {
    if (socket !== this._socket) return;
    let message;
    try {
      message = this._receiver.receive(data);
    } catch (err) {
      this._report({ text: `bad frames from the server: ${err.message}`, code: "protocol" });
      this._drop(socket, CLOSE_BAD_FRAMES, "bad frames");
      return;
    }
    if (message !== null) this._dispatch(message);
  }

  _dispatch(message) {
    const pending = message.reqid !== null ? this._pending.get(message.reqid) : undefined;
    if (message.msgtype === ERROR) {
      const { text = "", code = null } = message.content;
      this._report({ text, code, reqid: message.reqid, msgtype: pending?.msgtype ?? null });
      // A refusal before a close names the reason, which some servers drop from the close.
      if (message.reqid === null) this._closeReason = text;
    }
    if (pending !== undefined) {
      this._pending.delete(message.reqid);
      pending.onReply(message);
    } else if (message.msgtype === ACK) {
      this._timers.clearTimeout(this._timer);
      this._pull();
    } else if (message.msgtype === PATCH_DOC) {
      this._serverPatch(message);
    } else if (message.msgtype === PUSH_DOC) {
      this._pushed(message);
    }
  }

  _report(detail) {
    const error = { text: "", code: null, reqid: null, msgtype: null, ...detail };
    this._log.error(`docsync: ${error.text}${error.code ? ` (${error.code})` : ""}`);
    this._emit("error", error);
  }

  /** Ask for the whole document; until it arrives, server patches wait. */
  _pull() {
    this._pulling = true;
    this._early = [];
    this._send(newMessage(PULL_DOC_REQ, { client_id: this.clientId }), (reply) => this._pulled(reply));
  }

  _pulled(reply) {
    if (reply instanceof Error) return; // the socket dropped; reconnection is under way
    if (reply.msgtype === ERROR) {
      this._drop(this._socket, CLOSE_NORMAL, `pull refused: ${reply.content.text}`);
      return;
    }
    const { doc, seq } = reply.content;
    if (!this._replace(doc, reply, seq)) return;
    this._pulling = false;
    const early = this._early;
    this._early = [];
    for (const message of early) this._serverPatch(message);
    this._attempt = 0;
    if (this._state !== ConnectionState.LIVE) this._setState(ConnectionState.LIVE);
    this._resolveReady();
    this._replayChanges();
    this._queueFlush();
  }

  /** Replace the document with the server's; return false (and start over) if it cannot be read. */
  _replace(doc, message, seq) {
    // Changes made before the replacement would be wiped from the document while still
    // being sent; they are made again on top of it instead.
    this._replay.push(...this._outbox.drain());
    try {
      this.document.replaceWithJSON(doc, message.bufferMap(), { setter: this });
    } catch (err) {
      this._report({ text: `cannot read the server's document: ${err.message}`, code: "bad-document" });
      this._drop(this._socket, CLOSE_BAD_FRAMES, "bad document");
      return false;
    }
    this._lastSeq = Number.isInteger(seq) ? seq : 0;
    return true;
  }

  _pushed(message) {
    // The server reset this document (a structural change of ours lost): what waited
    // was made on the old document, and it loses too.
    const dropped = this._outbox.drain().length;
    if (dropped) this._log.warn(`docsync: ${dropped} local changes dropped: the server reset the document`);
    if (this._replace(message.content.doc, message, message.content.seq)) this._replay = [];
  }

  _serverPatch(message) {
    if (this._pulling) {
      this._early.push(message);
      return;
    }
    const { seq } = message.content;
    if (Number.isInteger(seq) && this._lastSeq !== null && seq <= this._lastSeq) return; // already applied
    try {
      const decoded = this.document.decodePatch(message.content, message.bufferMap(), { setter: this });
      // The server's whole value is the latest: a local value still waiting lost to it.
      for (const event of decoded.events) {
        if (event instanceof ModelChangedEvent) this._outbox.supersede(event.propertyKey());
      }
      this.document.applyPatch(decoded, undefined, { setter: this });
    } catch (err) {
      this._report({ text: `cannot apply the server's patch: ${err.message}`, code: "bad-patch" });
      this._resync();
      return;
    }
    if (Number.isInteger(seq)) this._lastSeq = seq;
  }

  /** Pull the whole document again on this socket (after something went wrong). */
  _resync() {
    if (this._socket && !this._pulling) this._pull();
  }

  // -- outgoing --------------------------------------------------------------------------

  _localChange(event) {
    if (event.setter === this) return; // applied from the server: not echoed back
    this._outbox.add(event, { base: this._lastSeq ?? 0, attached: this.document.models });
    this._queueFlush();
  }

  /** Set again, on the pulled document, the whole values the last document had that the server may lack. */
  _replayChanges() {
    const entries = this._replay;
    this._replay = [];
    let lost = 0;
    for (const { event } of entries) {
      const model = event instanceof ModelChangedEvent ? this.document.getModelById(event.model.id) : null;
      if (model !== null && model.type === event.model.type) model.set(event.attr, event.new);
      else lost += 1;
    }
    if (lost) this._report({ text: `${lost} local changes were lost with the connection`, code: "changes-lost" });
  }

  _queueFlush() {
    // Changes made in one task go out in one patch.
    if (this._flushQueued) return;
    this._flushQueued = true;
    queueMicrotask(() => {
      this._flushQueued = false;
      this._flush();
    });
  }

  _flush() {
    if (this._state !== ConnectionState.LIVE || this._socket === null || this._pulling || this._inFlight) return;
    const batch = this._outbox.take();
    if (batch === null) return;
    this._inFlight = batch.entries;
    this._send(patchDoc(batch.content, batch.buffers, { base: batch.base }), (reply) => this._patched(reply));
  }

  _patched(reply) {
    if (reply instanceof Error) return; // dropped: _lost kept the entries to make again
    this._inFlight = null;
    if (reply.msgtype === ERROR) {
      // Refused (already reported): the server sends back the values it corrected,
      // and a pull settles whatever it could not.
      this._resync();
    } else if (Number.isInteger(reply.content.seq)) {
      // Every change meant for this client up to that position was sent before the OK.
      this._lastSeq = Math.max(this._lastSeq ?? 0, reply.content.seq);
    }
    this._queueFlush();
  }
}
