/**
 * The connection: the only module that touches a WebSocket.
 *
 * The session protocol itself (handshake, positions, one patch in flight, answers,
 * resets, resume, changes made offline) is ClientProtocol (client_protocol.js); this
 * module opens sockets (subprotocols ["docsync", token]), turns frames into messages and
 * back, waits for the ACK with a timeout, flushes local changes once per task, keeps to
 * the server's rate of messages (a message over it waits for a timer, and the changes
 * made meanwhile go with it in one patch), and reconnects with backoff when the socket
 * drops: the next socket resumes the session (RESUME-REQ) and receives only what it missed.
 *
 * The socket comes from a factory, ``socketFactory(url, protocols)``, so that tests can
 * hand in a fake one; timers and randomness are injected for the same reason.
 */

import { ClientProtocol, ClientState } from "./client_protocol.js";
import { ConnectionLostError, ServerError, closeAction } from "./exceptions.js";
import { announcedRate } from "./pacing.js";
import { ERROR, Receiver, frameNbytes } from "./protocol.js";

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
   * ackTimeout (ms), random, log (console-like), receiverLimits (Receiver options),
   * sendLimits (the server's limits on what it receives: ClientProtocol's option; its
   * maxPatchesPerSecond, 200 when absent, is the rate this connection keeps to), clock
   * (milliseconds, for that pacing; timers must run on it).
   */
  constructor(document, {
    url, token, clientId = randomClientId(), socketFactory = defaultSocketFactory, timers = defaultTimers,
    backoff = {}, ackTimeout = 30_000, random = Math.random, log = console, receiverLimits = {}, sendLimits = null,
    clock = () => globalThis.performance.now(),
  }) {
    this.document = document;
    this.url = url;
    this.token = token;
    // Nothing the server would refuse for its size (and close the connection for) is
    // sent, nor faster than the server takes messages (it would close with 4029).
    this.protocol = new ClientProtocol(document, {
      clientId, setter: this, sendLimits, maxMessagesPerSecond: announcedRate(sendLimits), clock,
    });
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
    this._opened = false; // whether the current socket opened (its handshake was accepted)
    this._receiver = null;
    this._timer = null;
    this._paced = null; // the timer of a send waiting for the server's rate
    this._attempt = 0;
    this._requests = new Map(); // msgid -> {msgtype, onReply}, requests of the page's own
    this._flushQueued = false;
    this._closeReason = "";
    /** Bytes received on the current socket, and on it until the document went live. */
    this.bytes = { socket: 0, handshake: 0 };
    this._stopWatching = document.onChange((event) => {
      if (event.setter !== this) this._queueFlush();
    });
    this.ready = new Promise((resolve, reject) => {
      this._resolveReady = resolve;
      this._rejectReady = reject;
    });
    // A page that never awaits ``ready`` must not see an unhandled rejection.
    this.ready.catch(() => {});
  }

  /** This page's client id, the same on every socket of the connection. */
  get clientId() {
    return this.protocol.clientId;
  }

  /** The connection state (a ConnectionState value). */
  get state() {
    return this._state;
  }

  /** The last server position applied to the document (null before the first pull). */
  get lastSeq() {
    return this.protocol.lastSeq;
  }

  /** How many local changes wait to be sent (the patch in flight not counted). */
  get waiting() {
    return this.protocol.outbox.size;
  }

  /** Tell whether the connection is live with no local change in flight or waiting. */
  get settled() {
    return this._state === ConnectionState.LIVE && this.protocol.settled;
  }

  /**
   * Call ``listener(detail)`` on each event: "state" ({state, previous, reason; when
   * reconnecting attempt and delay in ms; when live mode, fresh, replayed, seq and the
   * bytes received on the socket until then}),
   * "error" ({text, code, reqid, msgtype}) or "lost" ({reason, changes, count, text}: local
   * changes that were not kept); return a function that stops it.
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
    this._stopPacing();
    const socket = this._socket;
    this._socket = null;
    if (socket) this._detach(socket).close(CLOSE_NORMAL, "closed by the page");
    this.protocol.close();
    this._failRequests("the connection was closed");
    this._rejectReady(new ConnectionLostError("the connection was closed"));
    if (this._state !== ConnectionState.FAILED) this._setState(ConnectionState.CLOSED);
  }

  /**
   * Send a request and resolve with its reply; reject with ServerError for an ERROR
   * reply, with ConnectionLostError when the connection drops first.
   */
  request(message) {
    return new Promise((resolve, reject) => {
      if (this._state !== ConnectionState.LIVE || this.protocol.state !== ClientState.LIVE) {
        reject(new ConnectionLostError(`cannot send ${message.msgtype} while ${this._state}`));
        return;
      }
      this._requests.set(message.msgid, {
        msgtype: message.msgtype,
        onReply: (reply) => {
          if (reply instanceof Error) reject(reply);
          else if (reply.msgtype === ERROR) reject(new ServerError(reply.content.text, reply.content.code ?? null));
          else resolve(reply);
        },
      });
      this.protocol.send(message);
      // The changes sent before it may have been too large to send (reported lost).
      for (const event of this.protocol.eventsReceived()) this._handle(event, null);
      this._write();
    });
  }

  // -- the socket ------------------------------------------------------------------------

  _open() {
    const socket = this._socketFactory(this.url, [SUBPROTOCOL, this.token]);
    socket.binaryType = "arraybuffer";
    socket.onmessage = (event) => this._onFrame(socket, event.data);
    socket.onclose = (event) => this._onClose(socket, event);
    socket.onerror = () => {}; // a close event follows; it carries what can be known
    socket.onopen = () => {
      this._opened = true;
    };
    this._socket = socket;
    this._opened = false;
    this._receiver = new Receiver(this._receiverLimits);
    this._closeReason = "";
    this.bytes = { socket: 0, handshake: 0 };
    this.protocol.connectionMade();
    this._timer = this._timers.setTimeout(() => this._drop(socket, CLOSE_NO_ACK, "no ACK from the server"), this._ackTimeout);
  }

  _detach(socket) {
    socket.onmessage = socket.onclose = socket.onerror = socket.onopen = null;
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
    // A handshake the server refused (no websocket route: an asgi.py serving HTTP only, a
    // proxy without Upgrade) closes 1006 with no reason; the page said only "closed with code 1006".
    const unopened = `the websocket could not be opened (closed with code ${event.code}): `
      + "the server refused its handshake or cannot be reached";
    this._lost(event.code, this._closeReason || event.reason || (this._opened ? `closed with code ${event.code}` : unopened));
  }

  _lost(code, reason) {
    this._timers.clearTimeout(this._timer);
    this._stopPacing(); // what waited for the rate is made again after the resume
    this._socket = null;
    // What was in flight stays with the protocol: the next socket resumes and sends it
    // again, and the server, which knows it by msgid, never applies it twice.
    this.protocol.connectionLost();
    this._failRequests(`the connection dropped: ${reason}`);
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
    this._stopPacing();
    this.protocol.close();
    this._rejectReady(new ConnectionLostError(reason));
    this._setState(ConnectionState.FAILED, { reason });
  }

  _failRequests(reason) {
    const pending = [...this._requests.values()];
    this._requests.clear();
    for (const { onReply } of pending) onReply(new ConnectionLostError(reason));
  }

  /** Write what the protocol queued, in order, as fast as the server's rate allows. */
  _write() {
    if (this._socket === null) return;
    for (const message of this.protocol.messagesToSend()) {
      for (const frame of message.toFrames()) this._socket.send(frame);
    }
    const delay = this.protocol.sendDelay();
    if (delay !== null && this._paced === null) {
      // Past the server's rate: what waits goes when the bucket has a token again, with
      // the changes made meanwhile (one timer, whatever waits).
      this._paced = this._timers.setTimeout(() => {
        this._paced = null;
        this._sendNow();
      }, delay);
    }
  }

  _stopPacing() {
    if (this._paced !== null) this._timers.clearTimeout(this._paced);
    this._paced = null;
  }

  // -- incoming --------------------------------------------------------------------------

  _onFrame(socket, data) {
    if (socket !== this._socket) return;
    this._opened = true;
    this.bytes.socket += frameNbytes(data);
    let message;
    try {
      message = this._receiver.receive(data);
    } catch (err) {
      this._report({ text: `bad frames from the server: ${err.message}`, code: "protocol" });
      this._drop(socket, CLOSE_BAD_FRAMES, "bad frames");
      return;
    }
    if (message === null) return;
    if (this.protocol.state === ClientState.CONNECTING) this._timers.clearTimeout(this._timer);
    this.protocol.receiveMessage(message);
    for (const event of this.protocol.eventsReceived()) this._handle(event, message);
    this._write();
  }

  _handle(event, message) {
    if (event.type === "error") {
      const request = event.reqid !== null ? this._requests.get(event.reqid) : undefined;
      this._report({ ...event, msgtype: request?.msgtype ?? event.msgtype });
      // A refusal before a close names the reason, which some servers drop from the close.
      if (event.reqid === null && message?.msgtype === ERROR) this._closeReason = event.text;
    } else if (event.type === "reply") {
      const request = this._requests.get(event.message.reqid);
      if (request !== undefined) {
        this._requests.delete(event.message.reqid);
        request.onReply(event.message);
      }
    } else if (event.type === "live") {
      this.bytes.handshake = this.bytes.socket;
      this._attempt = 0;
      const { mode, fresh, replayed, seq } = event;
      if (this._state !== ConnectionState.LIVE) this._setState(ConnectionState.LIVE, { mode, fresh, replayed, seq, bytes: this.bytes.handshake });
      this._resolveReady();
    } else if (event.type === "changes-lost") {
      const { reason, changes, count, text } = event;
      this._log.warn(`docsync: ${count} local change(s) not kept (${reason}): ${changes.join(", ")}`);
      this._emit("lost", { reason, changes, count, text });
    } else if (event.type === "reset") {
      this._log.warn(`docsync: the server reset the document at position ${event.seq}`);
    }
  }

  _report(detail) {
    const error = { text: "", code: null, reqid: null, msgtype: null, ...detail };
    delete error.type;
    const trace = error.detail ? `\n${error.detail}` : "";
    this._log.error(`docsync: ${error.text}${error.code ? ` (${error.code})` : ""}${trace}`);
    this._emit("error", error);
  }

  // -- outgoing --------------------------------------------------------------------------

  _queueFlush() {
    // Changes made in one task go out in one patch.
    if (this._flushQueued) return;
    this._flushQueued = true;
    queueMicrotask(() => {
      this._flushQueued = false;
      this._sendNow();
    });
  }

  /** Send the waiting changes as a patch if none is in flight, and what the protocol queued. */
  _sendNow() {
    if (this._state === ConnectionState.CLOSED || this._state === ConnectionState.FAILED) return;
    this.protocol.flush();
    // A change too large to send is reported (and a pull asked for) by the flush itself.
    for (const event of this.protocol.eventsReceived()) this._handle(event, null);
    this._write();
  }
}
