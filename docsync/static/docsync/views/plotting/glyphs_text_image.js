/** Text per row, and images: Image (values through a colour mapper) and ImageRGBA (packed RGBA). */

import { shapeOf } from "../../arrays.js";
import { packColor } from "./colors.js";
import { mapColors } from "./mappers.js";
import { pointInGeometry } from "./hits.js";
import { setText } from "./paint.js";
import { at } from "./specs.js";

export const Text = {
  coords: { x: "x", y: "y" },
  numbers: ["angle", "x_offset", "y_offset"],
  strings: ["text"],
  visuals: ["text"],

  bounds: (r) => ({ x: r.x, y: r.y }),

  draw(ctx, r, look, indices) {
    const count = indices ? indices.length : r.n;
    for (let k = 0; k < count; k++) {
      const i = indices ? indices[k] : k;
      const x = r.s.x[i] + at(r.x_offset, i);
      const y = r.s.y[i] + at(r.y_offset, i);
      if (x !== x || y !== y || !setText(ctx, look.text, i, look.scale)) continue;
      const angle = at(r.angle, i);
      const text = at(r.text, i);
      if (angle) {
        ctx.save();
        ctx.translate(x, y);
        ctx.rotate(-angle);
        ctx.fillText(text, 0, 0);
        ctx.restore();
      } else ctx.fillText(text, x, y);
    }
    ctx.globalAlpha = 1;
  },

  hit(r, geometry) {
    const out = [];
    for (let i = 0; i < r.n; i++) if (pointInGeometry(geometry, r.s.x[i], r.s.y[i], 8)) out.push(i);
    return out;
  },

  legend(ctx, look, box) {
    if (!setText(ctx, look.text, 0, look.scale)) return;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.font = "bold 12px system-ui, sans-serif";
    ctx.fillText("T", (box.left + box.right) / 2, (box.top + box.bottom) / 2);
    ctx.globalAlpha = 1;
  },
};

/** Return [height, width, values] of row ``i`` of an image column (a list of 2-D arrays, or one 3-D array). */
function imageAt(column, i) {
  if (!column) return null;
  if (ArrayBuffer.isView(column)) {
    const shape = shapeOf(column);
    if (shape.length === 3) {
      const [, h, w] = shape;
      return [h, w, column.subarray(i * h * w, (i + 1) * h * w)];
    }
    if (shape.length === 2 && i === 0) return [shape[0], shape[1], column];
    return null;
  }
  const item = column[i];
  if (ArrayBuffer.isView(item)) {
    const shape = shapeOf(item);
    return shape.length === 2 ? [shape[0], shape[1], item] : null;
  }
  if (Array.isArray(item) && Array.isArray(item[0])) return [item.length, item[0].length, item.flat()];
  return null;
}

function imageGlyph(rgba) {
  return {
    coords: { x: "x", y: "y" },
    numbers: ["dw", "dh"],
    props: ["global_alpha", "color_mapper"],
    visuals: [],
    raw: ["image"],

    bounds(r) {
      const x2 = Float64Array.from({ length: r.n }, (_, i) => at(r.x, i) + at(r.dw, i));
      const y2 = Float64Array.from({ length: r.n }, (_, i) => at(r.y, i) + at(r.dh, i));
      return { x: [r.x, x2], y: [r.y, y2] };
    },

    draw(ctx, r, look, indices) {
      r.bitmaps ??= [];
      const count = indices ? indices.length : r.n;
      for (let k = 0; k < count; k++) {
        const i = indices ? indices[k] : k;
        const image = imageAt(r.image, i);
        if (!image) continue;
        const [h, w, values] = image;
        r.bitmaps[i] ??= bitmap(h, w, values, rgba, r);
        const x0 = r.scaleX(at(r.x, i));
        const x1 = r.scaleX(at(r.x, i) + at(r.dw, i));
        const y0 = r.scaleY(at(r.y, i));
        const y1 = r.scaleY(at(r.y, i) + at(r.dh, i));
        ctx.save();
        ctx.globalAlpha = (r.global_alpha ?? 1) * (look.scale ?? 1);
        ctx.imageSmoothingEnabled = false;
        // Row 0 of the array is the image's bottom (y grows upward in data space).
        ctx.translate(Math.min(x0, x1), Math.max(y0, y1));
        ctx.scale(1, -1);
        ctx.drawImage(r.bitmaps[i], 0, 0, Math.abs(x1 - x0), Math.abs(y1 - y0));
        ctx.restore();
      }
    },

    hit(r, geometry) {
      const out = [];
      for (let i = 0; i < r.n; i++) {
        if (geometry.type !== "point") continue;
        const x = r.invertX(geometry.sx);
        const y = r.invertY(geometry.sy);
        if (x >= at(r.x, i) && x <= at(r.x, i) + at(r.dw, i) && y >= at(r.y, i) && y <= at(r.y, i) + at(r.dh, i)) out.push(i);
      }
      return out;
    },

    legend() {},
  };
}

function bitmap(h, w, values, rgba, r) {
  const canvas = document.createElement("canvas");
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext("2d");
  const data = ctx.createImageData(w, h);
  const pixels = new Uint32Array(data.data.buffer);
  if (rgba) {
    for (let k = 0; k < w * h; k++) pixels[k] = Number(values[k]);
  } else {
    const mapper = r.color_mapper;
    const colors = mapper ? mapColors(mapper, values, r.prop) : greys(values);
    const packed = new Map();
    for (let k = 0; k < w * h; k++) {
      const c = colors[k];
      let p = packed.get(c);
      if (p === undefined) packed.set(c, (p = packColor(c)));
      pixels[k] = p;
    }
  }
  ctx.putImageData(data, 0, 0);
  return canvas;
}

function greys(values) {
  let low = Infinity;
  let high = -Infinity;
  for (const v of values) {
    if (v < low) low = v;
    if (v > high) high = v;
  }
  return Array.from(values, (v) => {
    const g = Math.round(((v - low) / (high - low || 1)) * 255);
    return `rgb(${g},${g},${g})`;
  });
}

export const Image = imageGlyph(false);
export const ImageRGBA = imageGlyph(true);
