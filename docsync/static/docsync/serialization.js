/**
 * Typed JSON values, model references and ndarrays as binary buffers; the mirror of
 * docsync/serialization/.
 *
 * Value mapping (Python -> JavaScript):
 *   None, bool, int, float, str  -> null, boolean, number, number, string
 *   NaN, +inf, -inf              -> NaN, Infinity, -Infinity
 *   list, tuple                  -> Array
 *   dict with string keys        -> plain object; any other dict -> Map
 *   set                          -> Set
 *   bytes                        -> ArrayBuffer
 *   numpy array                  -> typed array (see arrays.js for bool and shape)
 *   datetime.date / datetime     -> IsoDate / IsoDateTime (the ISO text, kept exactly)
 *   datetime.time                -> IsoTime (the ISO text "HH:MM:SS[.ffffff][+HH:MM]")
 *   model                        -> the model object ({"id": ...} on the wire)
 */

import {
  arrayFromBuffer, arrayToBuffer, bytesOf, decodeBase64, encodeBase64, isNdarray,
} from "./arrays.js";
import { DeserializationError, SerializationError, ValidationError } from "./exceptions.js";
import { pyReprCut } from "./pyrepr.js";
import { dictUpdate, isDict, isPlainObject, setHas } from "./values.js";

/** Objects with ``[MODEL_REF] === true`` (models) travel as references {"id": ...}. */
export const MODEL_REF = Symbol.for("docsync.modelRef");

/** Tell whether ``value`` travels as a reference {"id": ...} (a model). */
export function isReference(value) {
  return value !== null && typeof value === "object" && value[MODEL_REF] === true;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME = /^(\d{2})(:\d{2}(:\d{2}([.,]\d{1,6})?)?)?(Z|[+-]\d{2}(:?\d{2}(:?\d{2}([.,]\d{1,6})?)?)?)?$/;

/** Tell whether ``text`` is an ISO calendar date "YYYY-MM-DD" of a real day. */
export function isIsoDate(text) {
  const match = typeof text === "string" && DATE.exec(text);
  if (!match) return false;
  const [year, month, day] = match.slice(1).map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  return year >= 1 && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** Tell whether ``text`` is an ISO datetime: a date, then optionally "T" or " ", a time and an offset. */
export function isIsoDateTime(text) {
  if (typeof text !== "string" || !isIsoDate(text.slice(0, 10))) return false;
  return text.length === 10 || ((text[10] === "T" || text[10] === " ") && TIME.test(text.slice(11)));
}

/** Tell whether ``text`` is an ISO time of day "HH:MM[:SS[.ffffff]]", maybe with an offset. */
export function isIsoTime(text) {
  const match = typeof text === "string" && TIME.exec(text);
  if (!match || match[2] === undefined) return false;
  const [hours, minutes, seconds] = text.split(/[.,+Z-]/)[0].split(":").map(Number);
  return hours < 24 && minutes < 60 && (seconds === undefined || seconds < 60);
}

/** A time of day (Python datetime.time), kept as its ISO text. */
export class IsoTime {
  constructor(iso) {
    if (!isIsoTime(iso)) throw new ValidationError(`invalid time ${pyReprCut(iso, 40)}`);
    this.iso = iso;
    Object.freeze(this);
  }

  toString() {
    return this.iso;
  }
}

/** A calendar date (Python datetime.date), kept as its ISO text "YYYY-MM-DD". */
export class IsoDate {
  constructor(iso) {
    if (!isIsoDate(iso)) throw new ValidationError(`invalid date ${pyReprCut(iso, 40)}`);
    this.iso = iso;
    Object.freeze(this);
  }

  /** Return the date of a JavaScript Date, in UTC. */
  static fromDate(date) {
    return new IsoDate(date.toISOString().slice(0, 10));
  }

  /** Return a JavaScript Date at midnight UTC of this date. */
  toDate() {
    return new Date(`${this.iso}T00:00:00Z`);
  }

  /** Return the milliseconds since 1970-01-01 UTC of its midnight UTC, as Bokeh stores a date in a column. */
  epochMillis() {
    return this.toDate().getTime();
  }

  toString() {
    return this.iso;
  }
}

/** A date and time (Python datetime.datetime), kept as its ISO text, microseconds and offset included. */
export class IsoDateTime {
  constructor(iso) {
    if (!isIsoDateTime(iso)) throw new ValidationError(`invalid datetime ${pyReprCut(iso, 40)}`);
    this.iso = iso;
    Object.freeze(this);
  }

  /** Return the datetime of a JavaScript Date (UTC, millisecond precision). */
  static fromDate(date) {
    return new IsoDateTime(date.toISOString());
  }

  /** Return a JavaScript Date (sub-millisecond digits are dropped). */
  toDate() {
    return new Date(this.iso.replace(/([.,]\d{3})\d+/, "$1"));
  }

  /**
   * Return the milliseconds since 1970-01-01 UTC, as Bokeh stores a datetime in a column:
   * one without an offset is read as UTC (as Bokeh reads it), not in the browser's zone.
   */
  epochMillis() {
    const time = this.iso.length === 10 ? "00:00:00" : this.iso.slice(11);
    let clock = time.replace(/([.,]\d{3})\d+/, "$1").replace(",", ".");
    clock = clock.replace(/([+-]\d{2})(\d{2})$/, "$1:$2"); // +0100: Date.parse takes +01:00
    const zoned = /[zZ+-]/.test(clock);
    return Date.parse(`${this.iso.slice(0, 10)}T${clock}${zoned ? "" : "Z"}`);
  }

  toString() {
    return this.iso;
  }
}

const TIME_KINDS = {
  date: [isIsoDate, IsoDate],
  datetime: [isIsoDateTime, IsoDateTime],
  time: [isIsoTime, IsoTime],
};

const SPECIAL_NUMBERS = new Map([["nan", NaN], ["+inf", Infinity], ["-inf", -Infinity]]);

function noReferences(modelId) {
  throw new DeserializationError(`reference to unknown model id ${pyReprCut(modelId, 60)}`);
}

// Python refuses dicts, sets of dicts and arrays as map keys or set entries.
function hashable(value) {
  if (Array.isArray(value)) return value.every(hashable);
  return !(isDict(value) || isNdarray(value));
}

/** Turns typed JSON back into values, trusting nothing it is given. */
export class Decoder {
  /**
   * ``buffers``: Map from buffer id to the binary payload that came with the message;
   * ``resolveRef(id)``: the model with that id (throws DeserializationError if unknown).
   */
  constructor(buffers = new Map(), { resolveRef = noReferences, maxArrayElements = 100_000_000, maxDepth = 64 } = {}) {
    this.buffers = buffers;
    this.resolveRef = resolveRef;
    this.maxArrayElements = maxArrayElements;
    this.maxDepth = maxDepth;
  }

  /** Return the value of JSON-able ``value``. */
  decode(value, depth = 0) {
    if (value === null || typeof value === "boolean" || typeof value === "string" || typeof value === "number") {
      return value;
    }
    if (depth >= this.maxDepth) throw new DeserializationError(`value nested deeper than ${this.maxDepth} levels`);
    if (Array.isArray(value)) return value.map((item) => this.decode(item, depth + 1));
    if (isPlainObject(value)) {
      if (Object.hasOwn(value, "type")) return this._decodeTyped(value, depth);
      const keys = Object.keys(value);
      if (keys.length === 1 && keys[0] === "id") {
        if (typeof value.id !== "string") throw new DeserializationError(`invalid reference ${pyReprCut(value, 60)}`);
        return this.resolveRef(value.id);
      }
      return Object.fromEntries(keys.map((key) => [key, this.decode(value[key], depth + 1)]));
    }
    throw new DeserializationError(`cannot decode value of type ${value?.constructor?.name ?? typeof value}`);
  }

  _decodeTyped(value, depth) {
    const kind = value.type;
    switch (kind) {
      case "number": {
        if (!SPECIAL_NUMBERS.has(value.value)) throw new DeserializationError(`invalid number ${pyReprCut(value.value ?? null, 40)}`);
        return SPECIAL_NUMBERS.get(value.value);
      }
      case "map":
        return this._decodeMap(value.entries ?? [], depth);
      case "set":
        return this._decodeSet(value.entries ?? [], depth);
      case "bytes":
        return this._bytes(this._payload(value));
      case "ndarray":
        return arrayFromBuffer(this._payload(value), value.dtype ?? null, value.shape ?? null, value.order ?? null, this.maxArrayElements);
      case "date":
      case "datetime":
      case "time":
        return this._decodeTime(kind, value.iso);
      default:
        throw new DeserializationError(`unknown value type ${pyReprCut(kind, 40)}`);
    }
  }

  _decodeMap(entries, depth) {
    if (!Array.isArray(entries)) throw new DeserializationError("map entries must be a list");
    let result = new Map();
    for (const entry of entries) {
      if (!Array.isArray(entry) || entry.length !== 2) {
        throw new DeserializationError(`map entry must be a [key, value] pair: ${pyReprCut(entry, 60)}`);
      }
      // Three JSON levels below the map (its object, its entries, the pair): depth counts JSON levels, as in Python.
      const key = this.decode(entry[0], depth + 3);
      if (!hashable(key)) throw new DeserializationError("unhashable map key");
      result = dictUpdate(result, [[key, this.decode(entry[1], depth + 3)]]);
    }
    return result;
  }

  _decodeSet(entries, depth) {
    if (!Array.isArray(entries)) throw new DeserializationError("set entries must be a list");
    const result = new Set();
    for (const entry of entries) {
      const item = this.decode(entry, depth + 2); // two JSON levels below the set: its object, its entries
      if (!hashable(item)) throw new DeserializationError("unhashable set entry");
      if (!setHas(result, item)) result.add(item);
    }
    return result;
  }

  _payload(value) {
    // protocol.md §7: one of the two, never both (as the Python decoder refuses it).
    if (Object.hasOwn(value, "buffer") && Object.hasOwn(value, "base64")) {
      throw new DeserializationError("binary value with both 'buffer' and 'base64'");
    }
    if (Object.hasOwn(value, "buffer")) {
      const bufferId = value.buffer;
      if (typeof bufferId !== "string" || !this.buffers.has(bufferId)) {
        throw new DeserializationError(`missing buffer ${pyReprCut(bufferId, 40)}`);
      }
      return this.buffers.get(bufferId);
    }
    if (Object.hasOwn(value, "base64")) return decodeBase64(value.base64);
    throw new DeserializationError("binary value without 'buffer' or 'base64'");
  }

  _bytes(data) {
    const [buffer, offset, length] = bytesOf(data);
    // A whole frame is handed over as is; only a part of a larger buffer is copied out.
    return offset === 0 && length === buffer.byteLength ? buffer : buffer.slice(offset, offset + length);
  }

  _decodeTime(kind, iso) {
    if (typeof iso !== "string") throw new DeserializationError(`${kind} without an ISO string`);
    const [valid, Type] = TIME_KINDS[kind];
    if (!valid(iso)) throw new DeserializationError(`invalid ${kind} ${pyReprCut(iso, 40)}`);
    return new Type(iso);
  }
}

// A JSON object is only unambiguous when it cannot be mistaken for a typed value (a
// "type" key) or a reference (exactly one "id" key).
function needsMap(keys) {
  if (keys.includes("type") || (keys.length === 1 && keys[0] === "id")) return true;
  return !keys.every((key) => typeof key === "string");
}

/**
 * Turns values into JSON-able objects, collecting buffers and referenced models. With
 * ``useBuffers`` false, arrays and bytes are written as base64 instead.
 */
export class Encoder {
  constructor({ useBuffers = true, bufferPrefix = "" } = {}) {
    this.useBuffers = useBuffers;
    this.bufferPrefix = bufferPrefix;
    /** [id, payload] pairs, in the order added. */
    this.buffers = [];
    /** Models met while encoding, by id, in the order first met. */
    this.referenced = new Map();
    this._nextBuffer = 0;
  }

  /** Queue binary ``data`` as a buffer and return its id. */
  addBuffer(data) {
    const bufferId = `${this.bufferPrefix}${this._nextBuffer}`;
    this._nextBuffer += 1;
    this.buffers.push([bufferId, data]);
    return bufferId;
  }

  /** Return the JSON-able form of ``value``. */
  encode(value) {
    if (value === null || typeof value === "boolean" || typeof value === "string") return value;
    if (typeof value === "number") return Number.isFinite(value) ? value : encodeSpecialNumber(value);
    if (typeof value === "bigint") return encodeBigInt(value);
    if (Array.isArray(value)) return value.map((item) => this.encode(item));
    if (isReference(value)) {
      if (!this.referenced.has(value.id)) this.referenced.set(value.id, value);
      return { id: value.id };
    }
    if (value instanceof Map) return this._encodeDict([...value]);
    if (isPlainObject(value)) return this._encodeDict(Object.entries(value));
    if (value instanceof Set) return { type: "set", entries: [...value].map((item) => this.encode(item)) };
    if (value instanceof ArrayBuffer) return { type: "bytes", ...this._payload(value) };
    if (isNdarray(value)) {
      const [bytes, description] = arrayToBuffer(value);
      return { type: "ndarray", ...this._payload(bytes), ...description };
    }
    if (value instanceof IsoDate) return { type: "date", iso: value.iso };
    if (value instanceof IsoDateTime) return { type: "datetime", iso: value.iso };
    if (value instanceof IsoTime) return { type: "time", iso: value.iso };
    if (value instanceof Date) {
      if (Number.isNaN(value.getTime())) throw new SerializationError("cannot encode an invalid Date");
      return { type: "datetime", iso: value.toISOString() };
    }
    const kind = value === undefined ? "undefined" : value?.constructor?.name ?? typeof value;
    throw new SerializationError(`cannot encode value of type ${kind}`);
  }

  _encodeDict(entries) {
    const keys = entries.map(([key]) => key);
    if (needsMap(keys)) {
      return { type: "map", entries: entries.map(([key, item]) => [this.encode(key), this.encode(item)]) };
    }
    return Object.fromEntries(entries.map(([key, item]) => [key, this.encode(item)]));
  }

  _payload(data) {
    if (this.useBuffers) return { buffer: this.addBuffer(data) };
    return { base64: encodeBase64(data) };
  }
}

function encodeSpecialNumber(value) {
  if (Number.isNaN(value)) return { type: "number", value: "nan" };
  return { type: "number", value: value > 0 ? "+inf" : "-inf" };
}

function encodeBigInt(value) {
  const number = Number(value);
  if (!Number.isSafeInteger(number)) {
    throw new SerializationError(`integer ${value} cannot travel exactly in JSON; use an int64 array`);
  }
  return number;
}
