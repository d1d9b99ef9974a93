/** Pie and donut pieces: Wedge and AnnularWedge (radii in data units along x, angles in radians). */

import { pointInGeometry } from "./hits.js";
import { paintRows, setFill, setLine } from "./paint.js";
import { at } from "./specs.js";

function radial(annular) {
  return {
    coords: { x: "x", y: "y" },
    numbers: annular ? ["inner_radius", "outer_radius", "start_angle", "end_angle"] : ["radius", "start_angle", "end_angle"],
    props: ["direction"],
    visuals: ["line", "fill"],

    bounds(r) {
      const reach = annular ? r.outer_radius : r.radius;
      return { x: { centre: r.x, half: scaleBy(reach, 2) }, y: { centre: r.y, half: scaleBy(reach, 2) } };
    },

    draw(ctx, r, look, indices) {
      const clock = r.direction === "clock";
      paintRows(ctx, r.n, indices, look, (c, i) => {
        const x = at(r.s.x, i);
        const y = at(r.s.y, i);
        const outer = pixels(r, annular ? at(r.outer_radius, i) : at(r.radius, i));
        const inner = annular ? pixels(r, at(r.inner_radius, i)) : 0;
        // Angles run anticlockwise in data space; the screen's y points down.
        const a0 = -at(r.start_angle, i);
        const a1 = -at(r.end_angle, i);
        if (!(outer > 0) || x !== x || y !== y) return;
        c.moveTo(x + inner * Math.cos(a0), y + inner * Math.sin(a0));
        c.arc(x, y, outer, a0, a1, !clock);
        if (inner > 0) c.arc(x, y, inner, a1, a0, clock);
        else c.lineTo(x, y);
        c.closePath();
      });
    },

    hit(r, geometry) {
      const out = [];
      for (let i = 0; i < r.n; i++) {
        const x = at(r.s.x, i);
        const y = at(r.s.y, i);
        const outer = pixels(r, annular ? at(r.outer_radius, i) : at(r.radius, i));
        const inner = annular ? pixels(r, at(r.inner_radius, i)) : 0;
        if (geometry.type !== "point") {
          if (pointInGeometry(geometry, x, y)) out.push(i);
          continue;
        }
        const dx = geometry.sx - x;
        const dy = y - geometry.sy;
        const d = Math.hypot(dx, dy);
        if (d > outer || d < inner) continue;
        if (withinAngle(Math.atan2(dy, dx), at(r.start_angle, i), at(r.end_angle, i), r.direction === "clock")) out.push(i);
      }
      return out;
    },

    legend(ctx, look, box) {
      ctx.beginPath();
      const x = (box.left + box.right) / 2;
      const y = (box.top + box.bottom) / 2;
      ctx.moveTo(x, y);
      ctx.arc(x, y, Math.min(7, (box.bottom - box.top) / 2), -Math.PI / 2, Math.PI);
      ctx.closePath();
      if (setFill(ctx, look.fill, 0, look.scale)) ctx.fill();
      if (setLine(ctx, look.line, 0, look.scale)) ctx.stroke();
      ctx.globalAlpha = 1;
    },
  };
}

function scaleBy(value, factor) {
  if (typeof value === "number") return value * factor;
  return Float64Array.from(value, (v) => v * factor);
}

function pixels(r, radius) {
  return Math.abs(r.scaleX(radius) - r.scaleX(0));
}

function withinAngle(angle, start, end, clock) {
  const full = 2 * Math.PI;
  const norm = (a) => ((a % full) + full) % full;
  const a = norm(angle - start);
  const span = norm(end - start) || (end !== start ? full : 0);
  return clock ? a >= full - span || a === 0 : a <= span;
}

export const Wedge = radial(false);
export const AnnularWedge = radial(true);
