/**
 * Every glyph type the plot draws, and what all of them share: resolving a glyph's
 * specs against its source, the data bounds it covers, and its projection to pixels.
 *
 * A resolved glyph ``r`` holds ``n`` (rows), each coordinate and number spec (a number
 * or a Float64Array, ragged specs an Array of arrays), strings, plain properties, and
 * after ``project`` its pixel coordinates in ``r.s`` and the scales' functions.
 */

import { Quad, Rect, HBar, VBar } from "./glyphs_bars.js";
import { HArea, Patch, Patches, VArea } from "./glyphs_areas.js";
import { Line, MultiLine, Segment, Step } from "./glyphs_lines.js";
import { Scatter } from "./glyphs_markers.js";
import { AnnularWedge, Wedge } from "./glyphs_radial.js";
import { Image, ImageRGBA, Text } from "./glyphs_text_image.js";
import { resolveNumbers, resolveStrings, resolveVisuals, rowCount } from "./specs.js";

export const GLYPHS = {
  Line, Step, MultiLine, Segment, Scatter, VBar, HBar, Quad, Rect, VArea, HArea, Patch, Patches,
  Wedge, AnnularWedge, Text, ImageGlyph: Image, ImageRGBA,
};

/** Resolve ``glyph`` over ``data``; ``factors``: {x, y} FactorRange layouts or null. */
export function resolveGlyph(glyph, data, prop, factors) {
  const desc = GLYPHS[glyph.type];
  const n = rowCount(data);
  const r = { type: glyph.type, desc, n, prop, s: {} };
  for (const [attr, dim] of Object.entries(desc.coords)) r[attr] = resolveNumbers(prop(attr, glyph), data, n, prop, factors[dim]);
  for (const attr of desc.numbers ?? []) r[attr] = resolveNumbers(prop(attr, glyph), data, n, prop);
  for (const attr of desc.strings ?? []) r[attr] = resolveStrings(prop(attr, glyph), data, n, prop);
  for (const attr of desc.props ?? []) r[attr] = prop(attr, glyph);
  for (const attr of desc.raw ?? []) r[attr] = data[prop(attr, glyph)?.field];
  return r;
}

/** Resolve a look of a glyph (its line, fill and text visuals) over the same rows; ``scale`` multiplies alphas. */
export function resolveLook(glyph, type, data, n, prop, scale = 1) {
  const desc = GLYPHS[type];
  const look = { scale };
  for (const kind of desc.visuals) look[kind] = resolveVisuals(kind, glyph, data, n, prop);
  if (type === "Scatter") look.marker = resolveStrings(prop("marker", glyph), data, n, prop);
  return look;
}

function extend(into, values, positive) {
  if (values === null || values === undefined) return;
  if (typeof values === "number") {
    if (Number.isFinite(values) && (!positive || values > 0)) {
      if (values < into[0]) into[0] = values;
      if (values > into[1]) into[1] = values;
    }
    return;
  }
  if (Array.isArray(values) && values.length && typeof values[0] === "object") {
    for (const item of values) extend(into, item, positive);
    return;
  }
  if (!Array.isArray(values) && !ArrayBuffer.isView(values) && "centre" in values) {
    const { centre, half } = values;
    const count = typeof centre === "number" ? 1 : centre.length;
    for (let i = 0; i < count; i++) {
      const c = typeof centre === "number" ? centre : centre[i];
      const h = (typeof half === "number" ? half : half[i]) / 2;
      extend(into, c - h, positive);
      extend(into, c + h, positive);
    }
    return;
  }
  let low = into[0];
  let high = into[1];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < low && (!positive || v > 0)) low = v;
    if (v > high) high = v;
  }
  into[0] = low;
  into[1] = high;
}

/** Return the data bounds {x: [low, high], y: [low, high]} of a resolved glyph (infinite when empty). */
export function glyphBounds(r, { xPositive = false, yPositive = false } = {}) {
  if (r.n === 0) return { x: [Infinity, -Infinity], y: [Infinity, -Infinity] };
  const { x, y } = r.desc.bounds(r);
  const bx = [Infinity, -Infinity];
  const by = [Infinity, -Infinity];
  // A glyph's bounds give a value, a column, {centre, half}, or an Array of those (parts).
  for (const part of Array.isArray(x) ? x : [x]) extend(bx, part, xPositive);
  for (const part of Array.isArray(y) ? y : [y]) extend(by, part, yPositive);
  return { x: bx, y: by };
}

export { ensureProjected, project } from "./project.js";
