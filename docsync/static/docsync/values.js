/**
 * Equality and keyed access for decoded values, with Python's meaning.
 *
 * A Python dict travels as a JSON object when its keys are strings and as a typed map
 * otherwise; here the first is a plain object and the second a Map. Python compares
 * tuple keys by value where a Map compares objects by identity, so keyed access goes
 * through these helpers.
 */

import { dtypeOf, isNdarray, shapeOf } from "./arrays.js";

/** Tell whether ``value`` is a plain object (a JSON object), not a Map, array or class instance. */
export function isPlainObject(value) {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Tell whether ``value`` is a dict: a plain object or a Map. */
export function isDict(value) {
  return value instanceof Map || isPlainObject(value);
}

/** Return the [key, value] entries of a dict (plain object or Map). */
export function entriesOf(dict) {
  return dict instanceof Map ? [...dict] : Object.entries(dict);
}

/** Tell whether ``value`` is a JSON scalar (null, a boolean, a number or a string) rather than an object. */
export function isPrimitive(value) {
  return value === null || (typeof value !== "object" && typeof value !== "function");
}

/** Compare two decoded values by value, as Python's == does (NaN equals NaN here). */
export function deepEqual(a, b) {
  if (a === b) return true;
  if (typeof a === "number" && typeof b === "number") return Number.isNaN(a) && Number.isNaN(b);
  if (isPrimitive(a) || isPrimitive(b)) return false;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  }
  if (isNdarray(a)) {
    return isNdarray(b) && a.constructor === b.constructor && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (a instanceof ArrayBuffer) {
    return b instanceof ArrayBuffer && deepEqual(new Uint8Array(a), new Uint8Array(b));
  }
  if (a instanceof Set) {
    return b instanceof Set && a.size === b.size && [...a].every((item) => setHas(b, item));
  }
  if (isDict(a)) {
    if (!isDict(b)) return false;
    const left = entriesOf(a);
    if (left.length !== entriesOf(b).length) return false;
    return left.every(([key, value]) => {
      const found = findKey(b, key);
      return found.found && deepEqual(value, dictGet(b, found.key));
    });
  }
  if (typeof a.iso === "string" && a.constructor === b.constructor) return a.iso === b.iso;
  return false;
}

/**
 * Tell whether a pulled ``value`` holds what the held ``old`` holds, as a receiver would
 * see it: the mirror of docsync/document/pulled.py's ``_equal``. Models by identity,
 * typed arrays by dtype, shape and bytes, lists and dicts item by item and in order;
 * numbers as Object.is (NaN equals NaN, 0 is not -0: 1/x tells them apart).
 */
export function samePulled(old, value) {
  if (typeof old === "number" || typeof value === "number") return Object.is(old, value);
  if (old === value) return true;
  if (isPrimitive(old) || isPrimitive(value)) return false;
  if (Array.isArray(old)) {
    if (!Array.isArray(value) || old.length !== value.length) return false;
    for (let i = 0; i < old.length; i++) if (!samePulled(old[i], value[i])) return false;
    return true;
  }
  if (isNdarray(old) || isNdarray(value)) return sameArray(old, value);
  if (old instanceof ArrayBuffer) return value instanceof ArrayBuffer && sameBytes(old, value);
  if (old instanceof Set) return value instanceof Set && old.size === value.size && [...old].every((item) => setHas(value, item));
  if (isDict(old)) {
    if (!isDict(value)) return false;
    const left = entriesOf(old);
    const right = entriesOf(value);
    if (left.length !== right.length) return false;
    for (let i = 0; i < left.length; i++) {
      if (!samePulled(left[i][0], right[i][0]) || !samePulled(left[i][1], right[i][1])) return false;
    }
    return true;
  }
  if (typeof old.iso === "string" && old.constructor === value.constructor) return old.iso === value.iso;
  return false; // models (by identity, above) and anything else
}

function sameArray(old, value) {
  if (!isNdarray(old) || !isNdarray(value) || dtypeOf(old) !== dtypeOf(value)) return false;
  const [left, right] = [shapeOf(old), shapeOf(value)];
  return left.length === right.length && left.every((size, i) => size === right[i]) && sameBytes(old, value);
}

/** Compare the bytes of two ArrayBuffers or views, four at a time where both are aligned for it. */
function sameBytes(a, b) {
  const [bufferA, offsetA, length] = bytesView(a);
  const [bufferB, offsetB, lengthB] = bytesView(b);
  if (length !== lengthB) return false;
  // Whole words: a quarter of the steps, and no float compare (NaN, -0) to get wrong.
  const words = offsetA % 4 === 0 && offsetB % 4 === 0 ? length >>> 2 : 0;
  if (words > 0) {
    const left = new Uint32Array(bufferA, offsetA, words);
    const right = new Uint32Array(bufferB, offsetB, words);
    for (let i = 0; i < words; i++) if (left[i] !== right[i]) return false;
  }
  const left = new Uint8Array(bufferA, offsetA, length);
  const right = new Uint8Array(bufferB, offsetB, length);
  for (let i = words * 4; i < length; i++) if (left[i] !== right[i]) return false;
  return true;
}

function bytesView(data) {
  return data instanceof ArrayBuffer ? [data, 0, data.byteLength] : [data.buffer, data.byteOffset, data.byteLength];
}

/**
 * Find ``key`` in a dict; return {found, key} where key is the stored key (which for a
 * tuple-like array key is the stored array, equal by value to the one asked for).
 */
export function findKey(dict, key) {
  if (!(dict instanceof Map)) {
    const found = typeof key === "string" && Object.hasOwn(dict, key);
    return { found, key };
  }
  if (isPrimitive(key) || dict.has(key)) return { found: dict.has(key), key };
  for (const stored of dict.keys()) {
    if (deepEqual(stored, key)) return { found: true, key: stored };
  }
  return { found: false, key };
}

/** Return the value stored under ``key`` (an exact stored key, as findKey returns). */
export function dictGet(dict, key) {
  return dict instanceof Map ? dict.get(key) : dict[key];
}

/** Tell whether a Set holds ``item``, comparing by value. */
export function setHas(set, item) {
  if (set.has(item)) return true;
  if (isPrimitive(item)) return typeof item === "number" && Number.isNaN(item) && [...set].some((x) => Number.isNaN(x));
  for (const stored of set) if (deepEqual(stored, item)) return true;
  return false;
}

/** Set entries into a dict in place, keeping Python's key equality; return the dict to store. */
export function dictUpdate(dict, entries) {
  let target = dict;
  for (const [key, value] of entries) {
    if (!(target instanceof Map) && typeof key !== "string") {
      // A plain object holds string keys only; a Map keeps the order and the rest.
      target = new Map(Object.entries(target));
    }
    if (target instanceof Map) target.set(findKey(target, key).key, value);
    // defineProperty, so that a key "__proto__" is an entry and not the prototype.
    else Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  }
  return target;
}

/** Delete keys from a dict in place (each must be present). */
export function dictDelete(dict, keys) {
  for (const key of keys) {
    const found = findKey(dict, key);
    if (dict instanceof Map) dict.delete(found.key);
    else delete dict[found.key];
  }
}

/** Return a shallow copy of a dict, of the same kind. */
export function dictCopy(dict) {
  // fromEntries defines properties, so that a key "__proto__" stays an entry.
  return dict instanceof Map ? new Map(dict) : Object.fromEntries(Object.entries(dict));
}
