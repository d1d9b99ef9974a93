/**
 * Legends and colour bars. A legend lays out its items (label + a sample of the
 * renderer's glyph), draws them inside the frame at its location or in a side panel,
 * and remembers each item's box so that a click can hide or mute its renderers.
 */

import { FONT_FAMILY, axisTicks } from "./axes.js";
import { boundsSeen, mapColors } from "./mappers.js";
import { makeScale } from "./scales.js";

const LOCATIONS = {
  top_right: [1, 0], top_left: [0, 0], top_center: [0.5, 0], bottom_right: [1, 1], bottom_left: [0, 1],
  bottom_center: [0.5, 1], center_right: [1, 0.5], center_left: [0, 0.5], center: [0.5, 0.5],
};

/** Return the legend's size {width, height, rows: [{item, label, x, y, w, h}]} (positions relative to its corner). */
export function legendLayout(ctx, legend, prop) {
  const items = (prop("items", legend) ?? []).filter((item) => prop("visible", item) && (prop("label", item) ?? "") !== "");
  const fontSize = parseFloat(prop("label_text_font_size", legend)) || 13;
  ctx.font = `${fontSize}px ${FONT_FAMILY}`;
  const padding = prop("padding", legend);
  const spacing = prop("spacing", legend);
  const glyphWidth = prop("glyph_width", legend);
  const rowHeight = Math.max(prop("glyph_height", legend), fontSize + 4);
  const horizontal = prop("orientation", legend) === "horizontal";
  const title = prop("title", legend);
  let y = padding + (title ? fontSize + 6 : 0);
  let x = padding;
  let width = 0;
  const rows = items.map((item) => {
    const label = String(prop("label", item));
    const w = glyphWidth + 6 + ctx.measureText(label).width;
    const row = { item, label, x, y, w, h: rowHeight };
    if (horizontal) x += w + spacing + 6;
    else y += rowHeight + spacing;
    width = Math.max(width, row.x + w);
    return row;
  });
  if (title) width = Math.max(width, padding + ctx.measureText(title).width);
  const height = horizontal ? y + rowHeight : y - spacing;
  return { width: width + padding, height: height + padding, rows, fontSize, glyphWidth, title };
}

/** Return the top-left corner of a legend of ``size`` placed at ``location`` in the frame. */
export function legendCorner(location, size, frame, margin, yScaleless) {
  if (Array.isArray(location)) return { x: frame.left + location[0], y: frame.bottom - location[1] - size.height };
  const [fx, fy] = LOCATIONS[location] ?? LOCATIONS.top_right;
  return {
    x: frame.left + margin + fx * (frame.right - frame.left - size.width - 2 * margin),
    y: frame.top + margin + fy * (frame.bottom - frame.top - size.height - 2 * margin),
  };
}

/**
 * Draw a legend at ``corner``; ``sample(ctx, item, box)`` draws an item's glyph, and
 * ``dimmed(item)`` tells whether its renderers are hidden or muted. Returns the items'
 * boxes in CSS pixels, for clicks: [{item, left, top, right, bottom}].
 */
export function drawLegend(ctx, legend, layout, corner, prop, sample, dimmed) {
  const background = prop("background_fill_color", legend);
  if (background) {
    ctx.fillStyle = background;
    ctx.globalAlpha = prop("background_fill_alpha", legend);
    ctx.fillRect(corner.x, corner.y, layout.width, layout.height);
    ctx.globalAlpha = 1;
  }
  const border = prop("border_line_color", legend);
  if (border) {
    ctx.strokeStyle = border;
    ctx.lineWidth = 1;
    ctx.strokeRect(Math.round(corner.x) + 0.5, Math.round(corner.y) + 0.5, Math.round(layout.width), Math.round(layout.height));
  }
  ctx.font = `${layout.fontSize}px ${FONT_FAMILY}`;
  if (layout.title) {
    ctx.fillStyle = prop("label_text_color", legend);
    ctx.textAlign = "left";
    ctx.textBaseline = "top";
    ctx.font = `bold ${layout.fontSize}px ${FONT_FAMILY}`;
    ctx.fillText(layout.title, corner.x + prop("padding", legend), corner.y + prop("padding", legend));
    ctx.font = `${layout.fontSize}px ${FONT_FAMILY}`;
  }
  const boxes = [];
  for (const row of layout.rows) {
    const left = corner.x + row.x;
    const top = corner.y + row.y;
    const off = dimmed(row.item);
    ctx.save();
    if (off) ctx.globalAlpha = 0.3;
    sample(ctx, row.item, { left, top: top + 2, right: left + layout.glyphWidth, bottom: top + row.h - 2 });
    ctx.restore();
    ctx.fillStyle = prop("label_text_color", legend);
    ctx.globalAlpha = off ? 0.45 : 1;
    ctx.textAlign = "left";
    ctx.textBaseline = "middle";
    ctx.fillText(row.label, left + layout.glyphWidth + 6, top + row.h / 2);
    ctx.globalAlpha = 1;
    boxes.push({ item: row.item, left, top, right: left + row.w, bottom: top + row.h });
  }
  return boxes;
}

/** Return the room a colour bar needs beside the frame (its thickness with labels and title). */
export function colorBarThickness(ctx, bar, prop) {
  const vertical = prop("orientation", bar) !== "horizontal";
  ctx.font = `11px ${FONT_FAMILY}`;
  return prop("width", bar) + 12 + (vertical ? 46 : 18) + (prop("title", bar) ? 18 : 0);
}

/** Draw a colour bar in the rectangle {left, top, right, bottom} (a side panel). */
export function drawColorBar(ctx, bar, box, prop) {
  const mapper = prop("color_mapper", bar);
  if (!mapper) return;
  const vertical = prop("orientation", bar) !== "horizontal";
  const palette = prop("palette", mapper) ?? [];
  const title = prop("title", bar);
  const thick = prop("width", bar);
  let top = box.top + 8;
  ctx.font = `bold 12px ${FONT_FAMILY}`;
  ctx.fillStyle = "#444444";
  ctx.textAlign = "left";
  ctx.textBaseline = "top";
  if (title) {
    ctx.fillText(title, box.left + 8, top);
    top += 18;
  }
  const left = box.left + 8;
  const length = vertical ? box.bottom - top - 8 : box.right - left - 16;
  const categorical = mapper.type === "CategoricalColorMapper";
  const factors = categorical ? prop("factors", mapper) ?? [] : [];
  const colors = categorical ? mapColors(mapper, factors, prop) : palette;
  const cells = Math.max(1, colors.length);
  for (let k = 0; k < cells; k++) {
    ctx.fillStyle = colors[k] ?? "#cccccc";
    const a = (k / cells) * length;
    const b = ((k + 1) / cells) * length;
    if (vertical) ctx.fillRect(left, top + length - b, thick, b - a + 0.5);
    else ctx.fillRect(left + a, top, b - a + 0.5, thick);
  }
  ctx.fillStyle = "#444444";
  ctx.font = `11px ${FONT_FAMILY}`;
  if (categorical) {
    factors.forEach((factor, k) => {
      const c = ((k + 0.5) / cells) * length;
      if (vertical) {
        ctx.textBaseline = "middle";
        ctx.fillText(String(factor), left + thick + 6, top + length - c);
      } else {
        ctx.textAlign = "center";
        ctx.fillText(String(factor), left + c, top + thick + 4);
      }
    });
    return;
  }
  const low = prop("low", mapper) ?? boundsSeen(mapper)?.low ?? 0;
  const high = prop("high", mapper) ?? boundsSeen(mapper)?.high ?? 1;
  const kind = mapper.type === "LogColorMapper" ? "LogScale" : "LinearScale";
  const scale = vertical ? makeScale(kind, low, high, top + length, top) : makeScale(kind, low, high, left, left + length);
  const axis = { type: kind === "LogScale" ? "LogAxis" : "LinearAxis", get: (attr) => ({ ticker: prop("ticker", bar), formatter: prop("formatter", bar) })[attr] };
  const ticks = axisTicks(axis, scale, null, length, (attr, model) => (model === axis ? axis.get(attr) ?? null : prop(attr, model)), { vertical });
  ticks.ticks.forEach((t, k) => {
    const p = scale.compute(t);
    if (vertical) {
      ctx.textAlign = "left";
      ctx.textBaseline = "middle";
      ctx.fillText(ticks.labels[k], left + thick + 6, p);
    } else {
      ctx.textAlign = "center";
      ctx.textBaseline = "top";
      ctx.fillText(ticks.labels[k], p, top + thick + 4);
    }
  });
}
