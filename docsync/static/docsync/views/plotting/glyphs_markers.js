/** Scatter: a marker per row (circle, square, triangle, diamond, star, cross, x, ...), size in pixels. */

import { pointInGeometry } from "./hits.js";
import { canRaster, rasterMarkers } from "./raster.js";
import { paintRows, setFill, setLine } from "./paint.js";
import { at } from "./specs.js";

const SQ3 = Math.sqrt(3);

function star(ctx, x, y, r) {
  for (let k = 0; k < 10; k++) {
    const radius = k % 2 ? r * 0.4 : r;
    const a = -Math.PI / 2 + (k * Math.PI) / 5;
    if (k === 0) ctx.moveTo(x + radius * Math.cos(a), y + radius * Math.sin(a));
    else ctx.lineTo(x + radius * Math.cos(a), y + radius * Math.sin(a));
  }
  ctx.closePath();
}

function cross(ctx, x, y, r) {
  ctx.moveTo(x - r, y);
  ctx.lineTo(x + r, y);
  ctx.moveTo(x, y - r);
  ctx.lineTo(x, y + r);
}

function xMark(ctx, x, y, r) {
  const d = r * Math.SQRT1_2;
  ctx.moveTo(x - d, y - d);
  ctx.lineTo(x + d, y + d);
  ctx.moveTo(x - d, y + d);
  ctx.lineTo(x + d, y - d);
}

/** Marker shapes: trace(ctx, x, y, r) adds the marker's path; ``open`` markers are only stroked. */
export const MARKERS = {
  circle: (ctx, x, y, r) => {
    ctx.moveTo(x + r, y);
    ctx.arc(x, y, r, 0, 2 * Math.PI);
  },
  dot: (ctx, x, y, r) => {
    ctx.moveTo(x + r / 4, y);
    ctx.arc(x, y, r / 4, 0, 2 * Math.PI);
  },
  square: (ctx, x, y, r) => ctx.rect(x - r * 0.89, y - r * 0.89, r * 1.78, r * 1.78),
  triangle: (ctx, x, y, r) => {
    const h = (r * SQ3) / 2;
    ctx.moveTo(x, y - r);
    ctx.lineTo(x + h, y + r / 2);
    ctx.lineTo(x - h, y + r / 2);
    ctx.closePath();
  },
  inverted_triangle: (ctx, x, y, r) => {
    const h = (r * SQ3) / 2;
    ctx.moveTo(x, y + r);
    ctx.lineTo(x + h, y - r / 2);
    ctx.lineTo(x - h, y - r / 2);
    ctx.closePath();
  },
  diamond: (ctx, x, y, r) => {
    ctx.moveTo(x, y - r * 1.15);
    ctx.lineTo(x + r * 0.8, y);
    ctx.lineTo(x, y + r * 1.15);
    ctx.lineTo(x - r * 0.8, y);
    ctx.closePath();
  },
  hex: (ctx, x, y, r) => {
    for (let k = 0; k < 6; k++) {
      const a = (k * Math.PI) / 3;
      if (k === 0) ctx.moveTo(x + r * Math.cos(a), y + r * Math.sin(a));
      else ctx.lineTo(x + r * Math.cos(a), y + r * Math.sin(a));
    }
    ctx.closePath();
  },
  star,
  cross,
  plus: (ctx, x, y, r) => {
    const t = r / 3;
    ctx.moveTo(x - t, y - r);
    ctx.lineTo(x + t, y - r);
    ctx.lineTo(x + t, y - t);
    ctx.lineTo(x + r, y - t);
    ctx.lineTo(x + r, y + t);
    ctx.lineTo(x + t, y + t);
    ctx.lineTo(x + t, y + r);
    ctx.lineTo(x - t, y + r);
    ctx.lineTo(x - t, y + t);
    ctx.lineTo(x - r, y + t);
    ctx.lineTo(x - r, y - t);
    ctx.lineTo(x - t, y - t);
    ctx.closePath();
  },
  x: xMark,
  asterisk: (ctx, x, y, r) => {
    cross(ctx, x, y, r);
    xMark(ctx, x, y, r);
  },
  dash: (ctx, x, y, r) => {
    ctx.moveTo(x - r, y);
    ctx.lineTo(x + r, y);
  },
  y: (ctx, x, y, r) => {
    ctx.moveTo(x, y);
    ctx.lineTo(x, y + r);
    ctx.moveTo(x, y);
    ctx.lineTo(x + (r * SQ3) / 2, y - r / 2);
    ctx.moveTo(x, y);
    ctx.lineTo(x - (r * SQ3) / 2, y - r / 2);
  },
};
const OPEN = new Set(["cross", "x", "asterisk", "dash", "y"]);
// Composite markers: a shape with a mark drawn over it.
for (const [name, base, over] of [
  ["square_x", "square", xMark], ["circle_x", "circle", xMark], ["circle_cross", "circle", cross],
  ["square_cross", "square", cross], ["diamond_cross", "diamond", cross], ["circle_dot", "circle", null],
  ["triangle_dot", "triangle", null], ["square_pin", "square", null], ["triangle_pin", "triangle", null],
]) {
  MARKERS[name] = MARKERS[base];
  MARKERS[`${name}:over`] = over;
}

export const Scatter = {
  coords: { x: "x", y: "y" },
  numbers: ["size", "angle"],
  strings: ["marker"],
  visuals: ["line", "fill"],

  bounds(r) {
    return { x: r.x, y: r.y };
  },

  draw(ctx, r, look, indices) {
    if (r.clip && canRaster(r, look, indices ? indices.length : r.n)) {
      rasterMarkers(ctx, r, look, indices, r.clip);
      return;
    }
    const { x: sx, y: sy } = r.s;
    const size = r.size;
    const byMarker = typeof r.marker === "string" ? [[r.marker, indices]] : groupMarkers(r.marker, r.n, indices);
    for (const [name, rows] of byMarker) {
      const shape = MARKERS[name] ?? MARKERS.circle;
      const over = MARKERS[`${name}:over`];
      const trace = (c, i) => {
        const x = sx[i];
        const y = sy[i];
        if (x === x && y === y) shape(c, x, y, at(size, i) / 2);
      };
      const open = OPEN.has(name);
      paintRows(ctx, r.n, rows, open ? { line: look.line ?? look.fill, scale: look.scale } : look, trace);
      if (over && look.line) {
        paintRows(ctx, r.n, rows, { line: look.line, scale: look.scale }, (c, i) => over(c, sx[i], sy[i], at(size, i) / 2));
      }
    }
  },

  hit(r, geometry) {
    const { x: sx, y: sy } = r.s;
    const out = [];
    for (let i = 0; i < r.n; i++) {
      if (pointInGeometry(geometry, sx[i], sy[i], Math.max(3, at(r.size, i) / 2 + 1))) out.push(i);
    }
    return out;
  },

  legend(ctx, look, box) {
    const x = (box.left + box.right) / 2;
    const y = (box.top + box.bottom) / 2;
    const name = typeof look.marker === "string" ? look.marker : "circle";
    ctx.beginPath();
    (MARKERS[name] ?? MARKERS.circle)(ctx, x, y, Math.min(6, (box.bottom - box.top) / 3));
    if (!OPEN.has(name) && setFill(ctx, look.fill, 0, look.scale)) ctx.fill();
    if (setLine(ctx, look.line, 0, look.scale)) ctx.stroke();
    ctx.globalAlpha = 1;
  },
};

function groupMarkers(markers, n, indices) {
  const groups = new Map();
  const count = indices ? indices.length : n;
  for (let k = 0; k < count; k++) {
    const i = indices ? indices[k] : k;
    const name = markers[i];
    if (!groups.has(name)) groups.set(name, []);
    groups.get(name).push(i);
  }
  return [...groups.entries()];
}
