/**
 * A plot's data, ready to draw: glyph columns as numbers (text x values as category
 * positions), their extents, and the ranges shown when nothing fixes them.
 */

import { numberAt } from "./dom.js";
import { paddedRange } from "./ticks.js";

/** The glyph types a Plot draws. */
export const GLYPH_TYPES = new Set(["Line", "Scatter", "VBar"]);

function isTextColumn(column) {
  if (ArrayBuffer.isView(column)) return false;
  for (let i = 0; i < column.length; i++) {
    if (column[i] !== null && column[i] !== undefined) return typeof column[i] === "string";
  }
  return false;
}

/** Return the values of a column as numbers: typed arrays as they are, other columns converted. */
function numbers(column, length) {
  if (ArrayBuffer.isView(column) && !(column instanceof BigInt64Array || column instanceof BigUint64Array)) {
    return column.length === length ? column : column.subarray(0, length);
  }
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) out[i] = numberAt(column, i);
  return out;
}

function extent(values, into) {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v)) {
      if (v < into[0]) into[0] = v;
      if (v > into[1]) into[1] = v;
    }
  }
}

/** Tell whether ``range`` is a usable [start, end]. */
export function validRange(range) {
  return Array.isArray(range) && range.length === 2 && Number.isFinite(range[0]) && Number.isFinite(range[1]) && range[0] !== range[1];
}

/**
 * Return {series, categories}: each glyph's data ready to draw ({type, glyph, xs, ys,
 * style}), and the x categories when x is text (bars over named days, say). ``prop(attr,
 * model)`` reads a property or its default.
 */
export function resolveSeries(renderers, prop) {
  const glyphs = (renderers ?? []).filter((glyph) => glyph && GLYPH_TYPES.has(glyph.type));
  const raw = [];
  let categories = null;
  for (const glyph of glyphs) {
    const source = prop("source", glyph);
    const data = source ? prop("data", source) ?? {} : {};
    const xColumn = data[prop("x", glyph)];
    const yColumn = data[prop("y", glyph)];
    if (!xColumn || !yColumn) continue;
    const text = isTextColumn(xColumn);
    if (text) categories ??= [];
    raw.push({ glyph, xColumn, yColumn, text, length: Math.min(xColumn.length, yColumn.length) });
  }
  const index = new Map();
  if (categories) {
    for (const item of raw) {
      if (!item.text) continue;
      for (let i = 0; i < item.length; i++) {
        const key = String(item.xColumn[i]);
        if (!index.has(key)) index.set(key, index.size);
      }
    }
    categories = [...index.keys()];
  }
  const series = raw.map(({ glyph, xColumn, yColumn, text, length }) => {
    let xs;
    if (text) {
      xs = new Float64Array(length);
      for (let i = 0; i < length; i++) xs[i] = index.get(String(xColumn[i]));
    } else {
      xs = numbers(xColumn, length);
    }
    return {
      type: glyph.type,
      glyph,
      xs,
      ys: numbers(yColumn, length),
      style: {
        color: prop("color", glyph) || "#1f77b4",
        alpha: Math.min(1, Math.max(0, prop("alpha", glyph) ?? 1)),
        label: prop("legend_label", glyph) || "",
        lineWidth: prop("line_width", glyph) ?? 2,
        size: prop("size", glyph) ?? 6,
        marker: prop("marker", glyph) ?? "circle",
        barWidth: prop("width", glyph) ?? 0.8,
        bottom: prop("bottom", glyph) ?? 0,
      },
    };
  });
  return { series, categories };
}

/** Return the data's [x, y] extents (bars include their width and bottom). */
export function dataBounds(series) {
  const x = [Infinity, -Infinity];
  const y = [Infinity, -Infinity];
  let half = 0;
  for (const item of series) {
    extent(item.xs, x);
    extent(item.ys, y);
    if (item.type === "VBar" && item.xs.length) {
      half = Math.max(half, item.style.barWidth / 2);
      y[0] = Math.min(y[0], item.style.bottom);
      y[1] = Math.max(y[1], item.style.bottom);
    }
  }
  return { x: [x[0] - half, x[1] + half], y };
}

/**
 * Return {x, y}: the ranges shown when the viewer has not zoomed: the document's
 * (``fixedX``, ``fixedY``) where given, else the data's, padded.
 */
export function autoRanges(series, categories, fixedX, fixedY) {
  const bounds = dataBounds(series);
  let x = validRange(fixedX) ? [...fixedX] : paddedRange(bounds.x[0], bounds.x[1], 0.02);
  if (categories && !validRange(fixedX)) x = [-0.5, Math.max(0.5, categories.length - 0.5)];
  const y = validRange(fixedY) ? [...fixedY] : paddedRange(bounds.y[0], bounds.y[1], 0.06);
  return { x, y };
}
