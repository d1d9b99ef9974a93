/** Boxes: VBar, HBar (stacked with stack(), dodged with dodge()), Quad (histograms), Rect (heatmaps). */

import { boxInGeometry } from "./hits.js";
import { paintRows, setFill, setLine } from "./paint.js";
import { at } from "./specs.js";

/** Build a box glyph from ``edges(r, i)`` -> [left, right, top, bottom] in screen pixels. */
function boxGlyph({ coords, numbers = [], bounds, edges }) {
  return {
    coords,
    numbers,
    visuals: ["line", "fill"],
    bounds,

    draw(ctx, r, look, indices) {
      const box = [0, 0, 0, 0];
      paintRows(ctx, r.n, indices, look, (c, i) => {
        edges(r, i, box);
        const [l, rt, t, b] = box;
        if (l === l && rt === rt && t === t && b === b) {
          // At least a pixel wide and tall: thin bars of many rows stay visible.
          const w = rt - l;
          const h = b - t;
          if (h !== 0) c.rect(l, t, Math.abs(w) < 1 ? Math.sign(w || 1) : w, Math.abs(h) < 0.5 ? Math.sign(h) * 0.5 : h);
        }
      });
    },

    hit(r, geometry) {
      const out = [];
      const box = [0, 0, 0, 0];
      for (let i = 0; i < r.n; i++) {
        edges(r, i, box);
        if (boxInGeometry(geometry, box[0], box[1], box[2], box[3])) out.push(i);
      }
      return out;
    },

    legend(ctx, look, box) {
      const inset = 2;
      ctx.beginPath();
      ctx.rect(box.left + inset, box.top + inset, box.right - box.left - 2 * inset, box.bottom - box.top - 2 * inset);
      if (setFill(ctx, look.fill, 0, look.scale)) ctx.fill();
      if (setLine(ctx, look.line, 0, look.scale)) ctx.stroke();
      ctx.globalAlpha = 1;
    },
  };
}

function spread(centre, half) {
  return { centre, half };
}

export const VBar = boxGlyph({
  coords: { x: "x", top: "y", bottom: "y" },
  numbers: ["width"],
  bounds: (r) => ({ x: spread(r.x, r.width), y: [r.top, r.bottom] }),
  edges(r, i, box) {
    const x = at(r.x, i);
    const half = at(r.width, i) / 2;
    box[0] = r.scaleX(x - half);
    box[1] = r.scaleX(x + half);
    box[2] = at(r.s.top, i);
    box[3] = at(r.s.bottom, i);
  },
});

export const HBar = boxGlyph({
  coords: { y: "y", left: "x", right: "x" },
  numbers: ["height"],
  bounds: (r) => ({ x: [r.left, r.right], y: spread(r.y, r.height) }),
  edges(r, i, box) {
    const y = at(r.y, i);
    const half = at(r.height, i) / 2;
    box[0] = at(r.s.left, i);
    box[1] = at(r.s.right, i);
    box[2] = r.scaleY(y + half);
    box[3] = r.scaleY(y - half);
  },
});

export const Quad = boxGlyph({
  coords: { left: "x", right: "x", top: "y", bottom: "y" },
  bounds: (r) => ({ x: [r.left, r.right], y: [r.top, r.bottom] }),
  edges(r, i, box) {
    box[0] = at(r.s.left, i);
    box[1] = at(r.s.right, i);
    box[2] = at(r.s.top, i);
    box[3] = at(r.s.bottom, i);
  },
});

export const Rect = boxGlyph({
  coords: { x: "x", y: "y" },
  numbers: ["width", "height", "angle"],
  bounds: (r) => ({ x: spread(r.x, r.width), y: spread(r.y, r.height) }),
  edges(r, i, box) {
    const x = at(r.x, i);
    const y = at(r.y, i);
    const hw = at(r.width, i) / 2;
    const hh = at(r.height, i) / 2;
    box[0] = r.scaleX(x - hw);
    box[1] = r.scaleX(x + hw);
    box[2] = r.scaleY(y + hh);
    box[3] = r.scaleY(y - hh);
  },
});
