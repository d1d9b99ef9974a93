/**
 * Line glyphs: Line and Step (one polyline through the rows), MultiLine (one per row),
 * Segment (one per row). A long Line with sorted x is reduced to what the pixels can
 * show (min/max per pixel column) before it is stroked.
 */

import { ensureProjected } from "./project.js";
import { segmentDistance2 } from "./hits.js";
import { paintRows, setLine } from "./paint.js";
import { at } from "./specs.js";

/**
 * Return the rows of a polyline worth drawing at ``pixelWidth`` resolution: for sorted
 * x, per pixel column the first, last, lowest and highest point (the drawn line is the
 * same); otherwise every row. ``sx`` are screen x (sorted iff the data's x is).
 */
export function decimate(sx, sy, n, sorted) {
  if (!sorted || n < 4096) return null;
  const keep = new Uint32Array(Math.min(n, 8192 * 4));
  let count = 0;
  let column = Math.floor(sx[0]);
  let first = 0;
  let low = 0;
  let high = 0;
  let last = 0;
  const flush = () => {
    if (count + 4 > keep.length) return false;
    const rows = [first, low, high, last].sort((a, b) => a - b);
    for (let k = 0; k < 4; k++) if (k === 0 || rows[k] !== rows[k - 1]) keep[count++] = rows[k];
    return true;
  };
  for (let i = 1; i < n; i++) {
    const x = sx[i];
    const y = sy[i];
    if (y !== y || x !== x) return null; // gaps: draw every row
    const c = Math.floor(x);
    if (c !== column) {
      if (!flush()) return null;
      column = c;
      first = low = high = last = i;
    } else {
      last = i;
      if (y < sy[low]) low = i;
      if (y > sy[high]) high = i;
    }
  }
  if (!flush()) return null;
  return keep.subarray(0, count);
}

/** Tell whether the values are sorted ascending (NaN-free). */
export function isSorted(values) {
  for (let i = 1; i < values.length; i++) if (!(values[i] >= values[i - 1])) return false;
  return true;
}

function tracePolyline(ctx, sx, sy, rows, count, step) {
  let pen = false;
  let px = 0;
  let py = 0;
  for (let k = 0; k < count; k++) {
    const i = rows ? rows[k] : k;
    const x = sx[i];
    const y = sy[i];
    if (x !== x || y !== y) {
      pen = false;
      continue;
    }
    if (!pen) ctx.moveTo(x, y);
    else if (step === "after") {
      ctx.lineTo(x, py);
      ctx.lineTo(x, y);
    } else if (step === "before") {
      ctx.lineTo(px, y);
      ctx.lineTo(x, y);
    } else if (step === "center") {
      const mid = (px + x) / 2;
      ctx.lineTo(mid, py);
      ctx.lineTo(mid, y);
      ctx.lineTo(x, y);
    } else ctx.lineTo(x, y);
    pen = true;
    px = x;
    py = y;
  }
}

function nearestSegment(sx, sy, n, px, py, reach) {
  let best = -1;
  let bestDistance = reach * reach;
  for (let i = 0; i + 1 < n; i++) {
    const d = segmentDistance2(px, py, sx[i], sy[i], sx[i + 1], sy[i + 1]);
    if (d < bestDistance) {
      bestDistance = d;
      best = i;
    }
  }
  return best;
}

/** Return the first row whose x is >= ``value`` in sorted ``xs`` (binary search). */
function lowerBound(xs, value) {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Stroke a long line with sorted x straight from its data: only the rows in view, and
 * per pixel column only the first, last, lowest and highest (the same pixels as every
 * row). Returns false when it cannot (a log x scale, gaps): the caller draws every row.
 */
function strokeDecimated(ctx, r) {
  const { xScale, yScale } = r;
  if (xScale.log || yScale.log || !r.clip) return false;
  const xs = r.x;
  const ys = r.y;
  const [a, b] = [xScale.invert(r.clip.left), xScale.invert(r.clip.right)];
  const first = Math.max(0, lowerBound(xs, Math.min(a, b)) - 1);
  const last = Math.min(r.n, lowerBound(xs, Math.max(a, b)) + 1);
  const kx = xScale.k;
  const ox = xScale.offset;
  const ky = yScale.k;
  const oy = yScale.offset;
  let column = Math.floor(xs[first] * kx + ox);
  let f = first;
  let lo = first;
  let hi = first;
  let l = first;
  let pen = false;
  const emit = (i) => {
    const x = xs[i] * kx + ox;
    const y = ys[i] * ky + oy;
    if (pen) ctx.lineTo(x, y);
    else ctx.moveTo(x, y);
    pen = true;
  };
  const flush = () => {
    // In row order, without repeats: the drawn path is the same as through every row.
    const rows = [f, lo, hi, l].sort((p, q) => p - q);
    for (let k = 0; k < 4; k++) if (k === 0 || rows[k] !== rows[k - 1]) emit(rows[k]);
  };
  ctx.beginPath();
  for (let i = first + 1; i < last; i++) {
    const y = ys[i];
    if (y !== y) return false; // a gap: let the caller draw every row
    const c = Math.floor(xs[i] * kx + ox);
    if (c !== column) {
      flush();
      column = c;
      f = lo = hi = l = i;
    } else {
      l = i;
      if (y < ys[lo]) lo = i;
      else if (y > ys[hi]) hi = i;
    }
  }
  flush();
  ctx.stroke();
  return true;
}

function lineGlyph(step) {
  return {
    coords: { x: "x", y: "y" },
    numbers: [],
    visuals: ["line"],
    singular: true,
    lazy: !step,

    bounds(r) {
      return { x: r.x, y: r.y };
    },

    draw(ctx, r, look) {
      if (!setLine(ctx, look.line, 0, look.scale)) return;
      r.sorted ??= typeof r.x === "object" && typeof r.y === "object" && isSorted(r.x);
      if (!step && r.sorted && r.n >= 4096 && strokeDecimated(ctx, r)) {
        ctx.globalAlpha = 1;
        ctx.setLineDash([]);
        return;
      }
      ensureProjected(r);
      const { x: sx, y: sy } = r.s;
      const rows = step ? null : decimate(sx, sy, r.n, r.sorted);
      ctx.beginPath();
      tracePolyline(ctx, sx, sy, rows, rows ? rows.length : r.n, step ? r.mode : null);
      ctx.stroke();
      ctx.globalAlpha = 1;
      ctx.setLineDash([]);
    },

    hit(r, geometry) {
      if (geometry.type !== "point") return [];
      ensureProjected(r);
      const i = nearestSegment(r.s.x, r.s.y, r.n, geometry.sx, geometry.sy, Math.max(4, at(r.line?.width ?? 1, 0) + 2));
      return i < 0 ? [] : [i, i + 1];
    },

    legend(ctx, look, box) {
      if (!setLine(ctx, look.line, 0, look.scale)) return;
      const y = (box.top + box.bottom) / 2;
      ctx.beginPath();
      ctx.moveTo(box.left, y);
      ctx.lineTo(box.right, y);
      ctx.stroke();
      ctx.globalAlpha = 1;
      ctx.setLineDash([]);
    },
  };
}

export const Line = lineGlyph(false);
export const Step = { ...lineGlyph(true), props: ["mode"] };

export const MultiLine = {
  coords: { xs: "x", ys: "y" },
  numbers: [],
  visuals: ["line"],

  bounds(r) {
    return { x: r.xs, y: r.ys };
  },

  draw(ctx, r, look, indices) {
    const { xs, ys } = r.s;
    paintRows(ctx, r.n, indices, { line: look.line, scale: look.scale }, (c, i) => {
      if (xs[i] && ys[i]) tracePolyline(c, xs[i], ys[i], null, Math.min(xs[i].length, ys[i].length), null);
    });
  },

  hit(r, geometry) {
    const out = [];
    const { xs, ys } = r.s;
    for (let i = 0; i < r.n; i++) {
      if (!xs[i] || !ys[i]) continue;
      if (geometry.type === "point") {
        if (nearestSegment(xs[i], ys[i], Math.min(xs[i].length, ys[i].length), geometry.sx, geometry.sy, 5) >= 0) out.push(i);
      }
    }
    return out;
  },

  legend: Line.legend,
};

export const Segment = {
  coords: { x0: "x", y0: "y", x1: "x", y1: "y" },
  numbers: [],
  visuals: ["line"],

  bounds(r) {
    return { x: [r.x0, r.x1], y: [r.y0, r.y1] };
  },

  draw(ctx, r, look, indices) {
    const { x0, y0, x1, y1 } = r.s;
    paintRows(ctx, r.n, indices, { line: look.line, scale: look.scale }, (c, i) => {
      c.moveTo(at(x0, i), at(y0, i));
      c.lineTo(at(x1, i), at(y1, i));
    });
  },

  hit(r, geometry) {
    const out = [];
    const { x0, y0, x1, y1 } = r.s;
    for (let i = 0; i < r.n; i++) {
      if (geometry.type === "point") {
        if (segmentDistance2(geometry.sx, geometry.sy, at(x0, i), at(y0, i), at(x1, i), at(y1, i)) <= 16) out.push(i);
      }
    }
    return out;
  },

  legend: Line.legend,
};
