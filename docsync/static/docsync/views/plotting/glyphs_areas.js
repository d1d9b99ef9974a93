/** Filled areas: VArea and HArea (stacked with stack()), Patch (one polygon), Patches (one per row). */

import { inPolygon } from "./hits.js";
import { paintRows, setFill, setLine } from "./paint.js";

function traceBand(ctx, a, b1, b2, n, vertical) {
  // Along a, out on b1, back on b2; NaN splits the area.
  let start = 0;
  const flush = (end) => {
    if (end - start < 1) return;
    for (let i = start; i < end; i++) {
      if (vertical) ctx[i === start ? "moveTo" : "lineTo"](a[i], b1[i]);
      else ctx[i === start ? "moveTo" : "lineTo"](b1[i], a[i]);
    }
    for (let i = end - 1; i >= start; i--) {
      if (vertical) ctx.lineTo(a[i], b2[i]);
      else ctx.lineTo(b2[i], a[i]);
    }
    ctx.closePath();
  };
  for (let i = 0; i < n; i++) {
    if (!(a[i] === a[i] && b1[i] === b1[i] && b2[i] === b2[i])) {
      flush(i);
      start = i + 1;
    }
  }
  flush(n);
}

function constantArray(value, n) {
  return typeof value === "number" ? new Float64Array(n).fill(value) : value;
}

function area(vertical) {
  const [a, b1, b2] = vertical ? ["x", "y1", "y2"] : ["y", "x1", "x2"];
  return {
    coords: vertical ? { x: "x", y1: "y", y2: "y" } : { y: "y", x1: "x", x2: "x" },
    numbers: [],
    visuals: ["fill"],
    singular: true,

    bounds(r) {
      return vertical ? { x: r.x, y: [r.y1, r.y2] } : { x: [r.x1, r.x2], y: r.y };
    },

    draw(ctx, r, look) {
      if (!setFill(ctx, look.fill, 0, look.scale)) return;
      const s = r.s;
      ctx.beginPath();
      traceBand(ctx, constantArray(s[a], r.n), constantArray(s[b1], r.n), constantArray(s[b2], r.n), r.n, vertical);
      ctx.fill();
      ctx.globalAlpha = 1;
    },

    hit(r, geometry) {
      if (geometry.type !== "point") return [];
      const s = r.s;
      const xs = [];
      const ys = [];
      const along = constantArray(s[a], r.n);
      const one = constantArray(s[b1], r.n);
      const two = constantArray(s[b2], r.n);
      for (let i = 0; i < r.n; i++) {
        xs.push(vertical ? along[i] : one[i]);
        ys.push(vertical ? one[i] : along[i]);
      }
      for (let i = r.n - 1; i >= 0; i--) {
        xs.push(vertical ? along[i] : two[i]);
        ys.push(vertical ? two[i] : along[i]);
      }
      return inPolygon(geometry.sx, geometry.sy, xs, ys) ? [0] : [];
    },

    legend(ctx, look, box) {
      if (!setFill(ctx, look.fill, 0, look.scale)) return;
      ctx.fillRect(box.left + 2, box.top + 2, box.right - box.left - 4, box.bottom - box.top - 4);
      ctx.globalAlpha = 1;
    },
  };
}

export const VArea = area(true);
export const HArea = area(false);

function tracePolygon(ctx, xs, ys) {
  let pen = false;
  for (let i = 0; i < Math.min(xs.length, ys.length); i++) {
    if (!(xs[i] === xs[i] && ys[i] === ys[i])) {
      if (pen) ctx.closePath();
      pen = false;
      continue;
    }
    ctx[pen ? "lineTo" : "moveTo"](xs[i], ys[i]);
    pen = true;
  }
  if (pen) ctx.closePath();
}

function legendBox(ctx, look, box) {
  ctx.beginPath();
  ctx.rect(box.left + 2, box.top + 2, box.right - box.left - 4, box.bottom - box.top - 4);
  if (setFill(ctx, look.fill, 0, look.scale)) ctx.fill();
  if (setLine(ctx, look.line, 0, look.scale)) ctx.stroke();
  ctx.globalAlpha = 1;
}

export const Patch = {
  coords: { x: "x", y: "y" },
  numbers: [],
  visuals: ["line", "fill"],
  singular: true,
  bounds: (r) => ({ x: r.x, y: r.y }),
  draw(ctx, r, look) {
    paintRows(ctx, 1, null, look, (c) => tracePolygon(c, r.s.x, r.s.y));
  },
  hit(r, geometry) {
    return geometry.type === "point" && inPolygon(geometry.sx, geometry.sy, r.s.x, r.s.y) ? [0] : [];
  },
  legend: legendBox,
};

export const Patches = {
  coords: { xs: "x", ys: "y" },
  numbers: [],
  visuals: ["line", "fill"],
  bounds: (r) => ({ x: r.xs, y: r.ys }),
  draw(ctx, r, look, indices) {
    paintRows(ctx, r.n, indices, look, (c, i) => {
      if (r.s.xs[i] && r.s.ys[i]) tracePolygon(c, r.s.xs[i], r.s.ys[i]);
    });
  },
  hit(r, geometry) {
    const out = [];
    for (let i = 0; i < r.n; i++) {
      const xs = r.s.xs[i];
      const ys = r.s.ys[i];
      if (!xs || !ys) continue;
      if (geometry.type === "point" ? inPolygon(geometry.sx, geometry.sy, xs, ys) : [...xs].some((x, k) => (geometry.type === "rect" ? x >= geometry.sx0 && x <= geometry.sx1 && ys[k] >= geometry.sy0 && ys[k] <= geometry.sy1 : inPolygon(x, ys[k], geometry.sxs, geometry.sys)))) out.push(i);
    }
    return out;
  },
  legend: legendBox,
};
