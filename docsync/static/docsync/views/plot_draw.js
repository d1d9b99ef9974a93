/**
 * Drawing a plot on a 2D canvas context: frame, grid, axes with nice ticks, title,
 * axis labels, glyphs and legend. No DOM beyond the context it is handed.
 *
 * A ``frame`` is {width, height, area: {left, top, right, bottom}, x: [low, high],
 * y: [low, high], categories: null or the x categories}; ``series`` are the glyphs'
 * resolved data: {type, xs, ys, style}.
 */

import { formatTick, niceTicks } from "./ticks.js";

const FONT = "12px system-ui, -apple-system, 'Segoe UI', sans-serif";
const TITLE_FONT = "600 14px system-ui, -apple-system, 'Segoe UI', sans-serif";
const INK = "#2b2f36";
const MUTED = "#5f6672";
const GRID = "rgba(0, 0, 0, 0.08)";
const AXIS = "#9aa0a8";

/** Return {toX, toY, fromX, fromY}: data ↔ CSS pixels within the frame's area. */
export function scales(frame) {
  const { area } = frame;
  const [x0, x1] = frame.x;
  const [y0, y1] = frame.y;
  const kx = (area.right - area.left) / (x1 - x0 || 1);
  const ky = (area.bottom - area.top) / (y1 - y0 || 1);
  return {
    toX: (x) => area.left + (x - x0) * kx,
    toY: (y) => area.bottom - (y - y0) * ky,
    fromX: (px) => x0 + (px - area.left) / kx,
    fromY: (py) => y0 + (area.bottom - py) / ky,
  };
}

/** Return the ticks of both axes: {x: {ticks, step, labels}, y: {...}}. */
export function axisTicks(frame) {
  const { area } = frame;
  const xCount = Math.max(2, Math.round((area.right - area.left) / 90));
  const yCount = Math.max(2, Math.round((area.bottom - area.top) / 50));
  let x;
  if (frame.categories) {
    const ticks = [];
    const every = Math.max(1, Math.ceil(frame.categories.length / Math.max(1, xCount * 2)));
    for (let i = 0; i < frame.categories.length; i += every) if (i >= frame.x[0] && i <= frame.x[1]) ticks.push(i);
    x = { ticks, step: 1, labels: ticks.map((i) => String(frame.categories[i])) };
  } else {
    const { ticks, step } = niceTicks(frame.x[0], frame.x[1], xCount);
    x = { ticks, step, labels: ticks.map((t) => formatTick(t, step)) };
  }
  const { ticks, step } = niceTicks(frame.y[0], frame.y[1], yCount);
  return { x, y: { ticks, step, labels: ticks.map((t) => formatTick(t, step)) } };
}

/** Return the width in CSS pixels of the widest label, in the axis font. */
export function labelWidth(ctx, labels) {
  ctx.font = FONT;
  return labels.reduce((widest, label) => Math.max(widest, ctx.measureText(label).width), 0);
}

/** Draw the background, grid, axes, ticks, title (its lines) and axis labels. */
export function drawFrame(ctx, frame, ticks, { title, xLabel, yLabel, background, grid }) {
  const { area, width, height } = frame;
  const { toX, toY } = scales(frame);
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = background || "#ffffff";
  ctx.fillRect(area.left, area.top, area.right - area.left, area.bottom - area.top);

  ctx.lineWidth = 1;
  if (grid) {
    ctx.strokeStyle = GRID;
    ctx.beginPath();
    for (const t of ticks.x.ticks) {
      const px = Math.round(toX(t)) + 0.5;
      ctx.moveTo(px, area.top);
      ctx.lineTo(px, area.bottom);
    }
    for (const t of ticks.y.ticks) {
      const py = Math.round(toY(t)) + 0.5;
      ctx.moveTo(area.left, py);
      ctx.lineTo(area.right, py);
    }
    ctx.stroke();
  }

  ctx.strokeStyle = AXIS;
  ctx.beginPath();
  ctx.moveTo(area.left - 0.5, area.top);
  ctx.lineTo(area.left - 0.5, area.bottom + 0.5);
  ctx.lineTo(area.right, area.bottom + 0.5);
  for (const t of ticks.x.ticks) {
    const px = Math.round(toX(t)) + 0.5;
    ctx.moveTo(px, area.bottom + 0.5);
    ctx.lineTo(px, area.bottom + 5);
  }
  for (const t of ticks.y.ticks) {
    const py = Math.round(toY(t)) + 0.5;
    ctx.moveTo(area.left - 5, py);
    ctx.lineTo(area.left - 0.5, py);
  }
  ctx.stroke();

  ctx.font = FONT;
  ctx.fillStyle = MUTED;
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  let lastRight = -Infinity;
  ticks.x.ticks.forEach((t, i) => {
    const px = toX(t);
    const label = ticks.x.labels[i];
    const half = ctx.measureText(label).width / 2;
    if (px - half < lastRight + 6) return; // never let labels overlap
    ctx.fillText(label, px, area.bottom + 7);
    lastRight = px + half;
  });
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  ticks.y.ticks.forEach((t, i) => ctx.fillText(ticks.y.labels[i], area.left - 8, toY(t)));

  ctx.fillStyle = INK;
  ctx.font = TITLE_FONT;
  ctx.textAlign = "left";
  ctx.textBaseline = "top";
  (title ?? []).forEach((line, i) => ctx.fillText(line, area.left, 8 + i * TITLE_LINE));
  ctx.font = FONT;
  if (xLabel) {
    ctx.textAlign = "center";
    ctx.textBaseline = "bottom";
    ctx.fillText(xLabel, (area.left + area.right) / 2, height - 4);
  }
  if (yLabel) {
    ctx.save();
    ctx.translate(12, (area.top + area.bottom) / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText(yLabel, 0, 0);
    ctx.restore();
  }
}

/** The height of a line of the title, in CSS pixels. */
export const TITLE_LINE = 19;

/** Return the title as lines that fit ``width`` pixels: words wrapped, at most ``most`` lines. */
export function titleLines(ctx, title, width, most = 2) {
  if (!title) return [];
  ctx.font = TITLE_FONT;
  const lines = [];
  let line = "";
  for (const word of title.split(/\s+/)) {
    const next = line ? `${line} ${word}` : word;
    if (line && ctx.measureText(next).width > width) {
      lines.push(line);
      line = word;
    } else {
      line = next;
    }
  }
  if (line) lines.push(line);
  if (lines.length > most) lines.splice(most - 1, lines.length, lines.slice(most - 1).join(" "));
  return lines.map((text) => fitText(ctx, text, width));
}

/** Return ``text`` cut with an ellipsis to fit ``width`` pixels in the current font. */
function fitText(ctx, text, width) {
  if (ctx.measureText(text).width <= width) return text;
  let cut = text;
  while (cut.length > 1 && ctx.measureText(`${cut}…`).width > width) cut = cut.slice(0, -1);
  return `${cut}…`;
}

function drawLine(ctx, series, toX, toY) {
  const { xs, ys, style } = series;
  ctx.strokeStyle = style.color;
  ctx.lineWidth = style.lineWidth;
  ctx.lineJoin = "round";
  ctx.lineCap = "round";
  ctx.beginPath();
  let pen = false;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i];
    const y = ys[i];
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      pen = false; // a gap: NaN breaks the line
      continue;
    }
    if (pen) ctx.lineTo(toX(x), toY(y));
    else ctx.moveTo(toX(x), toY(y));
    pen = true;
  }
  ctx.stroke();
}

function markerPath(ctx, marker, px, py, r) {
  if (marker === "square") {
    ctx.rect(px - r, py - r, 2 * r, 2 * r);
  } else if (marker === "triangle") {
    ctx.moveTo(px, py - r * 1.15);
    ctx.lineTo(px + r, py + r * 0.6);
    ctx.lineTo(px - r, py + r * 0.6);
    ctx.closePath();
  } else {
    ctx.moveTo(px + r, py);
    ctx.arc(px, py, r, 0, 2 * Math.PI);
  }
}

function drawScatter(ctx, series, toX, toY) {
  const { xs, ys, style } = series;
  const r = Math.max(0.5, style.size / 2);
  ctx.fillStyle = style.color;
  ctx.beginPath();
  for (let i = 0; i < xs.length; i++) {
    if (Number.isFinite(xs[i]) && Number.isFinite(ys[i])) markerPath(ctx, style.marker, toX(xs[i]), toY(ys[i]), r);
  }
  ctx.fill();
}

function drawBars(ctx, series, toX, toY) {
  const { xs, ys, style } = series;
  const half = style.barWidth / 2;
  const base = toY(style.bottom);
  ctx.fillStyle = style.color;
  ctx.beginPath();
  for (let i = 0; i < xs.length; i++) {
    if (!Number.isFinite(xs[i]) || !Number.isFinite(ys[i])) continue;
    const left = toX(xs[i] - half);
    const right = toX(xs[i] + half);
    const top = toY(ys[i]);
    ctx.rect(left, Math.min(top, base), Math.max(1, right - left), Math.abs(base - top));
  }
  ctx.fill();
}

const DRAW = { Line: drawLine, Scatter: drawScatter, VBar: drawBars };

/** Draw every series, clipped to the plot area. */
export function drawSeries(ctx, frame, series) {
  const { area } = frame;
  const { toX, toY } = scales(frame);
  ctx.save();
  ctx.beginPath();
  ctx.rect(area.left, area.top, area.right - area.left, area.bottom - area.top);
  ctx.clip();
  for (const item of series) {
    ctx.globalAlpha = item.style.alpha;
    DRAW[item.type]?.(ctx, item, toX, toY);
  }
  ctx.restore();
}

/** Draw a legend of the series that have a label, in the area's top right corner. */
export function drawLegend(ctx, frame, series) {
  const labelled = series.filter((item) => item.style.label);
  if (!labelled.length) return;
  ctx.font = FONT;
  const widest = labelWidth(ctx, labelled.map((item) => item.style.label));
  const rowHeight = 18;
  const boxWidth = widest + 36;
  const boxHeight = labelled.length * rowHeight + 8;
  const left = frame.area.right - boxWidth - 8;
  const top = frame.area.top + 8;
  ctx.fillStyle = "rgba(255, 255, 255, 0.9)";
  ctx.strokeStyle = "rgba(0, 0, 0, 0.15)";
  ctx.fillRect(left, top, boxWidth, boxHeight);
  ctx.strokeRect(left + 0.5, top + 0.5, boxWidth - 1, boxHeight - 1);
  labelled.forEach((item, i) => {
    const y = top + 4 + i * rowHeight + rowHeight / 2;
    ctx.fillStyle = item.style.color;
    ctx.fillRect(left + 8, y - 2, 16, 4);
    ctx.fillStyle = INK;
    ctx.textAlign = "left";
    ctx.textBaseline = "middle";
    ctx.fillText(item.style.label, left + 30, y);
  });
}

/** Draw the hover mark: a ring around the nearest point. */
export function drawHover(ctx, frame, hit) {
  const { toX, toY } = scales(frame);
  const px = toX(hit.x);
  const py = toY(hit.y);
  ctx.save();
  ctx.lineWidth = 2;
  ctx.strokeStyle = "#ffffff";
  ctx.beginPath();
  ctx.arc(px, py, 6, 0, 2 * Math.PI);
  ctx.stroke();
  ctx.lineWidth = 1.5;
  ctx.strokeStyle = hit.color;
  ctx.beginPath();
  ctx.arc(px, py, 5, 0, 2 * Math.PI);
  ctx.stroke();
  ctx.restore();
}
