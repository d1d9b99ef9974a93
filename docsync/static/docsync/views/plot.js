/**
 * Plot: Line, Scatter and VBar glyphs on a canvas, with axes, title, automatic ranges,
 * a hover readout of the nearest point, wheel zoom, drag pan (double-click resets),
 * and a size that follows its container.
 *
 * The DOM is made once. A change of data, of a glyph or of the plot schedules one
 * redraw in the next animation frame, however many changes arrive before it: a stream
 * of data redraws the canvas and touches nothing else. Zoom and pan are the viewer's
 * own and stay in the page; the ranges a document fixes (x_range, y_range) come back
 * when the view is reset or when the server changes them.
 */

import { formatValue, h } from "./dom.js";
import {
  axisTicks, drawFrame, drawHover, drawLegend, drawSeries, labelWidth, scales, TITLE_LINE, titleLines,
} from "./plot_draw.js";
import { autoRanges, GLYPH_TYPES, resolveSeries } from "./plot_data.js";
import { View } from "./view.js";

const PLOT_ATTRS = [
  "title", "x_axis_label", "y_axis_label", "width", "height", "background", "show_grid", "show_hover",
];
const GLYPH_ATTRS = ["x", "y", "color", "alpha", "legend_label", "line_width", "size", "marker", "width", "bottom"];
const HOVER_DISTANCE = 40; // CSS pixels: farther points are not "under" the pointer

/** A plot of glyphs over data sources, drawn on a canvas. */
export class PlotView extends View {
  render() {
    this.canvas = h("canvas", { class: "ds-plot-canvas", role: "img" });
    this.tooltip = h("div", { class: "ds-plot-tooltip", role: "status", hidden: true });
    this.resetButton = h(
      "button",
      { type: "button", class: "ds-plot-reset", hidden: true, title: "Back to the document's ranges (or double-click the plot)" },
      "Reset view",
    );
    this.resetButton.addEventListener("click", () => this.resetView());
    return h("div", { class: "ds-plot" }, this.canvas, this.tooltip, this.resetButton);
  }

  connected() {
    this.drawCount = 0;
    this.zoom = { x: null, y: null }; // the viewer's zoom and pan, over the document's ranges
    this.frame = null;
    this.series = [];
    this.pointer = null;
    this.drag = null;
    this._glyphStops = [];
    this._requested = false;
    this.watch(PLOT_ATTRS, () => this.invalidate());
    this.watch(["width", "height"], () => this.size());
    this.watch(["x_range", "y_range"], (attr) => {
      // The document's new range wins over the viewer's zoom of that axis.
      this.zoom[attr[0]] = null;
      this.resetButton.hidden = this.zoom.x === null && this.zoom.y === null;
      this.invalidate();
    });
    this.watch(["renderers"], () => this.subscribeGlyphs());
    this.subscribeGlyphs();
    this.size();
    this.listenToPointer();
    if (typeof ResizeObserver === "function") {
      this._resize = new ResizeObserver(() => this.invalidate());
      this._resize.observe(this.el);
    }
    this.invalidate();
  }

  /** Watch every glyph and every source they draw from. */
  subscribeGlyphs() {
    for (const stop of this._glyphStops.splice(0)) stop();
    const sources = new Set();
    for (const glyph of this.prop("renderers") ?? []) {
      if (!glyph || !GLYPH_TYPES.has(glyph.type)) continue;
      this._glyphStops.push(glyph.onChange("source", () => this.subscribeGlyphs()));
      for (const attr of GLYPH_ATTRS) this._glyphStops.push(glyph.onChange(attr, () => this.invalidate()));
      const source = this.prop("source", glyph);
      if (source && !sources.has(source)) {
        sources.add(source);
        this._glyphStops.push(this.context.listen(source, () => this.invalidate()));
      }
    }
    this.invalidate();
  }

  size() {
    const width = this.prop("width");
    this.el.style.width = Number.isFinite(width) ? `${width}px` : "";
    this.el.classList.toggle("ds-fixed-width", Number.isFinite(width));
    this.el.style.height = `${this.prop("height")}px`;
    this.invalidate();
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

  // -- data ------------------------------------------------------------------------------

  /** Return the ranges shown: the viewer's zoom, else the document's, else the data's. */
  ranges(series, categories) {
    const { x, y } = autoRanges(series, categories, this.prop("x_range"), this.prop("y_range"));
    return { x: this.zoom.x ?? x, y: this.zoom.y ?? y };
  }

  // -- drawing ---------------------------------------------------------------------------

  draw() {
    // The element's width is the model's, or its container's; narrow screens may cap it.
    const width = Math.floor(this.el.clientWidth);
    const height = Math.floor(this.prop("height"));
    if (!(width > 0 && height > 0)) return; // hidden: the resize observer calls again
    const ratio = globalThis.devicePixelRatio || 1;
    const pixelWidth = Math.round(width * ratio);
    const pixelHeight = Math.round(height * ratio);
    if (this.canvas.width !== pixelWidth) this.canvas.width = pixelWidth;
    if (this.canvas.height !== pixelHeight) this.canvas.height = pixelHeight;
    const ctx = this.canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);

    const { series, categories } = resolveSeries(this.prop("renderers"), (attr, model) => this.prop(attr, model));
    const { x, y } = this.ranges(series, categories);
    const title = this.prop("title");
    const xLabel = this.prop("x_axis_label");
    const yLabel = this.prop("y_axis_label");
    const bottom = height - (xLabel ? 44 : 26);
    const topFor = (lines) => (lines.length ? 18 + lines.length * TITLE_LINE : 14);
    // The left margin fits the widest y tick label, measured on a first layout; the
    // title wraps within the width left of it.
    let lines = titleLines(ctx, title, width - 72);
    let frame = { width, height, x, y, categories, area: { left: 60, top: topFor(lines), right: width - 16, bottom } };
    const left = Math.max(32, Math.ceil(labelWidth(ctx, axisTicks(frame).y.labels)) + 14 + (yLabel ? 20 : 0));
    lines = titleLines(ctx, title, width - left - 12);
    frame = { ...frame, area: { ...frame.area, left, top: topFor(lines) } };
    if (frame.area.right - frame.area.left < 20 || frame.area.bottom - frame.area.top < 20) return;
    const ticks = axisTicks(frame);

    const grid = this.prop("show_grid");
    drawFrame(ctx, frame, ticks, { title: lines, xLabel, yLabel, background: this.prop("background"), grid });
    drawSeries(ctx, frame, series);
    drawLegend(ctx, frame, series);
    this.frame = frame;
    this.series = series;
    if (this.canvas.getAttribute("aria-label") !== (title || "plot")) this.canvas.setAttribute("aria-label", title || "plot");
    const hit = this.pointer && !this.drag ? this.nearest(this.pointer) : null;
    if (hit) drawHover(ctx, frame, hit);
    this.showTooltip(hit);
    this.drawCount += 1;
  }

  // -- hover -----------------------------------------------------------------------------

  /** Return the data point nearest to pointer position {px, py} (within reach), or null. */
  nearest({ px, py }) {
    if (!this.frame || !this.prop("show_hover")) return null;
    const { area } = this.frame;
    if (px < area.left || px > area.right || py < area.top || py > area.bottom) return null;
    const { toX, toY } = scales(this.frame);
    let best = null;
    let bestDistance = HOVER_DISTANCE * HOVER_DISTANCE;
    for (const item of this.series) {
      const { xs, ys } = item;
      for (let i = 0; i < xs.length; i++) {
        const dx = toX(xs[i]) - px;
        const dy = toY(ys[i]) - py;
        const distance = dx * dx + dy * dy;
        if (distance < bestDistance) {
          bestDistance = distance;
          best = { item, index: i, x: xs[i], y: ys[i], color: item.style.color };
        }
      }
    }
    return best;
  }

  showTooltip(hit) {
    if (!hit) {
      this.tooltip.hidden = true;
      this._tooltipKey = null;
      return;
    }
    const { item, index } = hit;
    const key = `${this.series.indexOf(item)}:${index}:${hit.x}:${hit.y}`;
    if (key !== this._tooltipKey) {
      // Rewritten only when the point under the pointer changes.
      this._tooltipKey = key;
      const glyph = item.glyph;
      const xText = this.frame.categories ? this.frame.categories[hit.x] : formatValue(hit.x, 5);
      const lines = [];
      if (item.style.label) lines.push(h("div", { class: "ds-tooltip-label" }, item.style.label));
      lines.push(h("div", {}, h("span", { class: "ds-tooltip-key" }, `${this.prop("x", glyph)}: `), xText));
      lines.push(h("div", {}, h("span", { class: "ds-tooltip-key" }, `${this.prop("y", glyph)}: `), formatValue(hit.y, 5)));
      this.tooltip.replaceChildren(...lines);
      this.tooltip.dataset.index = String(index);
    }
    this.tooltip.hidden = false;
    const { toX, toY } = scales(this.frame);
    const px = toX(hit.x);
    const py = toY(hit.y);
    const width = this.tooltip.offsetWidth;
    const height = this.tooltip.offsetHeight;
    const left = px + 14 + width > this.frame.width ? px - 14 - width : px + 14;
    const top = Math.min(Math.max(0, py - height - 8), this.frame.height - height);
    this.tooltip.style.transform = `translate(${Math.round(Math.max(0, left))}px, ${Math.round(top)}px)`;
  }

  // -- zoom and pan ----------------------------------------------------------------------

  local(event) {
    const rect = this.canvas.getBoundingClientRect();
    return { px: event.clientX - rect.left, py: event.clientY - rect.top };
  }

  listenToPointer() {
    const canvas = this.canvas;
    canvas.addEventListener("pointermove", (event) => {
      const at = this.local(event);
      if (this.drag) this.panTo(at);
      this.pointer = at;
      this.invalidate();
    });
    canvas.addEventListener("pointerleave", () => {
      this.pointer = null;
      this.invalidate();
    });
    canvas.addEventListener("pointerdown", (event) => {
      if (event.button !== 0 || !this.frame) return;
      const at = this.local(event);
      const { area } = this.frame;
      if (at.px < area.left || at.px > area.right || at.py < area.top || at.py > area.bottom) return;
      this.drag = { ...at, x: [...this.frame.x], y: [...this.frame.y] };
      canvas.setPointerCapture(event.pointerId);
      canvas.classList.add("ds-dragging");
    });
    const endDrag = () => {
      this.drag = null;
      canvas.classList.remove("ds-dragging");
      this.invalidate();
    };
    canvas.addEventListener("pointerup", endDrag);
    canvas.addEventListener("pointercancel", endDrag);
    canvas.addEventListener("dblclick", () => this.resetView());
    canvas.addEventListener("wheel", (event) => this.wheel(event), { passive: false });
  }

  panTo({ px, py }) {
    const { area } = this.frame;
    const { drag } = this;
    const dx = ((px - drag.px) / (area.right - area.left)) * (drag.x[1] - drag.x[0]);
    const dy = ((py - drag.py) / (area.bottom - area.top)) * (drag.y[1] - drag.y[0]);
    this.setZoom([drag.x[0] - dx, drag.x[1] - dx], [drag.y[0] + dy, drag.y[1] + dy]);
  }

  wheel(event) {
    if (!this.frame) return;
    const { px, py } = this.local(event);
    const { area, x, y } = this.frame;
    const overXAxis = py > area.bottom && px >= area.left;
    const overYAxis = px < area.left && py <= area.bottom;
    const inside = px >= area.left && px <= area.right && py >= area.top && py <= area.bottom;
    if (!inside && !overXAxis && !overYAxis) return;
    event.preventDefault();
    const delta = event.deltaMode === 1 ? event.deltaY * 16 : event.deltaY;
    const factor = Math.exp(Math.max(-200, Math.min(200, delta)) * 0.002);
    const { fromX, fromY } = scales(this.frame);
    const ax = fromX(Math.min(Math.max(px, area.left), area.right));
    const ay = fromY(Math.min(Math.max(py, area.top), area.bottom));
    const scaled = (range, anchor) => [anchor + (range[0] - anchor) * factor, anchor + (range[1] - anchor) * factor];
    this.setZoom(overYAxis ? x : scaled(x, ax), overXAxis ? y : scaled(y, ay));
  }

  setZoom(x, y) {
    if (!(x[1] - x[0] > 1e-12 * Math.max(1, Math.abs(x[0]))) || !(y[1] - y[0] > 1e-12 * Math.max(1, Math.abs(y[0])))) return;
    this.zoom = { x, y };
    this.resetButton.hidden = false;
    this.invalidate();
  }

  /** Forget the viewer's zoom and pan. */
  resetView() {
    this.zoom = { x: null, y: null };
    this.resetButton.hidden = true;
    this.invalidate();
  }

  remove() {
    this._resize?.disconnect();
    for (const stop of this._glyphStops.splice(0)) stop();
    this._requested = false;
    globalThis.clearTimeout(this._fallback);
    super.remove();
  }
}
