/**
 * Rows streamed into a plotted source: what a glyph's resolved state before the stream
 * still says after it — its data bounds, and whether its x is sorted — so that a redraw
 * after 10 new rows (and 10 rolled over) looks at those 20 rows, not at all 100,000.
 *
 * This holds only when row i of the new rows is row i + dropped of the old ones, that
 * is when every coordinate and number of the glyph is a constant or a column taken as it
 * is (no transform, no expression); otherwise the caller resolves everything again.
 */

import { glyphBounds } from "./glyphs.js";

function plainSpec(spec) {
  if (!spec || typeof spec !== "object") return true;
  if (Object.hasOwn(spec, "value")) return true;
  return typeof spec.field === "string" && !spec.transform && !spec.expr;
}

/** Tell whether every coordinate and number spec of ``glyph`` maps rows one to one. */
export function rowAligned(glyph, desc, prop) {
  return [...Object.keys(desc.coords), ...(desc.numbers ?? [])].every((attr) => plainSpec(prop(attr, glyph)));
}

/** Return a resolved glyph limited to rows [from, to) (for bounds; nothing else reads it). */
export function rowsOf(r, from, to) {
  const out = { ...r, n: to - from };
  for (const attr of [...Object.keys(r.desc.coords), ...(r.desc.numbers ?? [])]) {
    const values = r[attr];
    if (ArrayBuffer.isView(values)) out[attr] = values.subarray(from, to);
    else if (Array.isArray(values)) out[attr] = values.slice(from, to);
  }
  return out;
}

function sortedFrom(values, from) {
  for (let i = Math.max(1, from); i < values.length; i++) if (!(values[i] >= values[i - 1])) return false;
  return true;
}

function inside(part, whole) {
  // Rows with no finite value cannot have given a bound.
  return part[0] > part[1] || (part[0] > whole[0] && part[1] < whole[1]);
}

function lineBoundsY(r, flags) {
  const extrema = r.extrema;
  if (!extrema || extrema.nan !== 0 || flags.yPositive || r.n === 0 || r.desc.bounds(r).y !== r.y) return null;
  extrema.query(r.y, 0, r.n);
  return [r.y[extrema.lo], r.y[extrema.hi]];
}

/**
 * Carry what ``old`` (an entry: {r, bounds, boundsFlags}) knew over to ``r``, the glyph
 * resolved again after ``added`` rows were streamed: sets ``r.sorted`` and returns the
 * new bounds when they follow from the streamed and rolled-over rows alone, or from a
 * line's block extrema (``carryExtrema`` first), else null.
 */
export function carryOver(old, r, added) {
  const dropped = old.r.n + added - r.n;
  if (!(added > 0 && added <= r.n && dropped >= 0 && dropped <= old.r.n)) return null;
  // Rows kept are a suffix of rows known sorted: only the new ones need a look.
  if (old.r.sorted === true && ArrayBuffer.isView(r.x)) r.sorted = sortedFrom(r.x, r.n - added);
  if (!old.bounds) return null;
  const flags = old.boundsFlags;
  const gone = dropped > 0 ? glyphBounds(rowsOf(old.r, 0, dropped), flags) : null;
  const fresh = glyphBounds(rowsOf(r, r.n - added, r.n), flags);
  const bounds = {};
  for (const dim of ["x", "y"]) {
    if (dim === "x" && r.sorted === true && !flags.xPositive && r.desc.bounds(r).x === r.x) {
      // Sorted x (NaN-free): its first and last rows are its bounds, whatever rolled over.
      bounds.x = [r.x[0], r.x[r.n - 1]];
      continue;
    }
    if (gone && !inside(gone[dim], old.bounds[dim])) {
      // A rolled-over row held a bound: a line's block extrema still tell the new one
      // from a few hundred blocks; else only a full scan can.
      const whole = dim === "y" ? lineBoundsY(r, flags) : null;
      if (!whole) return null;
      bounds.y = whole;
      continue;
    }
    bounds[dim] = [Math.min(old.bounds[dim][0], fresh[dim][0]), Math.max(old.bounds[dim][1], fresh[dim][1])];
  }
  return bounds;
}

/**
 * Carry a line's block extrema (./extrema.js) over to ``r``, the glyph resolved again
 * after ``added`` rows were streamed into ``old``'s: the rolled-over rows are let go and
 * the new ones summarised, instead of every row again.
 */
export function carryExtrema(old, r, added) {
  r.redrawn = old.redrawn;
  const extrema = old.extrema;
  if (!extrema || !ArrayBuffer.isView(old.y) || !ArrayBuffer.isView(r.y)) return;
  if (extrema.advance(old.y, old.n + added - r.n, r.y)) r.extrema = extrema;
}
