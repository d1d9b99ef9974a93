/**
 * One layout and paint of a plot, given its models: ranges and scales, side panels
 * (axes, title, legends and colour bars outside the frame), the frame, grids, glyph
 * renderers with their selected/unselected/muted looks, annotations and legends.
 * ``plan`` is what interaction needs afterwards: the frame, the scales by range name,
 * the resolved renderers, the legend items' boxes and what each axis shows.
 */

import { ANNOTATIONS } from "./annotations.js";
import { axisThickness, axisTicks, drawAxis, drawGrid, FONT_FAMILY } from "./axes.js";
import { glyphBounds, project } from "./glyphs.js";
import { colorBarThickness, drawColorBar, drawLegend, legendCorner, legendLayout } from "./legend.js";
import { factorsOf, rangeSpan } from "./ranges.js";
import { makeScale } from "./scales.js";
import { at } from "./specs.js";

// Render levels, bottom first (a renderer's ``level``): glyphs and annotations alike.
const LEVELS = ["image", "underlay", "glyph", "guide", "annotation", "overlay"];
const SIDES = ["above", "below", "left", "right"];

/** Return {x: {name: range}, y: {...}} of a plot. */
export function plotRanges(plot, prop) {
  const x = { default: prop("x_range", plot), ...Object.fromEntries(Object.entries(prop("extra_x_ranges", plot) ?? {})) };
  const y = { default: prop("y_range", plot), ...Object.fromEntries(Object.entries(prop("extra_y_ranges", plot) ?? {})) };
  return { x, y };
}

function scaleKind(plot, dim, name, prop) {
  // An extra range without a scale of its own is linear (the plot's scale may be a log one).
  const scale = name === "default" ? prop(`${dim}_scale`, plot) : (prop(`extra_${dim}_scales`, plot) ?? {})[name];
  return scale?.type ?? "LinearScale";
}

function mergeBounds(into, bounds) {
  into[0] = Math.min(into[0], bounds[0]);
  into[1] = Math.max(into[1], bounds[1]);
}

/**
 * Return the [start, end] of every range: {x: {name: [s, e]}, y: ...}, the scale kinds, and
 * ``own``: each DataRange1d's [low, high] over this plot's renderers alone. ``shared(range)``
 * gives the [low, high] other plots showing ``range`` hold (or null): as in Bokeh, a
 * DataRange1d spans the data of every plot that shows it, so linked plots line up.
 */
export function computeSpans(plot, prop, ranges, factors, entries, shared = null) {
  const spans = { x: {}, y: {} };
  const kinds = { x: {}, y: {} };
  const own = new Map();
  for (const dim of ["x", "y"]) {
    for (const [name, range] of Object.entries(ranges[dim])) {
      const kind = scaleKind(plot, dim, name, prop);
      kinds[dim][name] = kind;
      let bounds = null;
      if (range?.type === "DataRange1d") {
        bounds = [Infinity, -Infinity];
        const only = prop("renderers", range) ?? [];
        const onlyVisible = prop("only_visible", range);
        for (const entry of entries) {
          const renderer = entry.renderer;
          if ((prop(`${dim}_range_name`, renderer) ?? "default") !== name) continue;
          if (only.length && !only.includes(renderer)) continue;
          if (onlyVisible && !prop("visible", renderer)) continue;
          const flags = { xPositive: kinds.x.default === "LogScale", yPositive: kinds.y.default === "LogScale" };
          if (!entry.bounds || entry.boundsFlags?.xPositive !== flags.xPositive || entry.boundsFlags?.yPositive !== flags.yPositive) {
            entry.bounds = glyphBounds(entry.r, flags);
            entry.boundsFlags = flags;
          }
          mergeBounds(bounds, entry.bounds[dim]);
        }
        if (own.has(range)) mergeBounds(own.get(range), bounds);
        else own.set(range, [...bounds]);
        const others = shared?.(range);
        if (others) mergeBounds(bounds, others);
      }
      spans[dim][name] = rangeSpan(range, prop, bounds, factors[dim][name], kind === "LogScale");
    }
  }
  return { spans, kinds, own };
}

/** Return the plot's Title model: a string title (as BokehJS takes one) stands for a Title of that text. */
export function plotTitle(plot, prop) {
  const title = prop("title", plot);
  // Views read models through get() and the type's defaults only.
  return typeof title === "string" ? { type: "Title", get: (attr) => (attr === "text" ? title : undefined) } : title;
}

function sideItems(plot, prop, side) {
  const items = (prop(side, plot) ?? []).filter(Boolean);
  const title = plotTitle(plot, prop);
  // The title is outermost, beyond the side's axes and legends (as in Bokeh: a plot with its
  // x axis above has its title over the axis).
  if (title && (prop("title_location", plot) ?? "above") === side && (prop("text", title) ?? "") !== "") items.push(title);
  return items;
}

function titleThickness(title, prop) {
  return (parseFloat(prop("text_font_size", title)) || 13) + 12;
}

/** Return the scale of an axis or annotation by its range names. */
function scalesOf(model, scales, prop) {
  return { x: scales.x[prop("x_range_name", model) ?? "default"] ?? scales.x.default, y: scales.y[prop("y_range_name", model) ?? "default"] ?? scales.y.default };
}

/**
 * Lay out and paint the plot on ``ctx`` ({width, height} CSS pixels). ``entries``:
 * the resolved glyph renderers [{renderer, r, looks}]. Returns the plan.
 */
export function paintPlot(ctx, { plot, prop, width, height, entries, factors, ranges, spans, kinds, lod }) {
  const border = prop("border_fill_color", plot);
  ctx.clearRect(0, 0, width, height);
  if (border) {
    ctx.fillStyle = border;
    ctx.fillRect(0, 0, width, height);
  }
  const minBorder = prop("min_border", plot) ?? 5;
  const makeScales = (frame) => {
    const out = { x: {}, y: {} };
    for (const [name, [s, e]] of Object.entries(spans.x)) out.x[name] = makeScale(kinds.x[name], s, e, frame.left, frame.right);
    for (const [name, [s, e]] of Object.entries(spans.y)) out.y[name] = makeScale(kinds.y[name], s, e, frame.bottom, frame.top);
    return out;
  };
  const panels = Object.fromEntries(SIDES.map((side) => [side, sideItems(plot, prop, side)]));
  // Two passes: tick labels depend on the frame's size, the frame on their room.
  let frame = { left: minBorder + 40, top: minBorder + 10, right: width - minBorder - 10, bottom: height - minBorder - 30 };
  let measured = null;
  for (let pass = 0; pass < 2; pass++) {
    const scales = makeScales(frame);
    measured = {};
    const thickness = {};
    for (const side of SIDES) {
      const horizontal = side === "above" || side === "below";
      let total = 0;
      measured[side] = panels[side].map((item) => {
        let size = 0;
        let ticks = null;
        if (item.type.endsWith("Axis")) {
          const { x, y } = scalesOf(item, scales, prop);
          const scale = horizontal ? x : y;
          const rangeName = prop(horizontal ? "x_range_name" : "y_range_name", item) ?? "default";
          ticks = axisTicks(item, scale, factors[horizontal ? "x" : "y"][rangeName], horizontal ? frame.right - frame.left : frame.bottom - frame.top, prop, { vertical: !horizontal });
          size = axisThickness(ctx, item, side, ticks, prop);
        } else if (item.type === "Title") size = titleThickness(item, prop);
        else if (item.type === "Legend") {
          const layout = legendLayout(ctx, item, prop);
          size = (horizontal ? layout.height : layout.width) + 2 * (prop("margin", item) ?? 10);
        } else if (item.type === "ColorBar") size = colorBarThickness(ctx, item, prop);
        const placed = { item, size, ticks, offset: total };
        total += size;
        return placed;
      });
      thickness[side] = total;
    }
    frame = {
      left: Math.max(minBorder, thickness.left) + (thickness.left ? 0 : 0),
      top: Math.max(minBorder, thickness.above),
      right: width - Math.max(minBorder + (thickness.right ? 0 : 6), thickness.right),
      bottom: height - Math.max(minBorder, thickness.below),
    };
  }
  if (frame.right - frame.left < 10 || frame.bottom - frame.top < 10) return null;
  const scales = makeScales(frame);
  const background = prop("background_fill_color", plot);
  if (background) {
    ctx.fillStyle = background;
    ctx.globalAlpha = prop("background_fill_alpha", plot);
    ctx.fillRect(frame.left, frame.top, frame.right - frame.left, frame.bottom - frame.top);
    ctx.globalAlpha = 1;
  }
  const center = (prop("center", plot) ?? []).filter(Boolean);
  // Grids, under the glyphs.
  for (const grid of center.filter((item) => item.type === "Grid")) {
    const dim = prop("dimension", grid) === 0 ? "x" : "y";
    const sides = dim === "x" ? ["below", "above"] : ["left", "right"];
    const axis = prop("axis", grid) ?? sides.flatMap((side) => measured[side]).find((m) => m.ticks)?.item;
    const placed = SIDES.flatMap((side) => measured[side]).find((m) => m.item === axis);
    if (!placed?.ticks) continue;
    const scale = scalesOf(axis, scales, prop)[dim];
    drawGrid(ctx, grid, frame, placed.ticks.ticks, scale.compute, prop, placed.ticks.minor);
  }
  ctx.save();
  ctx.beginPath();
  ctx.rect(frame.left, frame.top, frame.right - frame.left, frame.bottom - frame.top);
  ctx.clip();
  const annotationView = { prop, frame, x: scales.x.default, y: scales.y.default, xFactors: factors.x.default, yFactors: factors.y.default };
  const annotations = [...(prop("renderers", plot) ?? []), ...center].filter((m) => m && ANNOTATIONS[m.type] && prop("visible", m));
  // One stack of glyphs and annotations by level (a Whisker's "underlay" goes under the
  // glyphs); within a level, glyphs first, each kind in its own order (a stable sort).
  const rank = (model) => LEVELS.indexOf(prop("level", model));
  const layers = [...entries.map((entry) => ({ entry, model: entry.renderer })), ...annotations.map((model) => ({ model }))];
  layers.sort((a, b) => rank(a.model) - rank(b.model));
  for (const { entry, model } of layers) {
    const { x, y } = scalesOf(model, scales, prop);
    if (!entry) {
      ANNOTATIONS[model.type](ctx, model, { ...annotationView, x, y });
      continue;
    }
    project(entry.r, x, y);
    entry.r.clip = frame;
    entry.scales = { x, y };
    if (prop("visible", model)) drawRenderer(ctx, entry, prop, lod);
  }
  ctx.restore();
  const outline = prop("outline_line_color", plot);
  if (outline) {
    ctx.strokeStyle = outline;
    ctx.lineWidth = 1;
    ctx.strokeRect(Math.round(frame.left) - 0.5, Math.round(frame.top) - 0.5, Math.round(frame.right - frame.left) + 1, Math.round(frame.bottom - frame.top) + 1);
  }
  const legendBoxes = [];
  const sample = (c, item, box) => legendSample(c, item, box, entries, prop);
  const dimmed = (item) => (prop("renderers", item) ?? []).every((r) => !prop("visible", r) || prop("muted", r));
  for (const side of SIDES) {
    for (const placed of measured[side]) {
      const { item, offset, size, ticks } = placed;
      if (ticks) {
        const scale = scalesOf(item, scales, prop)[side === "above" || side === "below" ? "x" : "y"];
        drawAxis(ctx, item, side, frame, offset, ticks, scale.compute, prop, width);
      } else if (item.type === "Title") drawTitle(ctx, item, side, frame, offset, size, prop, width);
      else if (item.type === "Legend" || item.type === "ColorBar") {
        const box = panelBox(side, frame, offset, size, width, height);
        if (item.type === "ColorBar") drawColorBar(ctx, item, box, prop);
        else {
          const layout = legendLayout(ctx, item, prop);
          // Beside the frame, ``location`` places the legend within its panel (Bokeh's "center" centres it).
          const corner = legendCorner(prop("location", item), layout, box, prop("margin", item) ?? 10);
          legendBoxes.push(...drawLegend(ctx, item, layout, corner, prop, sample, dimmed));
        }
      }
    }
  }
  for (const legend of center.filter((item) => item.type === "Legend" && prop("visible", item))) {
    const layout = legendLayout(ctx, legend, prop);
    if (!layout.rows.length) continue;
    const corner = legendCorner(prop("location", legend), layout, frame, prop("margin", legend) ?? 10);
    legendBoxes.push(...drawLegend(ctx, legend, layout, corner, prop, sample, dimmed));
  }
  // What each axis shows (tests and tools read it): side, ticks, labels, datetime resolution.
  const axes = SIDES.flatMap((side) =>
    measured[side].filter((m) => m.ticks).map(({ ticks }) => ({ side, ticks: ticks.ticks, labels: ticks.labels, resolution: ticks.resolution })),
  );
  return { frame, scales, entries, legendBoxes, axes, width, height };
}

function panelBox(side, frame, offset, size, width, height) {
  if (side === "right") return { left: frame.right + offset, right: frame.right + offset + size, top: frame.top, bottom: frame.bottom };
  if (side === "left") return { left: frame.left - offset - size, right: frame.left - offset, top: frame.top, bottom: frame.bottom };
  if (side === "above") return { left: frame.left, right: frame.right, top: frame.top - offset - size, bottom: frame.top - offset };
  return { left: frame.left, right: frame.right, top: frame.bottom + offset, bottom: Math.min(height, frame.bottom + offset + size) };
}

/** Space kept between a shortened title and the canvas's edge. */
const TITLE_EDGE = 4;

/** Return ``text``, shortened with an ellipsis where it is wider than ``room`` pixels in ``ctx``'s font. */
function fitText(ctx, text, room) {
  if (ctx.measureText(text).width <= room) return text;
  // The longest prefix that fits with its ellipsis: cut mid-glyph by the canvas's edge, a
  // long title (a phone's narrow plot, a title typed into the sliders app) looked broken.
  let [lo, hi] = [0, text.length];
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (ctx.measureText(`${text.slice(0, mid).trimEnd()}…`).width <= room) lo = mid;
    else hi = mid - 1;
  }
  return `${text.slice(0, lo).trimEnd()}…`;
}

function drawTitle(ctx, title, side, frame, offset, size, prop, width) {
  const fontSize = parseFloat(prop("text_font_size", title)) || 13;
  const style = prop("text_font_style", title) ?? "bold";
  ctx.font = `${style === "normal" ? "" : style} ${fontSize}px ${FONT_FAMILY}`;
  ctx.fillStyle = prop("text_color", title);
  const align = prop("align", title) ?? "left";
  ctx.textAlign = align;
  ctx.textBaseline = "middle";
  const x = align === "left" ? frame.left : align === "right" ? frame.right : (frame.left + frame.right) / 2;
  const y = side === "above" ? frame.top - offset - size / 2 : frame.bottom + offset + size / 2;
  const room = align === "left" ? width - TITLE_EDGE - x : align === "right" ? x - TITLE_EDGE : 2 * Math.min(x - TITLE_EDGE, width - TITLE_EDGE - x);
  ctx.fillText(fitText(ctx, String(prop("text", title) ?? ""), Math.max(0, room)), x, y);
}

/** Return a look with every visual taken at row ``i`` (a legend entry for one row). */
function lookAt(look, i) {
  const pick = (visual) => (visual ? Object.fromEntries(Object.entries(visual).map(([k, v]) => [k, k === "dash" ? v : at(v, i)])) : visual);
  return { ...look, line: pick(look.line), fill: pick(look.fill), text: pick(look.text), marker: at(look.marker, i) };
}

function legendSample(ctx, item, box, entries, prop) {
  const renderers = prop("renderers", item) ?? [];
  const index = prop("index", item) ?? 0;
  for (const renderer of renderers) {
    const entry = entries.find((e) => e.renderer === renderer);
    if (entry) entry.r.desc.legend(ctx, lookAt(entry.looks.glyph, index), box);
  }
}

/** Draw one glyph renderer: muted, or selected and unselected rows in their looks, or all rows. */
export function drawRenderer(ctx, entry, prop, lod) {
  const { r, looks, renderer } = entry;
  const desc = r.desc;
  if (prop("muted", renderer)) {
    desc.draw(ctx, r, looks.muted, lod ? lod.rows(r) : null);
    return;
  }
  const source = prop("data_source", renderer);
  const selection = source ? prop("selected", source) : null;
  const selected = selection && typeof selection.get === "function" ? prop("indices", selection) ?? [] : [];
  if (!selected.length || desc.singular) {
    desc.draw(ctx, r, looks.glyph, lod ? lod.rows(r) : null);
    return;
  }
  const chosen = new Uint8Array(r.n);
  for (const i of selected) if (i >= 0 && i < r.n) chosen[i] = 1;
  const unselected = [];
  const picked = [];
  for (let i = 0; i < r.n; i++) (chosen[i] ? picked : unselected).push(i);
  desc.draw(ctx, r, looks.nonselection, unselected);
  desc.draw(ctx, r, looks.selection, picked);
}
