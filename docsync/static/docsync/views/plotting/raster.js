/**
 * Many markers fast: circles and squares drawn straight into the canvas's pixels.
 * Each (shape, size) gets an anti-aliased coverage mask once; each point blends its
 * colour through the mask into an ImageData of the frame. For tens of thousands of
 * points this is several times faster than a canvas path per marker, and it needs no
 * GPU (this machine, like many servers' clients, has none).
 */

import { parseColor } from "./colors.js";
import { at } from "./specs.js";

export const RASTER_MIN_POINTS = 2000;
const masks = new Map();

/** Return the coverage mask {size, data: Float32Array(size²)} of a marker of radius ``r`` device pixels. */
function maskOf(shape, r, ring) {
  const key = `${shape}:${r.toFixed(2)}:${ring.toFixed(2)}`;
  let mask = masks.get(key);
  if (mask) return mask;
  const size = Math.ceil(2 * r + 2);
  const half = size / 2;
  const data = new Float32Array(size * size);
  const edge = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const dx = x + 0.5 - half;
      const dy = y + 0.5 - half;
      // Distance outside the shape's edge (negative inside), in pixels.
      const d = shape === "square" ? Math.max(Math.abs(dx), Math.abs(dy)) - r * 0.89 : Math.hypot(dx, dy) - r;
      data[y * size + x] = Math.min(1, Math.max(0, 0.5 - d));
      edge[y * size + x] = ring > 0 ? Math.min(1, Math.max(0, ring / 2 + 0.5 - Math.abs(d))) : 0;
    }
  }
  mask = { size, data, edge };
  if (masks.size > 256) masks.clear();
  masks.set(key, mask);
  return mask;
}

/** Tell whether a scatter can be drawn in pixels: circles or squares, no rotation, enough points. */
export function canRaster(r, look, count) {
  if (count < RASTER_MIN_POINTS) return false;
  const marker = look.marker ?? r.marker;
  if (marker !== "circle" && marker !== "square") return false;
  if (typeof r.angle === "number" ? r.angle !== 0 : true) return false;
  return true;
}

function rgbCache() {
  const cache = new Map();
  return (color) => {
    let rgb = cache.get(color);
    if (rgb === undefined) cache.set(color, (rgb = color === null || color === undefined ? null : parseColor(color)));
    return rgb;
  };
}

/**
 * Blend the markers of rows ``indices`` (null: all) into ``ctx``'s pixels within
 * ``clip`` {left, top, right, bottom} (CSS pixels); ``sx``, ``sy`` are CSS pixels.
 */
export function rasterMarkers(ctx, r, look, indices, clip) {
  const ratio = ctx.getTransform().a || 1;
  const x0 = Math.max(0, Math.floor(clip.left * ratio));
  const y0 = Math.max(0, Math.floor(clip.top * ratio));
  const w = Math.min(ctx.canvas.width, Math.ceil(clip.right * ratio)) - x0;
  const h = Math.min(ctx.canvas.height, Math.ceil(clip.bottom * ratio)) - y0;
  if (w <= 0 || h <= 0) return;
  const image = ctx.getImageData(x0, y0, w, h);
  const px = image.data;
  const shape = look.marker ?? r.marker;
  const { x: sx, y: sy } = r.s;
  const fill = look.fill;
  const line = look.line;
  const scale = look.scale ?? 1;
  const fillRgb = rgbCache();
  const lineRgb = rgbCache();
  const count = indices ? indices.length : r.n;
  let lastSize = NaN;
  let lastRing = NaN;
  let mask = null;
  for (let k = 0; k < count; k++) {
    const i = indices ? indices[k] : k;
    const cx = sx[i] * ratio - x0;
    const cy = sy[i] * ratio - y0;
    if (!(cx > -50 && cx < w + 50 && cy > -50 && cy < h + 50)) continue; // NaN and far outside
    const size = at(r.size, i);
    const ringWidth = line ? at(line.width, i) * ratio : 0;
    const lineColor = line ? lineRgb(at(line.color, i)) : null;
    const ring = lineColor && at(line.alpha, i) > 0 ? ringWidth : 0;
    if (size !== lastSize || ring !== lastRing) {
      mask = maskOf(shape, (size / 2) * ratio, ring);
      lastSize = size;
      lastRing = ring;
    }
    const fc = fill ? fillRgb(at(fill.color, i)) : null;
    const fa = fc ? fc[3] * Math.min(1, at(fill.alpha, i) * scale) : 0;
    const la = lineColor ? lineColor[3] * Math.min(1, at(line.alpha, i) * scale) : 0;
    if (fa <= 0 && la <= 0) continue;
    const { size: m, data, edge } = mask;
    const left = Math.round(cx - m / 2);
    const top = Math.round(cy - m / 2);
    for (let my = 0; my < m; my++) {
      const y = top + my;
      if (y < 0 || y >= h) continue;
      let o = (y * w + left) * 4;
      let q = my * m;
      for (let mx = 0; mx < m; mx++, o += 4, q++) {
        const x = left + mx;
        if (x < 0 || x >= w) continue;
        let a = data[q] * fa;
        if (a > 0) {
          const keep = 1 - a;
          px[o] = fc[0] * a + px[o] * keep;
          px[o + 1] = fc[1] * a + px[o + 1] * keep;
          px[o + 2] = fc[2] * a + px[o + 2] * keep;
          px[o + 3] = 255 * a + px[o + 3] * keep;
        }
        a = edge[q] * la;
        if (a > 0) {
          const keep = 1 - a;
          px[o] = lineColor[0] * a + px[o] * keep;
          px[o + 1] = lineColor[1] * a + px[o + 1] * keep;
          px[o + 2] = lineColor[2] * a + px[o + 2] * keep;
          px[o + 3] = 255 * a + px[o + 3] * keep;
        }
      }
    }
  }
  ctx.putImageData(image, x0, y0);
}
