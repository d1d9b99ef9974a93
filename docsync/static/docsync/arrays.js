/**
 * numpy arrays as typed arrays: from binary buffers (no copy when aligned and in the
 * host's byte order) and back, checking everything that arrives, as
 * docsync/serialization/arrays.py does.
 *
 * A decoded ndarray is a plain typed array (Float64Array, BigInt64Array, ...). What the
 * typed array's class cannot say — dtype "bool" over a Uint8Array, or a shape of more
 * than one dimension — is remembered beside it, so that encoding it again gives the
 * same description.
 */

import { DeserializationError, SerializationError } from "./exceptions.js";
import { pyRepr, pyReprCut } from "./pyrepr.js";

/** The dtypes that may travel, with the typed array that holds each. */
export const ALLOWED_DTYPES = new Map([
  ["bool", Uint8Array],
  ["int8", Int8Array],
  ["int16", Int16Array],
  ["int32", Int32Array],
  ["int64", BigInt64Array],
  ["uint8", Uint8Array],
  ["uint16", Uint16Array],
  ["uint32", Uint32Array],
  ["uint64", BigUint64Array],
  ["float32", Float32Array],
  ["float64", Float64Array],
]);

const DTYPE_OF_CLASS = new Map([
  [Int8Array, "int8"],
  [Int16Array, "int16"],
  [Int32Array, "int32"],
  [BigInt64Array, "int64"],
  [Uint8Array, "uint8"],
  [Uint8ClampedArray, "uint8"],
  [Uint16Array, "uint16"],
  [Uint32Array, "uint32"],
  [BigUint64Array, "uint64"],
  [Float32Array, "float32"],
  [Float64Array, "float64"],
]);

/** The host's byte order, "little" or "big". */
export const NATIVE_ORDER = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? "little" : "big";
export const MAX_DIMENSIONS = 8;

// Typed array -> {dtype, shape}, only for arrays whose class does not say it all. A
// WeakMap, so that the typed arrays stay plain (and are freed with their data).
const descriptions = new WeakMap();

/** Tell whether ``value`` is a typed array (an ndarray), not a DataView or an ArrayBuffer. */
export function isNdarray(value) {
  return ArrayBuffer.isView(value) && !(value instanceof DataView);
}

/** Remember that ``typed`` holds dtype ``dtype`` (e.g. "bool") and/or has ``shape``; return it. */
export function ndarray(typed, { dtype = dtypeOf(typed), shape = shapeOf(typed) } = {}) {
  if (ALLOWED_DTYPES.get(dtype) !== typed.constructor && !(dtype === "uint8" && typed instanceof Uint8ClampedArray)) {
    throw new TypeError(`dtype ${dtype} does not fit a ${typed.constructor.name}`);
  }
  if (shape.reduce((a, b) => a * b, 1) !== typed.length) {
    throw new TypeError(`shape [${shape}] does not fit ${typed.length} elements`);
  }
  if (dtype === DTYPE_OF_CLASS.get(typed.constructor) && shape.length === 1) descriptions.delete(typed);
  else descriptions.set(typed, { dtype, shape: [...shape] });
  return typed;
}

/** Return the dtype name of a typed array ("bool" for one tagged so). */
export function dtypeOf(typed) {
  return descriptions.get(typed)?.dtype ?? DTYPE_OF_CLASS.get(typed.constructor);
}

/** Return the shape of a typed array ([length] unless tagged otherwise). */
export function shapeOf(typed) {
  const shape = descriptions.get(typed)?.shape;
  return shape ? [...shape] : [typed.length];
}

/** Return the bytes of ``typed`` (a view, no copy) and its {dtype, shape, order}. */
export function arrayToBuffer(typed) {
  const dtype = dtypeOf(typed);
  if (dtype === undefined) throw new SerializationError(`dtype of ${typed.constructor.name} cannot be sent`);
  const bytes = new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
  return [bytes, { dtype, shape: shapeOf(typed), order: NATIVE_ORDER }];
}

function checkedShape(shape, maxElements) {
  if (!Array.isArray(shape) || shape.length > MAX_DIMENSIONS) {
    throw new DeserializationError(`invalid ndarray shape ${pyReprCut(shape, 80)}`);
  }
  let count = 1;
  for (const size of shape) {
    if (!Number.isInteger(size) || size < 0) {
      throw new DeserializationError(`invalid ndarray shape ${pyReprCut(shape, 80)}`);
    }
    // Checked one by one too: a zero elsewhere in the shape hides a huge size from the product.
    if (size > maxElements) throw new DeserializationError(`ndarray too large: ${size} > ${maxElements} elements`);
    count *= size;
  }
  if (count > maxElements) throw new DeserializationError(`ndarray too large: ${count} > ${maxElements} elements`);
  return count;
}

function swapBytes(bytes, itemsize) {
  for (let start = 0; start < bytes.length; start += itemsize) {
    bytes.subarray(start, start + itemsize).reverse();
  }
}

/** Return [ArrayBuffer, byteOffset, byteLength] of binary ``data``. */
export function bytesOf(data) {
  if (data instanceof ArrayBuffer) return [data, 0, data.byteLength];
  return [data.buffer, data.byteOffset, data.byteLength];
}

/** Build a typed array over ``data`` (no copy when aligned and native), after checking it all. */
export function arrayFromBuffer(data, dtypeName, shape, order, maxElements) {
  const Class = typeof dtypeName === "string" ? ALLOWED_DTYPES.get(dtypeName) : undefined;
  if (Class === undefined) throw new DeserializationError(`dtype not allowed: ${pyReprCut(dtypeName, 40)}`);
  if (order !== "little" && order !== "big") {
    throw new DeserializationError(`invalid byte order ${pyReprCut(order, 40)}`);
  }
  const count = checkedShape(shape, maxElements);
  const itemsize = Class.BYTES_PER_ELEMENT;
  const expected = count * itemsize;
  const [buffer, offset, length] = bytesOf(data);
  if (length !== expected) {
    throw new DeserializationError(
      `buffer length ${length} does not match ${dtypeName}${pyRepr(shape)} (${expected} bytes)`,
    );
  }
  let typed;
  if (itemsize > 1 && order !== NATIVE_ORDER) {
    const copy = new Uint8Array(buffer.slice(offset, offset + length));
    swapBytes(copy, itemsize);
    typed = new Class(copy.buffer);
  } else if (offset % itemsize === 0) {
    typed = new Class(buffer, offset, count);
  } else {
    // A typed array must start at a multiple of its item size: only then is a copy paid.
    typed = new Class(buffer.slice(offset, offset + length));
  }
  if (dtypeName === "bool" || shape.length !== 1) ndarray(typed, { dtype: dtypeName, shape });
  return typed;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decode a base64 string into a new ArrayBuffer, refusing anything else. */
export function decodeBase64(text) {
  if (typeof text !== "string") {
    throw new DeserializationError(`base64 data must be a string, got ${pyTypeName(text)}`);
  }
  if (!BASE64.test(text) || text.length % 4 !== 0) throw new DeserializationError("invalid base64 data");
  // Where the browser decodes base64 natively (Chromium 140+, Firefox 133+), it is many
  // times faster than atob and a loop over its characters.
  if (typeof Uint8Array.fromBase64 === "function") return Uint8Array.fromBase64(text).buffer;
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes.buffer;
}

/** Encode binary data (ArrayBuffer or view) as base64. */
export function encodeBase64(data) {
  const [buffer, offset, length] = bytesOf(data);
  const bytes = new Uint8Array(buffer, offset, length);
  const CHUNK = 0x8000; // String.fromCharCode takes its bytes as arguments: keep them few
  let binary = "";
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + CHUNK));
  }
  return btoa(binary);
}

/** Return the name Python would give the type of a JSON value. */
export function pyTypeName(value) {
  if (value === null) return "NoneType";
  if (typeof value === "boolean") return "bool";
  if (typeof value === "number") return Number.isInteger(value) ? "int" : "float";
  if (typeof value === "string") return "str";
  if (Array.isArray(value)) return "list";
  if (typeof value === "object") return "dict";
  return typeof value;
}
