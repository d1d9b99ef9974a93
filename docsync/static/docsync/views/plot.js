/**
 * Plot: the canvas view of a Plot model and everything it holds (ranges, scales, axes,
 * glyph renderers, annotations, legends, tools), drawn by the modules of ./plotting/.
 *
 * The DOM is made once: a canvas for the plot, an overlay canvas for what follows the
 * pointer (hover looks, crosshair, drag boxes), a tooltip and a toolbar. Any change of
 * a model the plot holds schedules one redraw in the next animation frame; data are
 * resolved again only for the sources and glyphs that changed, and rows streamed in
 * update the data bounds from those rows alone (./plotting/streaming.js), as they arrive
 * when that costs only them (the animation frame then only draws). Zoom, pan and selection
 * write client-writable properties (ranges' start/end, selections' indices), so Python
 * and every linked plot see them.
 */

import { modelsIn } from "../model.js";
import { h } from "./dom.js";
import { activeTools, renderToolbar } from "./plotting/toolbar.js";
import { computeSpans, paintPlot, plotRanges, plotTitle } from "./plotting/frame.js";
import { GLYPHS, resolveGlyph, resolveLook } from "./plotting/glyphs.js";
import { Interaction } from "./plotting/interaction.js";
import { factorsOf } from "./plotting/ranges.js";
import { LevelOfDetail } from "./plotting/lod.js";
import { isConstant } from "./plotting/paint.js";
import { rowCount } from "./plotting/specs.js";
import { carryExtrema, carryOver, rowAligned } from "./plotting/streaming.js";
import { View } from "./view.js";

const TOOLBAR_WIDTH = 30;

// DataRange1d -> the plot views showing it, each with its own data's [low, high] along it
// (``ownBounds``): a shared range spans them all, and a change of one's redraws the others.
const RANGE_VIEWS = new WeakMap();

// Models whose properties only change how the plot is painted: not which models it holds,
// nor the glyphs' data or looks (mappers, transforms and glyphs are not among them).
const PAINTED = /(Axis|Ticker|TickFormatter)$|^(Title|Grid|Legend|LegendItem|Span|BoxAnnotation|Label|LabelSet|Arrow|Band|Whisker|ColorBar)$/;

function holdsModels(value) {
  return !modelsIn(value).next().done;
}

/** Tell whether ``event`` on ``model`` needs a redraw only (no glyph resolved again, no model newly held or let go). */
export function paintOnly(model, event, plot) {
  if (model !== plot && !PAINTED.test(model.type)) return false;
  if (event.constructor.kind !== "ModelChanged") return false;
  return !holdsModels(event.old) && !holdsModels(event.new);
}

function typedColumn(column) {
  return ArrayBuffer.isView(column) && !(column instanceof DataView || column instanceof BigInt64Array || column instanceof BigUint64Array);
}

/**
 * Tell whether a glyph streamed into (its source's ``data`` now) can catch up at the cost
 * of the new rows: every coordinate a constant or a typed column (used as it is, not a
 * copy of a list, a sum or a transform), every look constant.
 */
export function cheapToCatchUp(entry, data, prop) {
  const { r, looks } = entry;
  if (r.desc.strings?.length || r.desc.raw?.length) return false;
  const glyph = prop("glyph", entry.renderer);
  const specs = [...Object.keys(r.desc.coords), ...(r.desc.numbers ?? [])];
  const plain = (spec) => !spec || typeof spec !== "object" || Object.hasOwn(spec, "value") || (typeof spec.field === "string" && !spec.transform && !spec.expr && typedColumn(data?.[spec.field]));
  if (!glyph || !specs.every((attr) => plain(prop(attr, glyph)))) return false;
  return Object.values(looks).every((look) => !look || (["line", "fill", "text"].every((kind) => isConstant(look[kind])) && typeof look.marker !== "object"));
}

/** A plot drawn on a canvas. */
export class PlotView extends View {
  render() {
    this.canvas = h("canvas", { class: "ds-plot-canvas", role: "img" });
    this.overlay = h("canvas", { class: "ds-plot-overlay", "aria-hidden": "true" });
    this.tooltip = h("div", { class: "ds-plot-tooltip", role: "status", hidden: true });
    this.toolbarEl = h("div", { class: "ds-toolbar", role: "toolbar", "aria-label": "plot tools" });
    this.surface = h("div", { class: "ds-plot-surface" }, this.canvas, this.overlay, this.tooltip);
    return h("div", { class: "ds-plot" }, this.surface, this.toolbarEl);
  }

  connected() {
    this.drawCount = 0;
    this.plan = null;
    this.cache = new Map(); // GlyphRenderer -> {r, looks, bounds}
    this.initialSpans = new Map(); // Range1d -> [start, end] as first drawn, for reset
    this._modelStops = [];
    this._requested = false;
    this.lod = new LevelOfDetail(this);
    this.interaction = new Interaction(this);
    this.interaction.listen(this.overlay);
    this.subscribe();
    if (typeof ResizeObserver === "function") {
      this._resize = new ResizeObserver(() => this.invalidate());
      this._resize.observe(this.el);
    }
    this.invalidate();
  }

  /** Listen to every model the plot holds; structural changes subscribe again. */
  subscribe() {
    for (const stop of this._modelStops.splice(0)) stop();
    const seen = new Set();
    const stack = [this.model];
    while (stack.length) {
      const model = stack.pop();
      if (seen.has(model)) continue;
      seen.add(model);
      this._modelStops.push(this.context.listen(model, (event) => this.modelChanged(model, event)));
      for (const ref of model.references()) stack.push(ref);
    }
    this.cache.clear();
    this.renderToolbar();
    this.invalidate();
  }

  modelChanged(model, event) {
    const type = model.type;
    if (type === "ColumnDataSource") {
      if (event.attr === "data") this.dataChanged(model, event);
      if (event.attr === "selected") this.subscribe();
    } else if (type === "Selection" || type === "Range1d" || type === "DataRange1d" || (type === "FactorRange" && (event.attr === "start" || event.attr === "end"))) {
      // Zoom, pan and selection: a redraw, nothing to resolve again.
    } else if (type === "Toolbar") {
      this.renderToolbar();
    } else if (type === "GlyphRenderer" && (event.attr === "visible" || event.attr === "muted")) {
      // Legend clicks: a redraw.
    } else if (paintOnly(model, event, this.model)) {
      // A title's text, an axis label, a legend's place: a redraw. A dashboard that
      // retitles its plot at every stream no longer re-resolves every glyph each time.
      if (model === this.model && event.attr === "toolbar_location") this.renderToolbar();
    } else {
      this.subscribe();
      return;
    }
    this.invalidate();
  }

  /** Forget the resolved glyphs of ``source``; after a stream, keep what the new rows alone can update. */
  dataChanged(source, event) {
    const streamed = event.constructor.kind === "ColumnsStreamed" ? rowCount(event.data) : 0;
    for (const [renderer, entry] of this.cache) {
      if (entry.source !== source) continue;
      if (streamed > 0 && entry.streamable) {
        entry.stale = true;
        entry.streamed = (entry.streamed ?? 0) + streamed;
        // Catching up costs the new rows alone here: do it now, as the rows arrive, and
        // leave the animation frame only the drawing.
        if (cheapToCatchUp(entry, this.prop("data", source), (a, m) => this.prop(a, m))) this.catchUp(renderer, entry);
      } else this.cache.delete(renderer);
    }
  }

  catchUp(renderer, entry) {
    try {
      this.entry(renderer, { x: entry.factors[0], y: entry.factors[1] });
    } catch {
      // Left stale: the next draw resolves it again, and reports what is wrong there.
    }
  }

  renderToolbar() {
    const toolbar = this.prop("toolbar");
    const location = this.prop("toolbar_location");
    this.toolbarEl.hidden = !toolbar || location === null;
    this.el.dataset.toolbar = location ?? "none";
    if (!toolbar || location === null) return;
    renderToolbar(this.toolbarEl, toolbar, (a, m) => this.prop(a, m), {
      onAction: (tool) => (tool.type === "ResetTool" ? this.interaction.reset() : this.save(tool)),
    });
  }

  /** Redraw in the next frame (many changes before it cost one redraw). */
  invalidate() {
    if (this._requested || this.removed) return;
    this._requested = true;
    const run = () => {
      if (!this._requested) return;
      this._requested = false;
      globalThis.clearTimeout(this._fallback);
      this.draw();
    };
    requestAnimationFrame(run);
    // Pages in the background get no animation frames; they still catch up, slowly.
    this._fallback = globalThis.setTimeout(run, 250);
  }

  /** Tell the level-of-detail logic that an interaction started or ended. */
  interacting(active) {
    this.lod.interacting(active);
  }

  // -- models ----------------------------------------------------------------------------

  ranges() {
    return plotRanges(this.model, (a, m) => this.prop(a, m));
  }

  glyphRenderers() {
    return (this.prop("renderers") ?? []).filter((r) => r?.type === "GlyphRenderer" && GLYPHS[this.prop("glyph", r)?.type]);
  }

  sources() {
    return new Set(this.glyphRenderers().map((r) => this.prop("data_source", r)).filter(Boolean));
  }

  isDatetime(dim) {
    const sides = dim === "x" ? ["below", "above"] : ["left", "right"];
    return sides.some((side) => (this.prop(side) ?? []).some((axis) => axis?.type === "DatetimeAxis"));
  }

  /** Return the resolved glyph of ``renderer`` (cached until its source or glyph changes). */
  entry(renderer, factors) {
    const cached = this.cache.get(renderer);
    const sameFactors = cached && cached.factors[0] === factors.x && cached.factors[1] === factors.y;
    if (sameFactors && !cached.stale) return cached;
    const prop = (a, m) => this.prop(a, m);
    const source = prop("data_source", renderer);
    const data = source ? prop("data", source) ?? {} : {};
    const glyph = prop("glyph", renderer);
    const r = resolveGlyph(glyph, data, prop, factors);
    const look = (attr, fallback, scale) => {
      const value = prop(attr, renderer);
      if (value && typeof value === "object" && GLYPHS[value.type]) return resolveLook(value, glyph.type, data, r.n, prop);
      return value === "auto" ? resolveLook(glyph, glyph.type, data, r.n, prop, scale) : fallback;
    };
    const base = resolveLook(glyph, glyph.type, data, r.n, prop);
    const looks = {
      glyph: base,
      selection: look("selection_glyph", base, 1),
      nonselection: look("nonselection_glyph", base, 0.2),
      muted: look("muted_glyph", base, 0.2),
      hover: look("hover_glyph", null, 1),
    };
    const entry = { renderer, source, r, looks, factors: [factors.x, factors.y], streamable: rowAligned(glyph, r.desc, prop) };
    if (sameFactors && cached.stale) {
      // Only rows were streamed in since ``cached`` was drawn.
      carryExtrema(cached.r, r, cached.streamed);
      const bounds = carryOver(cached, r, cached.streamed);
      if (bounds) Object.assign(entry, { bounds, boundsFlags: cached.boundsFlags });
    }
    this.cache.set(renderer, entry);
    return entry;
  }

  // -- drawing ---------------------------------------------------------------------------

  size() {
    const width = this.prop("width");
    this.el.style.width = Number.isFinite(width) ? `${width}px` : "";
    this.el.classList.toggle("ds-fixed-width", Number.isFinite(width));
    this.el.style.height = `${this.prop("height")}px`;
  }

  draw() {
    this.size();
    this.el.hidden = this.prop("visible") === false;
    const toolbarRoom = this.toolbarEl.hidden ? 0 : TOOLBAR_WIDTH;
    const width = Math.floor(this.el.clientWidth) - toolbarRoom;
    const height = Math.floor(this.prop("height"));
    if (!(width > 20 && height > 20)) return; // hidden: the resize observer calls again
    const ratio = globalThis.devicePixelRatio || 1;
    for (const canvas of [this.canvas, this.overlay]) {
      const pw = Math.round(width * ratio);
      const ph = Math.round(height * ratio);
      if (canvas.width !== pw) canvas.width = pw;
      if (canvas.height !== ph) canvas.height = ph;
      canvas.style.width = `${width}px`;
      canvas.style.height = `${height}px`;
    }
    this.surface.style.width = `${width}px`;
    this.surface.style.height = `${height}px`;
    // Many-marker glyphs blend into the canvas's pixels (plotting/raster.js): keep them in memory.
    const ctx = this.canvas.getContext("2d", { willReadFrequently: true });
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    const prop = (a, m) => this.prop(a, m);
    const ranges = this.ranges();
    const factors = { x: {}, y: {} };
    for (const dim of ["x", "y"]) for (const [name, range] of Object.entries(ranges[dim])) factors[dim][name] = factorsOf(range, prop);
    const entries = this.glyphRenderers().map((renderer) => {
      const pick = (dim) => factors[dim][prop(`${dim}_range_name`, renderer) ?? "default"] ?? factors[dim].default;
      return this.entry(renderer, { x: pick("x"), y: pick("y") });
    });
    const { spans, kinds, own } = computeSpans(this.model, prop, ranges, factors, entries, (range) => this.othersBounds(range));
    this.shareBounds(own);
    for (const dim of ["x", "y"]) {
      for (const [name, range] of Object.entries(ranges[dim])) {
        if (range?.type === "Range1d" && !this.initialSpans.has(range)) this.initialSpans.set(range, spans[dim][name]);
      }
    }
    const plan = paintPlot(ctx, { plot: this.model, prop, width, height, entries, factors, ranges, spans, kinds, lod: this.lod.active ? this.lod : null });
    if (!plan) return;
    this.plan = plan;
    const title = plotTitle(this.model, prop);
    const label = (title && prop("text", title)) || "plot";
    if (this.canvas.getAttribute("aria-label") !== label) this.canvas.setAttribute("aria-label", label);
    this.drawCount += 1;
    this.drawOverlay();
  }

  /** The [low, high] of the data of the other plots showing DataRange1d ``range`` (null: none). */
  othersBounds(range) {
    let merged = null;
    for (const view of RANGE_VIEWS.get(range) ?? []) {
      const bounds = view === this ? null : view.ownBounds?.get(range);
      if (!bounds || !(bounds[0] <= bounds[1])) continue;
      merged = merged ? [Math.min(merged[0], bounds[0]), Math.max(merged[1], bounds[1])] : [...bounds];
    }
    return merged;
  }

  /** Keep ``own`` (DataRange1d -> this plot's data bounds) where plots sharing a range read it; redraw them when it moved. */
  shareBounds(own) {
    const before = this.ownBounds ?? new Map();
    this.ownBounds = own;
    for (const range of new Set([...before.keys(), ...own.keys()])) {
      const was = before.get(range);
      const now = own.get(range);
      if (now) {
        if (!RANGE_VIEWS.has(range)) RANGE_VIEWS.set(range, new Set());
        RANGE_VIEWS.get(range).add(this);
      } else RANGE_VIEWS.get(range)?.delete(this);
      if (was && now && was[0] === now[0] && was[1] === now[1]) continue;
      for (const view of RANGE_VIEWS.get(range) ?? []) if (view !== this) view.invalidate();
    }
  }

  drawOverlay() {
    // An overlay already clear stays untouched: a redraw of the plot (20 a second while
    // rows stream in) would otherwise make the browser composite a second canvas.
    const busy = this.interaction.hasOverlay();
    if (!busy && !this._overlayDrawn) return;
    this._overlayDrawn = busy;
    const ratio = globalThis.devicePixelRatio || 1;
    const ctx = this.overlay.getContext("2d");
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.overlay.width, this.overlay.height);
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    this.interaction.drawOverlay(ctx);
  }

  /** Download the plot as a PNG (the SaveTool). */
  save(tool) {
    const name = this.prop("filename", tool) || "plot";
    this.canvas.toBlob((blob) => {
      if (!blob) return;
      const url = URL.createObjectURL(blob);
      const link = h("a", { href: url, download: name.endsWith(".png") ? name : `${name}.png` });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    }, "image/png");
  }

  /** The active tools, as the toolbar shows them (for tests and custom views). */
  activeTools() {
    return activeTools(this.prop("toolbar"), (a, m) => this.prop(a, m));
  }

  remove() {
    this._resize?.disconnect();
    this.shareBounds(new Map()); // the plots it shared ranges with span their own data again
    for (const stop of this._modelStops.splice(0)) stop();
    this._requested = false;
    globalThis.clearTimeout(this._fallback);
    super.remove();
  }
}
