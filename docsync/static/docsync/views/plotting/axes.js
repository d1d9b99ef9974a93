/**
 * Axes and grids: where ticks go (basic, log, datetime, categorical, fixed), how they
 * are labelled (the axis's formatter), how much room an axis takes beside the frame,
 * and drawing both. ``prop(attr, model)`` reads a property or its default.
 */

import { niceTicks } from "../ticks.js";
import { datetimeLabels } from "./datetime_labels.js";
import { datetimeTicks } from "./datetime_ticks.js";
import { basicTick, numeral, printf } from "./formatters.js";

export const FONT_FAMILY = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif";
const SUPERSCRIPT = { "-": "⁻", 0: "⁰", 1: "¹", 2: "²", 3: "³", 4: "⁴", 5: "⁵", 6: "⁶", 7: "⁷", 8: "⁸", 9: "⁹" };

/** Return log-axis ticks in [low, high]: powers of ten (every n-th decade, n a divisor of the exponents shown), or 1, 2, 5 times them over few decades. */
export function logTicks(low, high, count) {
  if (!(low > 0) || !(high > low)) return [];
  const first = Math.floor(Math.log10(low));
  const last = Math.ceil(Math.log10(high));
  const decades = last - first;
  const every = Math.max(1, Math.ceil(decades / count));
  const ticks = [];
  // Every other decade starts at an even exponent (10⁰, 10², 10⁴), not at the first below the data.
  for (let k = Math.ceil(first / every) * every; k <= last; k += every) {
    const multiples = decades <= 2 ? [1, 2, 5] : [1];
    for (const m of multiples) {
      const t = m * 10 ** k;
      if (t >= low && t <= high) ticks.push(t);
    }
  }
  return ticks;
}

/**
 * Return minor tick positions within [low, high]: ``count`` intervals per major one,
 * the intervals before the first and after the last major as wide as their neighbours;
 * on a log axis, 2..9 times each power of ten (or the powers of ten between majors more
 * than a decade apart). Majors are left out.
 */
export function minorTicks(ticks, low, high, count, log = false) {
  if (!(count >= 2) || ticks.length < 2) return [];
  const out = [];
  const add = (t) => {
    if (t >= low && t <= high) out.push(t);
  };
  if (log) {
    // Majors a decade or less apart: 2..9 times each power of ten; further apart: the powers between.
    const exponents = ticks.map((t) => Math.log10(t));
    const whole = exponents.every((e) => Math.abs(e - Math.round(e)) < 1e-9);
    const gap = whole ? Math.round(exponents[1] - exponents[0]) : 1;
    const major = new Set(ticks.map((t) => t.toPrecision(12)));
    const addMinor = (t) => {
      if (!major.has(t.toPrecision(12))) add(t);
    };
    for (let k = Math.floor(Math.log10(low)); k <= Math.ceil(Math.log10(high)); k++) {
      if (gap > 1) addMinor(10 ** k);
      else for (let m = 2; m <= 9; m++) addMinor(m * 10 ** k);
    }
    return out;
  }
  const interval = (a, b) => {
    for (let j = 1; j < count; j++) add(a + ((b - a) * j) / count);
  };
  interval(2 * ticks[0] - ticks[1], ticks[0]);
  for (let i = 0; i + 1 < ticks.length; i++) interval(ticks[i], ticks[i + 1]);
  interval(ticks[ticks.length - 1], 2 * ticks[ticks.length - 1] - ticks[ticks.length - 2]);
  return out;
}

// Minor intervals per major one of an axis without a ticker of its own, as Bokeh's.
const MINOR_COUNT = { linear: 5, log: 10, datetime: 0, categorical: 0 };

function kindOf(axis) {
  return { LogAxis: "log", DatetimeAxis: "datetime", CategoricalAxis: "categorical" }[axis.type] ?? "linear";
}

/**
 * Return {ticks, labels, groups, minor, resolution}: tick positions (data units;
 * synthetic for factors), their labels, for nested factors the group labels [{label,
 * start, end, level}], the minor tick positions, and a datetime axis's resolution.
 */
export function axisTicks(axis, scale, factors, lengthPx, prop, { vertical = false } = {}) {
  const ticker = prop("ticker", axis);
  const formatter = prop("formatter", axis);
  const low = Math.min(scale.start, scale.end);
  const high = Math.max(scale.start, scale.end);
  const wanted = ticker ? prop("desired_num_ticks", ticker) ?? 6 : 6;
  const count = Math.max(2, Math.min(wanted, Math.round(lengthPx / (vertical ? 40 : 60))));
  const kind = kindOf(axis);
  let ticks;
  let resolution = null;
  let step = NaN;
  let groups = [];
  let labels;
  if (ticker?.type === "FixedTicker") ticks = (prop("ticks", ticker) ?? []).filter((t) => t >= low && t <= high);
  else if (kind === "categorical" && factors) {
    const leaves = factors.leaves.filter((leaf) => leaf.centre >= low && leaf.centre <= high);
    ticks = leaves.map((leaf) => leaf.centre);
    labels = leaves.map((leaf) => leaf.factor[leaf.factor.length - 1]);
    groups = factors.groups.filter((g) => g.end >= low && g.start <= high);
  } else if (kind === "log" || ticker?.type === "LogTicker") ticks = logTicks(low, high, count);
  else if (kind === "datetime" || ticker?.type === "DatetimeTicker") ({ ticks, resolution } = datetimeTicks(low, high, count));
  else ({ ticks, step } = niceTicks(low, high, count));
  if (!labels) labels = formatTicks(ticks, { kind, formatter, resolution, step, prop });
  const overrides = prop("major_label_overrides", axis) ?? {};
  labels = labels.map((label, i) => overrides[String(ticks[i])] ?? label);
  let minor = [];
  if (ticker?.type === "FixedTicker") minor = (prop("minor_ticks", ticker) ?? []).filter((t) => t >= low && t <= high);
  else if (kind !== "categorical") {
    const count = ticker ? prop("num_minor_ticks", ticker) : MINOR_COUNT[kind];
    minor = minorTicks(ticks, low, high, count, kind === "log" || ticker?.type === "LogTicker");
  }
  return { ticks, labels, groups, minor, resolution };
}

function formatTicks(ticks, { kind, formatter, resolution, step, prop }) {
  const type = formatter?.type;
  if (type === "NumeralTickFormatter") return ticks.map((t) => numeral(t, prop("format", formatter)));
  if (type === "PrintfTickFormatter") return ticks.map((t) => printf(t, prop("format", formatter)));
  if (type === "DatetimeTickFormatter" || (kind === "datetime" && !type)) {
    return datetimeLabels(ticks, resolution ?? "days", type ? formatter : null, prop);
  }
  if (type === "LogTickFormatter" || (kind === "log" && !type)) {
    return ticks.map((t) => {
      const k = Math.log10(t);
      if (Math.abs(k - Math.round(k)) < 1e-9) return `10${[...String(Math.round(k))].map((c) => SUPERSCRIPT[c]).join("")}`;
      return basicTick(t, t / 10);
    });
  }
  const spacing = Number.isFinite(step) ? step : ticks.length > 1 ? Math.abs(ticks[1] - ticks[0]) : 1;
  return ticks.map((t) => basicTick(t, spacing));
}

// A tick label may hold several lines (a datetime context line): their height apart.
const LINE_SPACING = 1.25;

function linesOf(label) {
  return String(label).split("\n");
}

function labelWidth(ctx, label) {
  return linesOf(label).reduce((w, line) => Math.max(w, ctx.measureText(line).width), 0);
}

function orientation(axis, prop) {
  const value = prop("major_label_orientation", axis);
  if (value === "vertical") return Math.PI / 2;
  return typeof value === "number" ? value : 0;
}

/** Return the thickness in CSS pixels an axis needs on ``side`` for ``ticks``. */
export function axisThickness(ctx, axis, side, ticks, prop) {
  if (!prop("visible", axis)) return 0;
  const labelSize = parseFloat(prop("major_label_text_font_size", axis)) || 11;
  ctx.font = `${labelSize}px ${FONT_FAMILY}`;
  const widest = ticks.labels.reduce((w, label) => Math.max(w, labelWidth(ctx, label)), 0);
  const lines = ticks.labels.reduce((n, label) => Math.max(n, linesOf(label).length), 1);
  const tall = labelSize * (1 + (lines - 1) * LINE_SPACING);
  const angle = orientation(axis, prop);
  const horizontal = side === "below" || side === "above";
  const across = horizontal
    ? Math.abs(Math.sin(angle)) * widest + Math.abs(Math.cos(angle)) * tall
    : Math.abs(Math.cos(angle)) * widest + Math.abs(Math.sin(angle)) * tall;
  const title = prop("axis_label", axis);
  const titleSize = parseFloat(prop("axis_label_text_font_size", axis)) || 13;
  const levels = ticks.groups.length ? Math.max(...ticks.groups.map((g) => g.level)) + 1 : 0;
  return prop("major_tick_out", axis) + 4 + across + levels * (labelSize + 6) + (title ? titleSize + 10 : 0) + 2;
}

// Where line ``k`` of a label centred at ``p`` is centred: pushed inside the canvas at its edges.
function lineCentre(p, width, canvasWidth) {
  return canvasWidth > width + 2 ? Math.min(Math.max(p, width / 2 + 1), canvasWidth - width / 2 - 1) : p;
}

/**
 * Return n such that labelling every n-th tick of a horizontal axis leaves no two labels
 * overlapping: labels are thinned evenly rather than wherever they would collide.
 */
export function labelStride(ctx, positions, labels, canvasWidth = Infinity) {
  const lines = labels.map((label) => linesOf(label).map((line) => ctx.measureText(line).width));
  for (let every = 1; every < Math.max(2, labels.length); every++) {
    const lastEnds = [];
    let fits = true;
    for (let i = 0; i < labels.length && fits; i += every) {
      if (!Number.isFinite(positions[i]) || labels[i] === "") continue;
      const centres = lines[i].map((w) => lineCentre(positions[i], w, canvasWidth));
      fits = lines[i].every((w, k) => centres[k] - w / 2 >= (lastEnds[k] ?? -Infinity) + 4);
      lines[i].forEach((w, k) => (lastEnds[k] = centres[k] + w / 2));
    }
    if (fits) return every;
  }
  return Math.max(1, labels.length);
}

/**
 * Draw an axis on ``side`` of the frame {left, top, right, bottom}, ``offset`` pixels
 * out from the frame's edge (axes stack outward), with ``compute`` (data -> pixel);
 * labels stay within ``canvasWidth`` CSS pixels when it is given.
 */
export function drawAxis(ctx, axis, side, frame, offset, ticks, compute, prop, canvasWidth = Infinity) {
  if (!prop("visible", axis)) return;
  const horizontal = side === "below" || side === "above";
  const out = side === "below" || side === "right" ? 1 : -1;
  const base = (side === "below" ? frame.bottom : side === "above" ? frame.top : side === "left" ? frame.left : frame.right) + out * offset;
  const tickOut = prop("major_tick_out", axis);
  const tickIn = prop("major_tick_in", axis);
  const lineColor = prop("axis_line_color", axis);
  const tickColor = prop("major_tick_line_color", axis);
  ctx.lineWidth = 1;
  const crisp = (v) => Math.round(v) + 0.5;
  if (lineColor) {
    ctx.strokeStyle = lineColor;
    ctx.beginPath();
    if (horizontal) {
      ctx.moveTo(frame.left, crisp(base));
      ctx.lineTo(frame.right, crisp(base));
    } else {
      ctx.moveTo(crisp(base), frame.top);
      ctx.lineTo(crisp(base), frame.bottom);
    }
    ctx.stroke();
  }
  const positions = ticks.ticks.map(compute);
  if (tickColor) {
    ctx.strokeStyle = tickColor;
    ctx.beginPath();
    for (const p of positions) {
      if (!Number.isFinite(p)) continue;
      if (horizontal) {
        ctx.moveTo(crisp(p), base - out * tickIn);
        ctx.lineTo(crisp(p), base + out * tickOut);
      } else {
        ctx.moveTo(base - out * tickIn, crisp(p));
        ctx.lineTo(base + out * tickOut, crisp(p));
      }
    }
    ctx.stroke();
  }
  const minorColor = prop("minor_tick_line_color", axis);
  if (minorColor && ticks.minor?.length) {
    const minorIn = prop("minor_tick_in", axis) ?? 0;
    const minorOut = prop("minor_tick_out", axis) ?? 4;
    ctx.strokeStyle = minorColor;
    ctx.beginPath();
    for (const p of ticks.minor.map(compute)) {
      if (!Number.isFinite(p)) continue;
      if (horizontal) {
        ctx.moveTo(crisp(p), base - out * minorIn);
        ctx.lineTo(crisp(p), base + out * minorOut);
      } else {
        ctx.moveTo(base - out * minorIn, crisp(p));
        ctx.lineTo(base + out * minorOut, crisp(p));
      }
    }
    ctx.stroke();
  }
  const labelSize = parseFloat(prop("major_label_text_font_size", axis)) || 11;
  ctx.font = `${labelSize}px ${FONT_FAMILY}`;
  ctx.fillStyle = prop("major_label_text_color", axis);
  const angle = orientation(axis, prop);
  const gap = base + out * (tickOut + 3);
  let across = 0;
  const step = labelSize * LINE_SPACING;
  const every = horizontal && !angle ? labelStride(ctx, positions, ticks.labels, canvasWidth) : 1;
  // Row k of every label lies k line steps out from the axis, so main labels stay aligned
  // and a context line only has to clear other context lines.
  const lastEnds = [];
  positions.forEach((p, i) => {
    const label = ticks.labels[i];
    if (!Number.isFinite(p) || label === "" || i % every !== 0) return;
    const lines = linesOf(label);
    const width = labelWidth(ctx, label);
    const extra = (lines.length - 1) * step;
    if (horizontal && !angle) {
      const widths = lines.map((line) => ctx.measureText(line).width);
      // A line at the plot's edge is pushed inside rather than cut off.
      const centres = widths.map((w) => lineCentre(p, w, canvasWidth));
      if (widths.some((w, k) => centres[k] - w / 2 < (lastEnds[k] ?? -Infinity) + 4)) return; // labels never overlap
      ctx.textAlign = "center";
      ctx.textBaseline = out > 0 ? "top" : "bottom";
      lines.forEach((line, k) => ctx.fillText(line, centres[k], gap + out * k * step));
      widths.forEach((w, k) => (lastEnds[k] = centres[k] + w / 2));
      across = Math.max(across, labelSize + extra);
    } else if (!horizontal && !angle) {
      ctx.textAlign = out > 0 ? "left" : "right";
      ctx.textBaseline = "middle";
      lines.forEach((line, k) => ctx.fillText(line, gap, p + k * step));
      across = Math.max(across, width);
    } else {
      ctx.save();
      ctx.translate(horizontal ? p : gap, horizontal ? gap : p);
      ctx.rotate(-angle);
      ctx.textAlign = out > 0 ? "right" : "left";
      ctx.textBaseline = "middle";
      lines.forEach((line, k) => ctx.fillText(line, 0, k * step));
      ctx.restore();
      const tall = labelSize + extra;
      across = Math.max(across, horizontal ? Math.abs(Math.sin(angle)) * width + tall / 2 : Math.abs(Math.cos(angle)) * width);
    }
  });
  let reach = tickOut + 3 + across + 4;
  if (ticks.groups.length) {
    ctx.fillStyle = prop("group_text_color", axis) ?? "grey";
    ctx.font = `bold ${labelSize}px ${FONT_FAMILY}`;
    const levels = Math.max(...ticks.groups.map((g) => g.level));
    for (const group of ticks.groups) {
      const row = levels - group.level;
      const centre = compute((group.start + group.end) / 2);
      const at = base + out * (reach + row * (labelSize + 6));
      if (horizontal) {
        ctx.textAlign = "center";
        ctx.textBaseline = out > 0 ? "top" : "bottom";
        ctx.fillText(group.label, centre, at);
      } else {
        ctx.save();
        ctx.translate(at, centre);
        ctx.rotate(-Math.PI / 2);
        ctx.textAlign = "center";
        ctx.textBaseline = out > 0 ? "top" : "bottom";
        ctx.fillText(group.label, 0, 0);
        ctx.restore();
      }
    }
    reach += (levels + 1) * (labelSize + 6);
  }
  const title = prop("axis_label", axis);
  if (title) {
    const titleSize = parseFloat(prop("axis_label_text_font_size", axis)) || 13;
    const style = prop("axis_label_text_font_style", axis) ?? "italic";
    ctx.font = `${style === "normal" ? "" : style} ${titleSize}px ${FONT_FAMILY}`;
    ctx.fillStyle = prop("axis_label_text_color", axis);
    ctx.textAlign = "center";
    ctx.textBaseline = out > 0 ? "top" : "bottom";
    const at = base + out * (reach + 2);
    if (horizontal) ctx.fillText(title, (frame.left + frame.right) / 2, at);
    else {
      ctx.save();
      ctx.translate(at, (frame.top + frame.bottom) / 2);
      ctx.rotate(out > 0 ? Math.PI / 2 : -Math.PI / 2);
      ctx.textBaseline = "bottom";
      ctx.fillText(title, 0, 0);
      ctx.restore();
    }
  }
}

function strokeLines(ctx, frame, positions, vertical) {
  ctx.beginPath();
  for (const p of positions) {
    const c = Math.round(p) + 0.5;
    if (vertical) {
      ctx.moveTo(c, frame.top);
      ctx.lineTo(c, frame.bottom);
    } else {
      ctx.moveTo(frame.left, c);
      ctx.lineTo(frame.right, c);
    }
  }
  ctx.stroke();
}

/** Draw a grid's lines at ``ticks`` (and at ``minor`` ticks, when it has a minor colour; data units) across the frame. */
export function drawGrid(ctx, grid, frame, ticks, compute, prop, minor = []) {
  const color = prop("grid_line_color", grid);
  if (!prop("visible", grid)) return;
  const vertical = prop("dimension", grid) === 0;
  const minorColor = prop("minor_grid_line_color", grid);
  if (minorColor && minor.length) {
    ctx.strokeStyle = minorColor;
    ctx.globalAlpha = prop("minor_grid_line_alpha", grid) ?? 1;
    ctx.lineWidth = 1;
    strokeLines(ctx, frame, minor.map(compute).filter(Number.isFinite), vertical);
    ctx.globalAlpha = 1;
  }
  const positions = ticks.map(compute).filter(Number.isFinite);
  const band = prop("band_fill_color", grid);
  if (band && prop("band_fill_alpha", grid) > 0) {
    ctx.fillStyle = band;
    ctx.globalAlpha = prop("band_fill_alpha", grid);
    for (let k = 0; k + 1 < positions.length; k += 2) {
      if (vertical) ctx.fillRect(positions[k], frame.top, positions[k + 1] - positions[k], frame.bottom - frame.top);
      else ctx.fillRect(frame.left, positions[k + 1], frame.right - frame.left, positions[k] - positions[k + 1]);
    }
    ctx.globalAlpha = 1;
  }
  if (!color) return;
  ctx.strokeStyle = color;
  ctx.globalAlpha = prop("grid_line_alpha", grid);
  ctx.lineWidth = prop("grid_line_width", grid);
  const dash = prop("grid_line_dash", grid);
  ctx.setLineDash(Array.isArray(dash) ? dash : { dashed: [6, 4], dotted: [2, 4], dotdash: [2, 4, 6, 4], dashdot: [6, 4, 2, 4] }[dash] ?? []);
  strokeLines(ctx, frame, positions, vertical);
  ctx.setLineDash([]);
  ctx.globalAlpha = 1;
}
