/**
 * The wire protocol: frames in, messages out; messages in, frames out. No I/O.
 *
 * Mirrors docsync/protocol/: a message is a header, a metadata and a content frame
 * (JSON text), then per buffer a text frame {"id": ...} and a binary frame. The
 * Receiver enforces the same limits and reports the same errors as the Python one.
 */

import { MessageTooBigError, ProtocolError } from "./exceptions.js";
import { pyRepr, pyReprShort } from "./pyrepr.js";
import { countStructure, parseWireJSON, stringifyWireJSON } from "./wire_json.js";

// The Bokeh protocol's names, kept verbatim so that its clients can talk to docsync.
export const ACK = "ACK";
export const OK = "OK";
export const ERROR = "ERROR";
export const SERVER_INFO_REQ = "SERVER-INFO-REQ";
export const SERVER_INFO_REPLY = "SERVER-INFO-REPLY";
export const PULL_DOC_REQ = "PULL-DOC-REQ";
export const PULL_DOC_REPLY = "PULL-DOC-REPLY";
export const PUSH_DOC = "PUSH-DOC";
export const PATCH_DOC = "PATCH-DOC";
// docsync additions: new names only, never new meanings for the names above.
export const RESUME_REQ = "RESUME-REQ";
export const RESUME_REPLY = "RESUME-REPLY";

export const MESSAGE_TYPES = new Set([
  ACK, OK, ERROR, SERVER_INFO_REQ, SERVER_INFO_REPLY, PULL_DOC_REQ, PULL_DOC_REPLY,
  PUSH_DOC, PATCH_DOC, RESUME_REQ, RESUME_REPLY,
]);

export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_BUFFERS = 64;

// Header fields the framing owns; headerExtra may not override them.
const RESERVED_HEADER_FIELDS = ["msgid", "msgtype", "reqid", "num_buffers"];

/** Return the UTF-8 length of ``text``; a lone surrogate counts 3 bytes, as Python's surrogatepass does. */
export function utf8Length(text) {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) bytes += 1;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 2; // two UTF-16 units, four bytes
        i++;
      } else bytes += 2;
    } else bytes += 2;
  }
  return bytes;
}

function isBinary(frame) {
  return frame instanceof ArrayBuffer || ArrayBuffer.isView(frame);
}

/** Return the number of bytes ``frame`` occupies on the wire (UTF-8 for text). */
export function frameNbytes(frame) {
  return typeof frame === "string" ? utf8Length(frame) : frame.byteLength;
}

/** One protocol message; toFrames() turns it into websocket frames. */
export class Message {
  constructor(header, metadata = {}, content = {}, buffers = []) {
    this.header = header;
    this.metadata = metadata;
    this.content = content;
    /** [id, ArrayBuffer | ArrayBufferView] pairs, in frame order. */
    this.buffers = buffers;
  }

  get msgtype() {
    return this.header.msgtype;
  }

  get msgid() {
    return this.header.msgid;
  }

  /** The id of the request this message replies to, or null. */
  get reqid() {
    return this.header.reqid ?? null;
  }

  /** Return the buffers as a Map from id to payload, as decoders want them. */
  bufferMap() {
    return new Map(this.buffers);
  }

  /** Return the frames of this message, setting num_buffers in the header. */
  toFrames() {
    // The header must announce exactly the buffers that follow, whatever was appended
    // since construction.
    if (this.buffers.length) this.header.num_buffers = this.buffers.length;
    else delete this.header.num_buffers;
    const frames = [
      stringifyWireJSON(this.header),
      stringifyWireJSON(this.metadata),
      stringifyWireJSON(this.content),
    ];
    for (const [bufferId, payload] of this.buffers) {
      frames.push(stringifyWireJSON({ id: bufferId }));
      // Passed through untouched: a typed array goes out with no copy.
      frames.push(payload);
    }
    return frames;
  }

  /** Return the total bytes of this message's frames. */
  wireSize() {
    return this.toFrames().reduce((total, frame) => total + frameNbytes(frame), 0);
  }
}

// msgids need only be unique per sender; one counter per page keeps them unique
// across reconnections too.
let lastMsgid = 0;

/** Build a message of type ``msgtype`` with a fresh msgid. */
export function newMessage(msgtype, content = {}, { reqid = null, metadata = {}, buffers = [], headerExtra = null } = {}) {
  if (!MESSAGE_TYPES.has(msgtype)) throw new RangeError(`unknown message type ${pyRepr(msgtype)}`);
  lastMsgid += 1;
  const header = { msgid: String(lastMsgid), msgtype };
  if (reqid !== null && reqid !== undefined) header.reqid = reqid;
  if (headerExtra) {
    const reserved = RESERVED_HEADER_FIELDS.filter((name) => name in headerExtra).sort();
    if (reserved.length) throw new RangeError(`header_extra may not set ${pyRepr(reserved[0])}`);
    Object.assign(header, headerExtra);
  }
  // The receiver refuses duplicate ids; catching them here points at the sender.
  const seen = new Set();
  for (const [bufferId] of buffers) {
    if (typeof bufferId !== "string") throw new TypeError(`buffer id must be a string, got ${pyRepr(bufferId)}`);
    if (seen.has(bufferId)) throw new RangeError(`duplicate buffer id ${pyRepr(bufferId)}`);
    seen.add(bufferId);
  }
  return new Message(header, { ...metadata }, { ...content }, [...buffers]);
}

/** Build an OK replying to ``reqid``. */
export const ok = (reqid) => newMessage(OK, {}, { reqid });

/** Build an ERROR, replying to ``reqid`` when the fault belongs to a request. */
export function error(reqid, text, code = null) {
  const content = { text };
  if (code !== null) content.code = code;
  return newMessage(ERROR, content, { reqid });
}

/** Build a SERVER-INFO-REQ. */
export const serverInfoReq = () => newMessage(SERVER_INFO_REQ);

/** Build a PULL-DOC-REQ. */
export const pullDocReq = () => newMessage(PULL_DOC_REQ);

/** Build a PUSH-DOC carrying document JSON and its buffers. */
export const pushDoc = (doc, buffers = []) => newMessage(PUSH_DOC, { doc }, { buffers });

/** Build a PATCH-DOC from {events, references}, naming the last server position applied. */
export function patchDoc({ events, references = [] }, buffers = [], { base = null } = {}) {
  const content = { events, references };
  if (base !== null) content.base = base;
  return newMessage(PATCH_DOC, content, { buffers });
}

/** Build a RESUME-REQ naming the last server position the client applied. */
export const resumeReq = (lastSeq, clientId) =>
  newMessage(RESUME_REQ, { last_seq: lastSeq, client_id: clientId });

/** The kinds of frame a receiver can need next (the texts appear in errors). */
export const Expecting = Object.freeze({
  HEADER: "header",
  METADATA: "metadata",
  CONTENT: "content",
  BUFFER_HEADER: "buffer header",
  BUFFER_PAYLOAD: "buffer payload",
});

const FRAME_NAMES = ["header", "metadata", "content"];

/**
 * Say why a server with these ``limits`` would refuse a message of ``frames`` (its
 * ERROR text), or null. ``limits``: maxFrameBytes, maxMessageBytes, maxBuffers,
 * maxFrameContainers, maxFrameValues (the server's MAX_FRAME_* settings; a missing one
 * is not checked). A message the server must refuse closes the connection (1009): a
 * client checks what it is about to send instead.
 */
export function sendFault(frames, limits) {
  const { maxFrameBytes, maxMessageBytes, maxBuffers, maxFrameContainers, maxFrameValues } = limits;
  let total = 0;
  for (const [index, frame] of frames.entries()) {
    const size = frameNbytes(frame);
    if (maxFrameBytes && size > maxFrameBytes) return `frame too large: ${size} > ${maxFrameBytes} bytes`;
    total += size;
    // As the server counts: only a frame longer than a limit can be over it.
    if (typeof frame === "string" && (frame.length > (maxFrameContainers ?? Infinity) || frame.length > (maxFrameValues ?? Infinity))) {
      const { containers, separators } = countStructure(frame);
      const name = FRAME_NAMES[index] ?? "buffer header";
      if (maxFrameContainers && containers > maxFrameContainers) {
        return `too many arrays and objects in ${name} frame: ${containers} > ${maxFrameContainers}`;
      }
      if (maxFrameValues && separators > maxFrameValues) return `too many values in ${name} frame: ${separators} > ${maxFrameValues}`;
    }
  }
  if (maxMessageBytes && total > maxMessageBytes) return `message too large: ${total} > ${maxMessageBytes} bytes`;
  const buffers = Math.max(0, Math.floor((frames.length - 3) / 2));
  if (maxBuffers && buffers > maxBuffers) return `too many buffers: ${buffers} > ${maxBuffers}`;
  return null;
}

function checkLimit(name, value) {
  // No "0 means unlimited": a limit is always a positive number.
  if (!Number.isInteger(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive integer, got ${pyRepr(value)}`);
  }
}

function isJSONObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Turns a sequence of frames into messages, one frame at a time; sans I/O. */
export class Receiver {
  constructor({
    maxFrameBytes = DEFAULT_MAX_FRAME_BYTES,
    maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES,
    maxBuffers = DEFAULT_MAX_BUFFERS,
  } = {}) {
    checkLimit("max_frame_bytes", maxFrameBytes);
    checkLimit("max_message_bytes", maxMessageBytes);
    checkLimit("max_buffers", maxBuffers);
    this.maxFrameBytes = maxFrameBytes;
    this.maxMessageBytes = maxMessageBytes;
    this.maxBuffers = maxBuffers;
    this.reset();
  }

  /** The kind of frame this receiver needs next (an Expecting value). */
  get expecting() {
    return this._expecting;
  }

  /** Drop any partly received message and expect a header frame. */
  reset() {
    this._expecting = Expecting.HEADER;
    // Fresh containers: a message already returned owns the old ones.
    this._header = {};
    this._metadata = {};
    this._content = {};
    this._numBuffers = 0;
    this._buffers = [];
    this._bufferIds = new Set();
    this._bufferId = "";
    this._messageBytes = 0;
  }

  /**
   * Consume one frame; return the message it completes, else null. Throw
   * ProtocolError for a frame that breaks the protocol, after dropping the partial
   * message, so that the next frame is read as a header.
   */
  receive(frame) {
    try {
      return this._receive(frame);
    } catch (err) {
      // Never let leftovers of this message be read as part of the next one.
      this.reset();
      throw err;
    }
  }

  _receive(frame) {
    if (typeof frame !== "string" && !isBinary(frame)) {
      const kind = frame === null ? "null" : typeof frame === "object" ? frame.constructor?.name ?? "object" : typeof frame;
      throw new TypeError(`frame must be str or bytes-like, got ${kind}`);
    }
    const size = frameNbytes(frame);
    if (size > this.maxFrameBytes) {
      throw new MessageTooBigError(`frame too large: ${size} > ${this.maxFrameBytes} bytes`);
    }
    this._messageBytes += size;
    if (this._messageBytes > this.maxMessageBytes) {
      throw new MessageTooBigError(`message too large: ${this._messageBytes} > ${this.maxMessageBytes} bytes`);
    }
    switch (this._expecting) {
      case Expecting.HEADER:
        return this._receiveHeader(frame);
      case Expecting.METADATA:
        return this._receiveMetadata(frame);
      case Expecting.CONTENT:
        return this._receiveContent(frame);
      case Expecting.BUFFER_HEADER:
        return this._receiveBufferHeader(frame);
      default:
        return this._receiveBufferPayload(frame);
    }
  }

  _receiveHeader(frame) {
    const header = this._parse(frame);
    if (!isJSONObject(header)) throw new ProtocolError("header must be a JSON object");
    checkHeader(header);
    const numBuffers = "num_buffers" in header ? header.num_buffers : 0;
    if (!Number.isInteger(numBuffers) || numBuffers < 0) {
      throw new ProtocolError(`num_buffers must be a non-negative integer, got ${pyReprShort(numBuffers)}`);
    }
    if (numBuffers > this.maxBuffers) {
      throw new MessageTooBigError(`too many buffers: ${numBuffers} > ${this.maxBuffers}`);
    }
    this._header = header;
    this._numBuffers = numBuffers;
    this._expecting = Expecting.METADATA;
    return null;
  }

  _receiveMetadata(frame) {
    const metadata = this._parse(frame);
    if (!isJSONObject(metadata)) throw new ProtocolError("metadata must be a JSON object");
    this._metadata = metadata;
    this._expecting = Expecting.CONTENT;
    return null;
  }

  _receiveContent(frame) {
    const content = this._parse(frame);
    if (!isJSONObject(content)) throw new ProtocolError("content must be a JSON object");
    this._content = content;
    if (this._numBuffers === 0) return this._complete();
    this._expecting = Expecting.BUFFER_HEADER;
    return null;
  }

  _receiveBufferHeader(frame) {
    const bufferHeader = this._parse(frame);
    const keys = isJSONObject(bufferHeader) ? Object.keys(bufferHeader) : [];
    if (keys.length !== 1 || keys[0] !== "id" || typeof bufferHeader.id !== "string") {
      throw new ProtocolError(`buffer header must be exactly {"id": <string>}, got ${pyReprShort(bufferHeader)}`);
    }
    const bufferId = bufferHeader.id;
    if (this._bufferIds.has(bufferId)) throw new ProtocolError(`duplicate buffer id ${pyReprShort(bufferId)}`);
    this._bufferIds.add(bufferId);
    this._bufferId = bufferId;
    this._expecting = Expecting.BUFFER_PAYLOAD;
    return null;
  }

  _receiveBufferPayload(frame) {
    if (typeof frame === "string") {
      throw new ProtocolError("expected binary buffer payload frame, got text frame");
    }
    // Kept as received: the socket hands over an ArrayBuffer it no longer uses.
    this._buffers.push([this._bufferId, frame]);
    if (this._buffers.length === this._numBuffers) return this._complete();
    this._expecting = Expecting.BUFFER_HEADER;
    return null;
  }

  _parse(frame) {
    const what = this._expecting;
    if (typeof frame !== "string") throw new ProtocolError(`expected text ${what} frame, got binary frame`);
    try {
      return parseWireJSON(frame);
    } catch {
      throw new ProtocolError(`invalid JSON in ${what} frame`);
    }
  }

  _complete() {
    const message = new Message(this._header, this._metadata, this._content, this._buffers);
    this.reset();
    return message;
  }
}

function checkHeader(header) {
  if (!("msgtype" in header)) throw new ProtocolError("header without msgtype");
  const msgtype = header.msgtype;
  if (typeof msgtype !== "string") throw new ProtocolError(`msgtype must be a string, got ${pyReprShort(msgtype)}`);
  if (!MESSAGE_TYPES.has(msgtype)) throw new ProtocolError(`unknown message type ${pyReprShort(msgtype)}`);
  if (!("msgid" in header)) throw new ProtocolError("header without msgid");
  if (typeof header.msgid !== "string") throw new ProtocolError(`msgid must be a string, got ${pyReprShort(header.msgid)}`);
  if ("reqid" in header && typeof header.reqid !== "string") {
    throw new ProtocolError(`reqid must be a string, got ${pyReprShort(header.reqid)}`);
  }
}
