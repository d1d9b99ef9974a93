/**
 * Data specs resolved against a data source: each glyph property is a constant
 * ({value}), a column ({field}, maybe through a {transform}) or an expression ({expr}:
 * a Stack of columns). Numbers come out as Float64Arrays (typed columns are used as
 * they are, no copy) or one number; colours as one CSS string or an Array of them.
 */

import { numberAt } from "../dom.js";
import { factorCoordinates } from "./factors.js";
import { mapColors, mapMarkers, transformNumbers } from "./mappers.js";

/** Return the number of rows of a data source's columns. */
export function rowCount(data) {
  for (const column of Object.values(data ?? {})) {
    const shape = column?.length;
    if (typeof shape === "number") return shape;
  }
  return 0;
}

function isNumericTyped(column) {
  return ArrayBuffer.isView(column) && !(column instanceof BigInt64Array || column instanceof BigUint64Array) && !(column instanceof DataView);
}

/** Return a column's first ``n`` values as numbers (a typed array as it is when it can be). */
export function numericColumn(column, n) {
  if (isNumericTyped(column)) return column.length === n ? column : column.subarray(0, n);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = numberAt(column, i);
  return out;
}

function hasFactors(column) {
  if (ArrayBuffer.isView(column)) return false;
  for (let i = 0; i < column.length; i++) {
    const v = column[i];
    if (v !== null && v !== undefined) return typeof v === "string" || (Array.isArray(v) && typeof v[0] === "string");
  }
  return false;
}

function stackSum(expr, data, n, prop) {
  const out = new Float64Array(n);
  for (const name of prop("fields", expr) ?? []) {
    const column = data[name];
    if (!column) continue;
    const values = numericColumn(column, n);
    for (let i = 0; i < n; i++) out[i] += values[i];
  }
  return out;
}

/**
 * Return a numeric spec resolved over ``n`` rows: a number, or a Float64Array (or the
 * column's own typed array). ``factors``: the FactorRange layout of the dimension, when
 * categorical. Ragged columns (lists of arrays, for MultiLine) come out as an Array of arrays.
 */
export function resolveNumbers(spec, data, n, prop, factors = null) {
  if (!spec || typeof spec !== "object") return typeof spec === "number" ? spec : NaN;
  if (Object.hasOwn(spec, "value")) {
    const v = spec.value;
    if (factors && (typeof v === "string" || Array.isArray(v))) return factorCoordinates(factors, [v])[0];
    return typeof v === "number" ? v : v === null ? NaN : Number(v);
  }
  let values;
  if (spec.expr) values = stackSum(spec.expr, data, n, prop);
  else {
    const column = data[spec.field];
    if (column === undefined) return NaN;
    if (!ArrayBuffer.isView(column) && column.length && (Array.isArray(column[0]) || ArrayBuffer.isView(column[0])) && !hasFactors(column)) {
      return Array.from({ length: Math.min(n, column.length) }, (_, i) => numericColumn(column[i], column[i].length));
    }
    if (factors && hasFactors(column)) values = factorCoordinates(factors, Array.prototype.slice.call(column, 0, n));
    else values = numericColumn(column, n);
  }
  if (spec.transform) values = transformNumbers(spec.transform, Float64Array.from(values), prop);
  return values;
}

/** Return a colour spec resolved over ``n`` rows: one CSS string (or null), or an Array of them. */
export function resolveColors(spec, data, n, prop) {
  if (!spec || typeof spec !== "object") return spec ?? null;
  if (Object.hasOwn(spec, "value")) return spec.value;
  const column = data[spec.field];
  if (column === undefined) return null;
  if (spec.transform) return mapColors(spec.transform, Array.prototype.slice.call(column, 0, n), prop);
  return Array.prototype.slice.call(column, 0, n).map((c) => (c === null || c === undefined ? null : String(c)));
}

/** Return a string spec (texts, markers) resolved over ``n`` rows: one string, or an Array of them. */
export function resolveStrings(spec, data, n, prop) {
  if (!spec || typeof spec !== "object") return spec ?? "";
  if (Object.hasOwn(spec, "value")) return spec.value;
  const column = data[spec.field];
  if (column === undefined) return "";
  const values = Array.prototype.slice.call(column, 0, n);
  if (spec.transform?.type === "CategoricalMarkerMapper") return mapMarkers(spec.transform, values, prop);
  return values.map((v) => (v === null || v === undefined ? "" : String(v)));
}

/** Return the value of a resolved spec at row ``i``. */
export function at(resolved, i) {
  return resolved !== null && typeof resolved === "object" ? resolved[i] : resolved;
}

/** Resolve a glyph's line, fill or text properties ({color, alpha, width, dash, ...}) over ``n`` rows. */
export function resolveVisuals(kind, glyph, data, n, prop) {
  const get = (attr) => prop(`${kind}_${attr}`, glyph);
  if (kind === "line") {
    return {
      color: resolveColors(get("color"), data, n, prop),
      alpha: resolveNumbers(get("alpha"), data, n, prop),
      width: resolveNumbers(get("width"), data, n, prop),
      dash: get("dash"),
      dashOffset: get("dash_offset"),
      cap: get("cap"),
      join: get("join"),
    };
  }
  if (kind === "fill") return { color: resolveColors(get("color"), data, n, prop), alpha: resolveNumbers(get("alpha"), data, n, prop) };
  return {
    color: resolveColors(get("color"), data, n, prop),
    alpha: resolveNumbers(get("alpha"), data, n, prop),
    font: get("font"),
    size: get("font_size"),
    style: get("font_style"),
    align: get("align"),
    baseline: get("baseline"),
  };
}
