// A fake WebSocket, a manual clock and a scripted server, for the connection tests.
import { Document } from "../../docsync/static/docsync/document.js";
import { Model } from "../../docsync/static/docsync/model.js";
import {
  ACK, ERROR, OK, PATCH_DOC, PULL_DOC_REPLY, PUSH_DOC, RESUME_REPLY, Receiver, newMessage,
} from "../../docsync/static/docsync/protocol.js";

/** A socket the test drives from the server's side. */
export class FakeSocket {
  constructor(url, protocols) {
    this.url = url;
    this.protocols = protocols;
    this.binaryType = "blob";
    this.readyState = 0;
    this.frames = []; // what the client sent
    this.closed = null;
    this._receiver = new Receiver();
    this.onmessage = this.onclose = this.onerror = this.onopen = null;
  }

  /** The server refuses the handshake: the socket closes without having opened, as a browser reports it. */
  refuse() {
    this.readyState = 3;
    this.onclose?.({ code: 1006, reason: "", wasClean: false });
  }

  send(frame) {
    if (this.closed) throw new Error("send after close");
    this.frames.push(frame);
  }

  close(code, reason) {
    this.closed = { code, reason };
    this.readyState = 3;
  }

  /** The messages the client sent, reassembled. */
  messages() {
    const receiver = new Receiver();
    return this.frames.map((frame) => receiver.receive(frame)).filter((message) => message !== null);
  }

  /** The last message the client sent. */
  last() {
    return this.messages().at(-1);
  }

  /** Deliver a message to the client, binary frames as ArrayBuffers (binaryType "arraybuffer"). */
  deliver(message) {
    for (const frame of message.toFrames()) this.deliverFrame(frame);
  }

  deliverFrame(frame) {
    const data = typeof frame === "string" || frame instanceof ArrayBuffer
      ? frame
      : frame.buffer.slice(frame.byteOffset, frame.byteOffset + frame.byteLength);
    this.onmessage?.({ data });
  }

  /** The server closes the socket (or the network drops it). */
  drop(code = 1006, reason = "") {
    this.readyState = 3;
    this.onclose?.({ code, reason, wasClean: false });
  }

  // -- what a docsync server says -----------------------------------------------------

  ack() {
    this.readyState = 1;
    this.deliver(newMessage(ACK));
  }

  /** Answer the client's last PULL-DOC-REQ with ``document`` at position ``seq``. */
  replyPull(document, seq) {
    const request = this.messages().findLast((m) => m.msgtype === "PULL-DOC-REQ");
    const { doc, buffers } = document.toJSON();
    this.deliver(newMessage(PULL_DOC_REPLY, { doc, seq, incarnation: "i1" }, { reqid: request.msgid, buffers }));
  }

  /** Answer the client's last RESUME-REQ with ``content`` (mode, seq, patches or doc...). */
  replyResume(content, { buffers = [] } = {}) {
    const request = this.messages().findLast((m) => m.msgtype === "RESUME-REQ");
    this.deliver(newMessage(RESUME_REPLY, { incarnation: "i1", ...content }, { reqid: request.msgid, buffers }));
  }

  patch(events, seq, { references = [], buffers = [] } = {}) {
    this.deliver(newMessage(PATCH_DOC, { events, references, seq }, { buffers }));
  }

  push(document, seq) {
    const { doc, buffers } = document.toJSON();
    this.deliver(newMessage(PUSH_DOC, { doc, seq }, { buffers }));
  }

  ok(request, seq, rejected = 0) {
    this.deliver(newMessage(OK, { seq, rejected }, { reqid: request.msgid }));
  }

  error(request, text, code = "patch-refused", extra = {}) {
    this.deliver(newMessage(ERROR, { text, code, ...extra }, { reqid: request?.msgid ?? null }));
  }
}

/** setTimeout/clearTimeout on a clock that moves only when told. */
export class FakeTimers {
  constructor() {
    this.now = 0;
    this._timers = new Map();
    this._next = 1;
  }

  setTimeout = (fn, ms) => {
    const id = this._next++;
    this._timers.set(id, { at: this.now + ms, fn, ms });
    return id;
  };

  clearTimeout = (id) => {
    this._timers.delete(id);
  };

  /** The delays of the timers waiting now. */
  pending() {
    return [...this._timers.values()].map((timer) => timer.ms);
  }

  /** Move the clock on by ``ms``, running the timers that fall due, in order. */
  advance(ms) {
    const until = this.now + ms;
    for (;;) {
      const due = [...this._timers.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this._timers.delete(due[0]);
      this.now = due[1].at;
      due[1].fn();
    }
    this.now = until;
  }
}

/** A console that remembers what was logged. */
export function fakeLog() {
  const log = { errors: [], warnings: [] };
  log.error = (...args) => log.errors.push(args.join(" "));
  log.warn = (...args) => log.warnings.push(args.join(" "));
  return log;
}

/** The server's document: a slider, a text input, a data source. */
export function serverDocument() {
  const document = new Document({ title: "Server" });
  const slider = new Model("Slider", { id: "slider", attributes: { name: "slider", value: 0 } });
  const text = new Model("TextInput", { id: "text", attributes: { name: "text", value: "" } });
  const source = new Model("ColumnDataSource", { id: "source", attributes: { name: "source", data: { x: new Float64Array([1, 2]) } } });
  document.addRoot(new Model("Column", { id: "layout", attributes: { children: [slider, text, source] } }));
  return document;
}

/** Let queued microtasks (the connection's flushes) run. */
export const settle = () => new Promise((resolve) => setImmediate(resolve));
