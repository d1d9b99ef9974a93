/**
 * Applying resolved line, fill and text visuals to a canvas context, row by row or for
 * a whole batch. Rows that share a style are drawn as one path: a glyph with one colour
 * costs one fill, a colour-mapped one a fill per colour.
 */

import { at } from "./specs.js";

export const DASHES = { solid: [], dashed: [6, 4], dotted: [2, 4], dotdash: [2, 4, 6, 4], dashdot: [6, 4, 2, 4] };

function dashOf(dash) {
  if (Array.isArray(dash)) return dash;
  return DASHES[dash] ?? [];
}

/** Tell whether a resolved visual is the same for every row. */
export function isConstant(visual) {
  if (!visual) return true;
  return !["color", "alpha", "width"].some((key) => visual[key] !== null && typeof visual[key] === "object");
}

/** Set the stroke of row ``i``; return false when nothing would show. */
export function setLine(ctx, line, i, scale = 1) {
  if (!line) return false;
  const color = at(line.color, i);
  const alpha = at(line.alpha, i) * scale;
  const width = at(line.width, i);
  if (color === null || color === undefined || !(alpha > 0) || !(width > 0)) return false;
  ctx.strokeStyle = color;
  ctx.globalAlpha = Math.min(1, alpha);
  ctx.lineWidth = width;
  ctx.setLineDash(dashOf(line.dash));
  ctx.lineDashOffset = line.dashOffset ?? 0;
  ctx.lineCap = line.cap ?? "butt";
  ctx.lineJoin = line.join ?? "bevel";
  return true;
}

/** Set the fill of row ``i``; return false when nothing would show. */
export function setFill(ctx, fill, i, scale = 1) {
  if (!fill) return false;
  const color = at(fill.color, i);
  const alpha = at(fill.alpha, i) * scale;
  if (color === null || color === undefined || !(alpha > 0)) return false;
  ctx.fillStyle = color;
  ctx.globalAlpha = Math.min(1, alpha);
  return true;
}

/** Set the text style of row ``i``; return false when nothing would show. */
export function setText(ctx, text, i, scale = 1) {
  if (!text) return false;
  const color = at(text.color, i);
  const alpha = at(text.alpha, i) * scale;
  if (color === null || color === undefined || !(alpha > 0)) return false;
  ctx.fillStyle = color;
  ctx.globalAlpha = Math.min(1, alpha);
  const style = text.style && text.style !== "normal" ? `${text.style} ` : "";
  ctx.font = `${style}${text.size ?? "13px"} ${fontFamily(text.font)}`;
  ctx.textAlign = text.align ?? "left";
  ctx.textBaseline = text.baseline ?? "bottom";
  return true;
}

function fontFamily(font) {
  return !font || font === "helvetica" ? "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" : font;
}

/** Return a key for row ``i``'s style (rows with equal keys share one path). */
function styleKey(visual, i) {
  if (!visual) return "";
  return `${at(visual.color, i)}|${at(visual.alpha, i)}|${at(visual.width, i) ?? ""}`;
}

/**
 * Group ``indices`` (or all ``n`` rows when null) by style: [[row, ...], ...], each
 * group drawable as one path. A constant style gives one group without looking at rows.
 */
export function groupByStyle(visual, n, indices) {
  if (isConstant(visual)) return [indices ?? null];
  const groups = new Map();
  const count = indices ? indices.length : n;
  for (let k = 0; k < count; k++) {
    const i = indices ? indices[k] : k;
    const key = styleKey(visual, i);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = []));
    group.push(i);
  }
  return [...groups.values()];
}

/**
 * Build one path per style group with ``trace(ctx, i)`` for each of its rows, then
 * fill and/or stroke it. ``look``: {fill, line, scale}; rows of ``indices`` only (null: all).
 */
export function paintRows(ctx, n, indices, look, trace) {
  const scale = look.scale ?? 1;
  if (look.fill) {
    for (const group of groupByStyle(look.fill, n, indices)) {
      const first = group ? group[0] : 0;
      if ((group && !group.length) || n === 0 || !setFill(ctx, look.fill, first, scale)) continue;
      ctx.beginPath();
      if (group) for (const i of group) trace(ctx, i);
      else for (let i = 0; i < n; i++) trace(ctx, i);
      ctx.fill();
    }
  }
  if (look.line) {
    for (const group of groupByStyle(look.line, n, indices)) {
      const first = group ? group[0] : 0;
      if ((group && !group.length) || n === 0 || !setLine(ctx, look.line, first, scale)) continue;
      ctx.beginPath();
      if (group) for (const i of group) trace(ctx, i);
      else for (let i = 0; i < n; i++) trace(ctx, i);
      ctx.stroke();
    }
  }
  ctx.globalAlpha = 1;
  ctx.setLineDash([]);
}
