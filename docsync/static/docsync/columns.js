/**
 * Streaming rows into, and patching cells of, column data: checked, then applied, with
 * the rules of docsync/document/columns.py (numpy's "same_kind" casting included).
 *
 * A column is an Array or a typed array (whose first dimension counts the rows). The
 * checks also accept a ColumnShape, which stands for a column as it will be once the
 * earlier events of a patch are applied, without building it.
 */

import { ALLOWED_DTYPES, dtypeOf, isNdarray, ndarray, shapeOf } from "./arrays.js";
import { ValidationError } from "./exceptions.js";
import { pyRepr, pyReprCut } from "./pyrepr.js";
import { isPlainObject } from "./values.js";

/** A slice of rows, as Python's slice(start, stop, step). */
export class Slice {
  constructor(start = null, stop = null, step = null) {
    this.start = start;
    this.stop = stop;
    this.step = step;
  }

  /** Return [start, stop, step] clamped to ``length`` (for a positive step). */
  indices(length) {
    const clamp = (value, fallback) => (value === null ? fallback : Math.min(Math.max(value, 0), length));
    return [clamp(this.start, 0), clamp(this.stop, length), this.step ?? 1];
  }

  /** Return how many rows of a column of ``length`` rows this slice selects. */
  count(length) {
    const [start, stop, step] = this.indices(length);
    return Math.max(0, Math.ceil((stop - start) / step));
  }

  toString() {
    return `slice(${pyRepr(this.start)}, ${pyRepr(this.stop)}, ${pyRepr(this.step)})`;
  }
}

/** A column as the checks see it: its rows, and a column of the same kind. */
export class ColumnShape {
  constructor(like, rows) {
    this.like = like;
    this.rows = rows;
  }
}

function sample(column) {
  return column instanceof ColumnShape ? column.like : column;
}

/** Return the number of rows of a column. */
export function rowCount(column) {
  if (column instanceof ColumnShape) return column.rows;
  return isNdarray(column) ? shapeOf(column)[0] ?? 1 : column.length;
}

function rowSize(typed) {
  return shapeOf(typed).slice(1).reduce((a, b) => a * b, 1);
}

function tupleRepr(shape) {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
}

const KIND_OF_DTYPE = {
  bool: "b", int8: "i", int16: "i", int32: "i", int64: "i",
  uint8: "u", uint16: "u", uint32: "u", uint64: "u", float32: "f", float64: "f",
};

// The width numpy gives a number turned into text when it meets strings in one array.
const TEXT_WIDTH = { bool: 5, int64: 21, float64: 32 };

function scalarDtype(value) {
  if (typeof value === "boolean") return "bool";
  if (typeof value === "bigint" || (typeof value === "number" && Number.isInteger(value))) return "int64";
  if (typeof value === "number") return "float64";
  return typeof value === "string" ? "str" : "object";
}

const WIDER = { bool: 0, int64: 1, float64: 2 };

// The dtype numpy.asarray gives a flat list of scalars (its name appears in errors).
function commonDtype(items) {
  if (items.length === 0) return "float64";
  const kinds = new Set(items.map(scalarDtype));
  if (kinds.has("object")) return "object";
  if (kinds.has("str")) {
    let width = 0;
    for (const item of items) {
      const kind = scalarDtype(item);
      width = Math.max(width, kind === "str" ? Array.from(item).length : TEXT_WIDTH[kind]);
    }
    return `<U${width}`;
  }
  return [...kinds].reduce((a, b) => (WIDER[b] > WIDER[a] ? b : a));
}

/**
 * Return {dtype, shape, flat, ragged} of a value as numpy.asarray would see it: a typed
 * array as it is, nested Arrays with their shape and the dtype their items need.
 */
function asArray(value) {
  if (isNdarray(value)) return { dtype: dtypeOf(value), shape: shapeOf(value), flat: value, ragged: false };
  if (!Array.isArray(value)) return { dtype: commonDtype([value]), shape: [], flat: [value], ragged: false };
  const shape = [];
  let level = [value];
  while (level.length && level.every(Array.isArray)) {
    const size = level[0].length;
    if (!level.every((item) => item.length === size)) break;
    shape.push(size);
    level = level.flat();
  }
  const ragged = level.some((item) => Array.isArray(item) || isNdarray(item));
  return { dtype: ragged ? "object" : commonDtype(level), shape, flat: level, ragged };
}

const RANGES = {
  int8: [-(2 ** 7), 2 ** 7 - 1], int16: [-(2 ** 15), 2 ** 15 - 1], int32: [-(2 ** 31), 2 ** 31 - 1],
  int64: [-(2n ** 63n), 2n ** 63n - 1n], uint8: [0, 2 ** 8 - 1], uint16: [0, 2 ** 16 - 1],
  uint32: [0, 2 ** 32 - 1], uint64: [0n, 2n ** 64n - 1n],
};

function inRange(value, dtype) {
  const [low, high] = RANGES[dtype];
  if (typeof value === "boolean") return true;
  if (typeof low === "bigint") {
    const big = typeof value === "bigint" ? value : BigInt(value);
    return big >= low && big <= high;
  }
  return value >= low && value <= high;
}

/**
 * Return {array} (as asArray gives it) when ``value`` can join a column of ``dtype``
 * keeping its meaning, else {why}: no floats into integer columns, no numbers into
 * bool columns, no integers out of the column's range (a typed array would wrap them).
 */
// What values of a dtype are, in a refusal (as Python's ``_described``): a user streams text, not "<U1".
function described(dtype) {
  if (dtype.startsWith("<U")) return "text";
  return dtype === "object" ? "values that are not numbers" : dtype;
}

function castable(value, dtype) {
  const array = asArray(value);
  if (array.ragged) return { why: "has ragged or mixed values" };
  if (array.flat.length === 0) return { array };
  const kind = KIND_OF_DTYPE[array.dtype];
  const target = KIND_OF_DTYPE[dtype];
  if (kind === undefined || (target === "b" && kind !== "b") || ("iu".includes(target) && kind === "f")) {
    return { why: `of ${described(array.dtype)} cannot join ${dtype}` };
  }
  if ("iu".includes(target) && "iu".includes(kind) && !Array.prototype.every.call(array.flat, (x) => inRange(x, dtype))) {
    return { why: `has values out of range of ${dtype}` };
  }
  return { array };
}

/** Return ``flat`` values as a typed array of ``dtype`` and ``shape`` (no copy if it already is one). */
function toTyped(flat, dtype, shape) {
  const Class = ALLOWED_DTYPES.get(dtype);
  if (flat instanceof Class && dtypeOf(flat) === dtype) return ndarray(flat, { dtype, shape });
  const out = new Class(flat.length);
  const big = Class === BigInt64Array || Class === BigUint64Array;
  for (let i = 0; i < flat.length; i++) out[i] = coerce(flat[i], big);
  return ndarray(out, { dtype, shape });
}

function coerce(value, big) {
  if (big) return typeof value === "bigint" ? value : BigInt(Number(value));
  return Number(value);
}

/** Return a typed array's values as (nested) Arrays, as numpy's tolist() does. */
function toList(typed) {
  const bool = dtypeOf(typed) === "bool";
  const big = typed instanceof BigInt64Array || typed instanceof BigUint64Array;
  const flat = Array.from(typed, (x) => (bool ? x !== 0 : big && Number.isSafeInteger(Number(x)) ? Number(x) : x));
  const shape = shapeOf(typed);
  let nested = flat;
  for (let d = shape.length - 1; d >= 1; d--) {
    const size = shape[d];
    const grouped = [];
    for (let i = 0; i < nested.length; i += size) grouped.push(nested.slice(i, i + size));
    nested = grouped;
  }
  return nested;
}

function asRows(name, existing, rows) {
  const like = sample(existing);
  if (isNdarray(like)) {
    const dtype = dtypeOf(like);
    const { array, why } = castable(rows, dtype);
    if (array === undefined) throw new ValidationError(`streamed column ${pyRepr(name)} ${why}`);
    const target = shapeOf(like);
    const sameRowShape = array.shape.length === target.length && array.shape.slice(1).every((n, i) => n === target[i + 1]);
    if (!sameRowShape) throw new ValidationError(`streamed column ${pyRepr(name)} has shape ${tupleRepr(array.shape)}`);
    return toTyped(array.flat, dtype, array.shape);
  }
  if (isNdarray(rows)) return toList(rows);
  if (Array.isArray(rows)) return [...rows];
  throw new ValidationError(`streamed column ${pyRepr(name)} must be a list or ndarray`);
}

function sortedStrings(items) {
  return [...items].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Return the rows to stream, normalised to each column's kind, or throw ValidationError. */
export function checkStream(columns, data, rollover) {
  if (!isPlainObject(data) || Object.keys(data).length === 0) {
    throw new ValidationError("stream needs a dict of column name to new rows");
  }
  const have = Object.keys(columns);
  const given = Object.keys(data);
  const missing = have.filter((name) => !Object.hasOwn(data, name));
  const extra = given.filter((name) => !Object.hasOwn(columns, name));
  if (missing.length || extra.length) {
    throw new ValidationError(
      `stream must supply every column: missing ${pyRepr(sortedStrings(missing))}, extra ${pyRepr(sortedStrings(extra))}`,
    );
  }
  if (rollover !== null && (!Number.isInteger(rollover) || rollover < 0)) {
    throw new ValidationError(`rollover must be a non-negative int, got ${pyRepr(rollover)}`);
  }
  const rows = Object.fromEntries(given.map((name) => [name, asRows(name, columns[name], data[name])]));
  const lengths = new Set(Object.values(rows).map(rowCount));
  if (lengths.size > 1) {
    throw new ValidationError(`streamed columns have different lengths: ${pyRepr([...lengths].sort((a, b) => a - b))}`);
  }
  return rows;
}

/** Return the number of rows a column of ``oldRows`` rows has after streaming ``newRows``. */
export function rowsAfterStream(oldRows, newRows, rollover) {
  if (rollover === null) return oldRows + newRows;
  return Math.max(0, Math.min(oldRows, rollover - newRows)) + Math.min(newRows, rollover);
}

// A streamed typed column is a view of a larger buffer with room after it, so that
// appending k rows costs k, not the whole column (streaming 10 rows into 100,000 at
// 20 Hz would otherwise copy 16 MB a second per column). The buffer remembers where its
// newest column ends: only that column may grow in place, and rows are only ever
// written past its end, so an older column (a view someone kept) never changes.
const usedEnd = new WeakMap(); // ArrayBuffer -> byte offset where its newest column ends

function grownColumn(old, keepFrom, added) {
  const Class = old.constructor;
  const bytes = Class.BYTES_PER_ELEMENT;
  const end = old.byteOffset + old.byteLength;
  const length = old.length - keepFrom + added.length;
  if (usedEnd.get(old.buffer) === end && end + added.byteLength <= old.buffer.byteLength) {
    new Class(old.buffer, end, added.length).set(added);
    usedEnd.set(old.buffer, end + added.byteLength);
    return new Class(old.buffer, old.byteOffset + keepFrom * bytes, length);
  }
  // Room for as many rows again (at least 1024 elements): a copy every so many streams.
  const joined = new Class(new ArrayBuffer((length + Math.max(length, 1024)) * bytes), 0, length);
  joined.set(old.subarray(keepFrom));
  joined.set(added, old.length - keepFrom);
  usedEnd.set(joined.buffer, joined.byteLength);
  return joined;
}

/** Return ``old`` with checked ``rows`` appended, keeping at most ``rollover`` rows (a new column; ``old`` is unchanged). */
export function joinColumn(old, rows, rollover) {
  const oldRows = rowCount(old);
  const newRows = rowCount(rows);
  let keep = oldRows;
  let skip = 0;
  if (rollover !== null) {
    keep = Math.max(0, Math.min(oldRows, rollover - newRows));
    if (newRows > rollover) skip = newRows - rollover;
  }
  if (!isNdarray(old)) return old.slice(oldRows - keep).concat(rows.slice(skip));
  const size = rowSize(old);
  const joined = grownColumn(old, (oldRows - keep) * size, rows.subarray(skip * size));
  return ndarray(joined, { dtype: dtypeOf(old), shape: [keep + newRows - skip, ...shapeOf(old).slice(1)] });
}

function checkIndex(name, index, length) {
  if (index instanceof Slice) {
    const badStart = index.start !== null && !(index.start >= 0 && index.start <= length);
    const badStop = index.stop !== null && !(index.stop >= 0 && index.stop <= length);
    if ((index.step ?? 1) <= 0 || badStart || badStop) {
      throw new ValidationError(`patch slice ${index} out of range for column ${pyRepr(name)}`);
    }
    return new Slice(...index.indices(length));
  }
  if (!Number.isInteger(index) || index < 0 || index >= length) {
    throw new ValidationError(`patch index ${pyRepr(index)} out of range for column ${pyRepr(name)}`);
  }
  return index;
}

// A value fits a cell (or the cells of a slice) when it can join the column and has
// exactly the cell's shape: nothing is broadcast.
function fits(column, index, value, length) {
  const { array } = castable(value, dtypeOf(column));
  if (array === undefined) return false;
  const shape = shapeOf(column).slice(1);
  if (index instanceof Slice) shape.unshift(index.count(length));
  return array.shape.length === shape.length && array.shape.every((n, i) => n === shape[i]);
}

/** Return the checked patches {column: [[index or Slice, value], ...]}, or throw ValidationError. */
export function checkPatches(columns, patches) {
  if (!isPlainObject(patches) || Object.keys(patches).length === 0) {
    throw new ValidationError("patch needs a dict of column name to [(index, value), ...]");
  }
  const checked = {};
  for (const [name, entries] of Object.entries(patches)) {
    if (!Object.hasOwn(columns, name)) throw new ValidationError(`cannot patch unknown column ${pyRepr(name)}`);
    if (!Array.isArray(entries)) throw new ValidationError(`patches of column ${pyRepr(name)} must be a list`);
    const column = columns[name];
    const length = rowCount(column);
    checked[name] = entries.map((entry) => {
      if (!Array.isArray(entry) || entry.length !== 2) {
        throw new ValidationError(`patch of column ${pyRepr(name)} must be (index, value) pairs`);
      }
      const index = checkIndex(name, entry[0], length);
      let value = entry[1];
      if (index instanceof Slice) {
        const count = index.count(length);
        if (!(Array.isArray(value) || isNdarray(value)) || rowCount(value) !== count) {
          throw new ValidationError(`patch slice of column ${pyRepr(name)} needs ${count} values`);
        }
        if (Array.isArray(value)) value = [...value];
      }
      if (isNdarray(sample(column)) && !fits(sample(column), index, value, length)) {
        throw new ValidationError(`patch value ${pyReprCut(value, 40)} does not fit column ${pyRepr(name)}`);
      }
      return [index, value];
    });
  }
  return checked;
}

function writeRow(column, row, value) {
  const size = rowSize(column);
  const big = column instanceof BigInt64Array || column instanceof BigUint64Array;
  const flat = asArray(value).flat;
  for (let i = 0; i < size; i++) column[row * size + i] = coerce(flat[i], big);
}

/** Write checked patches into the columns of ``data``, in place. */
export function applyPatches(data, patches) {
  for (const [name, entries] of Object.entries(patches)) {
    const column = data[name];
    const typed = isNdarray(column);
    for (const [index, value] of entries) {
      if (!(index instanceof Slice)) {
        if (typed) writeRow(column, index, value);
        else column[index] = value;
        continue;
      }
      const [start, , step] = index.indices(rowCount(column));
      const count = rowCount(value);
      for (let k = 0; k < count; k++) {
        const item = isNdarray(value) && rowSize(value) > 1 ? value.subarray(k * rowSize(value), (k + 1) * rowSize(value)) : value[k];
        if (typed) writeRow(column, start + k * step, item);
        else column[start + k * step] = item;
      }
    }
  }
}
