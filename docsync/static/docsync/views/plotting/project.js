/**
 * Glyph coordinates to pixels: each coordinate spec of a resolved glyph mapped through
 * its dimension's scale into ``r.s``. A glyph that draws straight from its data (a long
 * line) is projected only when a hit test asks for it.
 */

import { computeAll } from "./scales.js";

/** Compute every pixel coordinate of ``r`` (once per projection). */
export function ensureProjected(r) {
  if (r.projected) return r;
  for (const [attr, dim] of Object.entries(r.desc.coords)) {
    r.s[attr] = projectValues(dim === "x" ? r.xScale : r.yScale, r[attr], r.s[attr], r.n);
  }
  r.projected = true;
  return r;
}

function projectValues(scale, values, reuse, n) {
  // A constant coordinate becomes a column: every glyph may index its pixels by row.
  if (typeof values === "number") return new Float64Array(n).fill(scale.compute(values));
  if (Array.isArray(values) && values.length && typeof values[0] === "object") return values.map((v) => computeAll(scale, v));
  const out = reuse && reuse.length === values.length ? reuse : new Float64Array(values.length);
  return computeAll(scale, values, out);
}

/**
 * Compute the pixel coordinates of a resolved glyph with the x and y scales. A glyph
 * that projects only what it draws (a long line) defers it: ``ensureProjected`` does
 * the whole projection when a hit test needs it.
 */
export function project(r, xScale, yScale) {
  r.xScale = xScale;
  r.yScale = yScale;
  r.projected = false;
  if (!r.desc.lazy) ensureProjected(r);
  r.scaleX = xScale.compute;
  r.scaleY = yScale.compute;
  r.invertX = xScale.invert;
  r.invertY = yScale.invert;
}
