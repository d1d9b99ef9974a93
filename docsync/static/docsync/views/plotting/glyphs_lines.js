/**
 * Line glyphs: Line and Step (one polyline through the rows), MultiLine (one per row),
 * Segment (one per row). A long Line with sorted x is reduced to what the pixels can
 * show (min/max per pixel column) before it is stroked.
 */

import { RowExtrema } from "./extrema.js";
import { ensureProjected } from "./project.js";
import { segmentDistance2 } from "./hits.js";
import { paintRows, setLine } from "./paint.js";
import { at } from "./specs.js";

/**
 * Write a pixel column's kept rows into ``out`` from index ``next``, in row order without
 * repeats: ``first`` <= ``low``, ``high`` <= ``last``. Returns the next free index.
 * (No array per column: a redraw of a 100k-row line flushes about a thousand columns.)
 */
export function columnRows(out, next, first, low, high, last) {
  const a = low < high ? low : high;
  const b = low < high ? high : low;
  out[next++] = first;
  if (a !== first) out[next++] = a;
  if (b !== a) out[next++] = b;
  if (last !== b) out[next++] = last;
  return next;
}

/**
 * Write the rows of a line with sorted x worth drawing into ``out``: of rows [first,
 * last), per pixel column ``floor(x * kx + ox)`` the first, lowest, highest and last,
 * in row order (the drawn line is the same as through every row). Returns how many,
 * or -1 when it cannot tell: a NaN (a gap, drawn by the caller row by row) or ``out``
 * too small. A plain loop over typed arrays, no closure, no allocation: it runs over
 * every row in view at every redraw.
 */
export function columnExtremes(xs, ys, first, last, kx, ox, out) {
  if (first >= last) return 0;
  const room = out.length - 4;
  let count = 0;
  let column = Math.floor(xs[first] * kx + ox);
  let f = first;
  let lo = first;
  let hi = first;
  let l = first;
  let low = ys[first];
  let high = low;
  if (low !== low || column !== column) return -1;
  for (let i = first + 1; i < last; i++) {
    const y = ys[i];
    const c = Math.floor(xs[i] * kx + ox);
    if (y !== y || c !== c) return -1;
    if (c !== column) {
      if (count > room) return -1;
      count = columnRows(out, count, f, lo, hi, l);
      column = c;
      f = lo = hi = l = i;
      low = high = y;
    } else {
      l = i;
      if (y < low) {
        lo = i;
        low = y;
      } else if (y > high) {
        hi = i;
        high = y;
      }
    }
  }
  if (count > room) return -1;
  return columnRows(out, count, f, lo, hi, l);
}

/**
 * ``columnExtremes`` for many rows per pixel column, with ``extrema`` (a RowExtrema of
 * ``ys``): each column's end is found by a galloping search on the same test (the
 * column of a row is ``floor(x * kx + ox)``, monotonic in sorted x), its lowest and
 * highest rows from the blocks it covers. The same rows, in far fewer reads.
 */
export function columnExtremesIndexed(xs, ys, first, last, kx, ox, out, extrema) {
  const room = out.length - 4;
  let count = 0;
  let start = first;
  while (start < last) {
    const column = Math.floor(xs[start] * kx + ox);
    if (column !== column) return -1;
    // Gallop to a row past the column, then halve: ``inside`` is in it, ``outside`` is not.
    let inside = start;
    let outside = last;
    for (let step = 1; start + step < last; step *= 2) {
      if (Math.floor(xs[start + step] * kx + ox) !== column) {
        outside = start + step;
        break;
      }
      inside = start + step;
    }
    while (outside - inside > 1) {
      const mid = (inside + outside) >>> 1;
      if (Math.floor(xs[mid] * kx + ox) !== column) outside = mid;
      else inside = mid;
    }
    if (count > room) return -1;
    extrema.query(ys, start, outside);
    count = columnRows(out, count, start, extrema.lo, extrema.hi, outside - 1);
    start = outside;
  }
  return count;
}

/**
 * Return the rows of a polyline worth drawing at ``pixelWidth`` resolution: for sorted
 * x, per pixel column the first, last, lowest and highest point (the drawn line is the
 * same); otherwise every row (null). ``sx`` are screen x (sorted iff the data's x is).
 */
export function decimate(sx, sy, n, sorted) {
  if (!sorted || n < 4096) return null;
  const keep = new Uint32Array(Math.min(n, 8192 * 4));
  const count = columnExtremes(sx, sy, 0, n, 1, 0, keep);
  return count < 0 ? null : keep.subarray(0, count);
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

// Lines of fewer rows are scanned row by row (a summary would cost more than it saves).
export const EXTREMA_MIN_ROWS = 16384;

// The rows strokeDecimated keeps, reused from one redraw to the next (no garbage per frame).
let kept = new Uint32Array(4096);

function buildWhenIdle(r) {
  if (r.extremaWanted || typeof globalThis.requestIdleCallback !== "function") return;
  r.extremaWanted = true;
  globalThis.requestIdleCallback(() => (r.extrema ??= new RowExtrema(r.y)), { timeout: 1000 });
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
  // Columns in view, and the two rows just outside it (one column each).
  const room = 4 * (Math.ceil(Math.abs(r.clip.right - r.clip.left)) + 4);
  if (kept.length < room) kept = new Uint32Array(room);
  const { k: kx, offset: ox } = xScale;
  const { k: ky, offset: oy } = yScale;
  // Many rows per column: read their blocks' extremes (kept from one redraw to the next,
  // and through streams: plotting/streaming.js); else every row in view.
  const many = last - first >= EXTREMA_MIN_ROWS && last - first >= 32 * (room / 4);
  if (many && !r.extrema && ArrayBuffer.isView(ys)) {
    // Built when the page is idle after a first paint (which does not pay for it), or at
    // the next draw of the same rows, whichever comes first.
    if (r.redrawn) r.extrema = new RowExtrema(ys);
    else buildWhenIdle(r);
  }
  const count = many && r.extrema && r.extrema.nan === 0 ? columnExtremesIndexed(xs, ys, first, last, kx, ox, kept, r.extrema) : columnExtremes(xs, ys, first, last, kx, ox, kept);
  r.redrawn = true;
  if (count < 0) return false;
  ctx.beginPath();
  for (let k = 0; k < count; k++) {
    const i = kept[k];
    if (k === 0) ctx.moveTo(xs[i] * kx + ox, ys[i] * ky + oy);
    else ctx.lineTo(xs[i] * kx + ox, ys[i] * ky + oy);
  }
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
