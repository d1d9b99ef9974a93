/**
 * What the pointer does to a plot: the active drag tool (pan, box zoom, box select,
 * lasso), the scroll tool (wheel zoom), the tap tool, the inspectors (hover, crosshair),
 * legend clicks, and the plot events Python subscribed to. Zoom and pan write the
 * ranges' start and end (client-writable: Python sees them); selections write the
 * sources' ``selected.indices``.
 */

import { h } from "../dom.js";
import { fillTemplate, tooltipContent } from "./tooltips.js";
import { activeTools } from "./toolbar.js";
import { panned, zoomed } from "./scales.js";
import { ensureProjected } from "./project.js";
import { clampSpan } from "./ranges.js";

const TAP_SLOP = 4; // CSS pixels a click may move and still be a tap
const WHEEL_END_MS = 200;

function inside(frame, px, py) {
  return frame && px >= frame.left && px <= frame.right && py >= frame.top && py <= frame.bottom;
}

/** Pointer handling of one PlotView. */
export class Interaction {
  constructor(view) {
    this.view = view;
    this.drag = null;
    this.pointer = null;
    this.hover = [];
    this._panSent = 0;
    this._wheel = null;
    this.legendPress = null;
  }

  get plan() {
    return this.view.plan;
  }

  prop(attr, model) {
    return this.view.prop(attr, model);
  }

  tools() {
    return activeTools(this.prop("toolbar"), (a, m) => this.prop(a, m));
  }

  local(event) {
    const rect = this.view.overlay.getBoundingClientRect();
    return { px: event.clientX - rect.left, py: event.clientY - rect.top };
  }

  /** Return the data point {x, y} of pixel (px, py) on the default ranges. */
  dataAt(px, py) {
    const { x, y } = this.plan.scales;
    return { x: x.default.invert(px), y: y.default.invert(py) };
  }

  // -- events to Python ----------------------------------------------------------------

  subscribed(name) {
    return (this.prop("subscribed_events") ?? []).includes(name);
  }

  emit(name, data) {
    if (this.subscribed(name)) this.view.send(name, data);
  }

  pointData(px, py) {
    const { x, y } = this.dataAt(px, py);
    return { x, y, sx: px, sy: py };
  }

  rangesUpdate() {
    if (!this.plan) return;
    const { x, y } = this.plan.scales;
    this.emit("rangesupdate", { x0: x.default.start, x1: x.default.end, y0: y.default.start, y1: y.default.end });
  }

  // -- listening -----------------------------------------------------------------------

  listen(target) {
    target.addEventListener("pointerdown", (event) => this.down(event));
    target.addEventListener("pointermove", (event) => this.move(event));
    target.addEventListener("pointerup", (event) => this.up(event));
    target.addEventListener("pointercancel", () => this.cancel());
    target.addEventListener("pointerleave", () => {
      if (this.drag) return;
      this.pointer = null;
      this.inspect();
    });
    target.addEventListener("dblclick", (event) => {
      const { px, py } = this.local(event);
      if (inside(this.plan?.frame, px, py)) this.emit("doubletap", this.pointData(px, py));
    });
    target.addEventListener("wheel", (event) => this.wheel(event), { passive: false });
  }

  /** Return the legend item box at ``at`` (legends inside or beside the frame), or undefined. */
  legendBoxAt(at) {
    return this.plan?.legendBoxes.find((b) => at.px >= b.left && at.px <= b.right && at.py >= b.top && at.py <= b.bottom);
  }

  down(event) {
    if (event.button !== 0 || !this.plan) return;
    const { px, py } = this.local(event);
    this.legendPress = null;
    if (!inside(this.plan.frame, px, py)) {
      // Beside the frame only a legend answers a click (released on the same entry).
      this.legendPress = this.legendBoxAt({ px, py })?.item ?? null;
      return;
    }
    const tool = this.tools().drag;
    this.drag = { tool, px, py, moved: false, path: [[px, py]], spans: this.spans(), shift: event.shiftKey };
    this.view.overlay.setPointerCapture?.(event.pointerId);
    this.view.el.classList.add("ds-dragging");
  }

  spans() {
    const { x, y } = this.plan.scales;
    const out = { x: {}, y: {} };
    for (const [name, scale] of Object.entries(x)) out.x[name] = scale;
    for (const [name, scale] of Object.entries(y)) out.y[name] = scale;
    return out;
  }

  move(event) {
    const at = this.local(event);
    this.pointer = at;
    const drag = this.drag;
    if (!drag) {
      this.inspect();
      return;
    }
    const dx = at.px - drag.px;
    const dy = at.py - drag.py;
    if (!drag.moved && Math.hypot(dx, dy) < TAP_SLOP) return;
    if (!drag.moved) {
      drag.moved = true;
      this.emit("panstart", this.pointData(drag.px, drag.py));
      this.view.interacting(true);
    }
    const type = drag.tool?.type;
    if (type === "PanTool") this.pan(drag, dx, dy);
    else if (type === "LassoSelectTool") {
      drag.path.push([at.px, at.py]);
      if (this.prop("select_every_mousemove", drag.tool)) this.select(drag.tool, this.lassoGeometry(drag), false, drag.shift);
    } else if (type === "BoxSelectTool" && this.prop("select_every_mousemove", drag.tool)) {
      this.select(drag.tool, this.boxGeometry(drag, at), false, drag.shift);
    }
    const now = performance.now();
    if (now - this._panSent > 30) {
      this._panSent = now;
      this.emit("pan", { ...this.pointData(at.px, at.py), delta_x: dx, delta_y: dy });
    }
    this.view.drawOverlay();
  }

  up(event) {
    const drag = this.drag;
    const press = this.legendPress;
    this.legendPress = null;
    if (press && this.legendBoxAt(this.local(event))?.item === press) this.legendClick(press);
    if (!drag) return;
    this.drag = null;
    this.view.el.classList.remove("ds-dragging");
    const at = this.local(event);
    if (!drag.moved) {
      this.tap(at, event.shiftKey);
      this.view.drawOverlay();
      return;
    }
    const type = drag.tool?.type;
    if (type === "BoxZoomTool") this.boxZoom(drag, at);
    else if (type === "BoxSelectTool") this.select(drag.tool, this.boxGeometry(drag, at), true, drag.shift);
    else if (type === "LassoSelectTool") this.select(drag.tool, this.lassoGeometry(drag), true, drag.shift);
    this.emit("panend", this.pointData(at.px, at.py));
    if (type === "PanTool" || type === "BoxZoomTool") this.rangesUpdate();
    this.view.interacting(false);
    this.view.drawOverlay();
  }

  cancel() {
    this.drag = null;
    this.view.el.classList.remove("ds-dragging");
    this.view.interacting(false);
    this.view.drawOverlay();
  }

  // -- zoom and pan --------------------------------------------------------------------

  /** Give the ranges of ``dim`` the spans ``compute(scale)`` returns (for the ranges the tool may move). */
  setRanges(dim, compute) {
    const ranges = this.view.ranges()[dim];
    for (const [name, range] of Object.entries(ranges)) {
      const scale = this.plan.scales[dim][name];
      if (!range || !scale) continue;
      const span = clampSpan(range, (a, m) => this.prop(a, m), compute(scale, name));
      if (!span || !span.every(Number.isFinite) || span[0] === span[1]) continue;
      if (range.type === "Range1d" && span[0] === this.prop("start", range) && span[1] === this.prop("end", range)) continue;
      range.set("start", span[0]);
      range.set("end", span[1]);
    }
  }

  pan(drag, dx, dy) {
    const dims = this.prop("dimensions", drag.tool) ?? "both";
    if (dims !== "height") this.setRanges("x", (_, name) => panned(drag.spans.x[name], dx));
    if (dims !== "width") this.setRanges("y", (_, name) => panned(drag.spans.y[name], dy));
  }

  boxZoom(drag, at) {
    const dims = this.prop("dimensions", drag.tool) ?? "both";
    const { frame } = this.plan;
    const x0 = Math.max(frame.left, Math.min(drag.px, at.px));
    const x1 = Math.min(frame.right, Math.max(drag.px, at.px));
    const y0 = Math.max(frame.top, Math.min(drag.py, at.py));
    const y1 = Math.min(frame.bottom, Math.max(drag.py, at.py));
    if (x1 - x0 < 3 || y1 - y0 < 3) return;
    if (dims !== "height") this.setRanges("x", (scale) => [scale.invert(x0), scale.invert(x1)]);
    if (dims !== "width") this.setRanges("y", (scale) => [scale.invert(y1), scale.invert(y0)]);
  }

  wheel(event) {
    const tool = this.tools().scroll;
    if (!tool || !this.plan) return;
    const { px, py } = this.local(event);
    const { frame } = this.plan;
    const overX = py > frame.bottom && px >= frame.left && px <= frame.right;
    const overY = px < frame.left && py >= frame.top && py <= frame.bottom;
    if (!inside(frame, px, py) && !overX && !overY) return;
    event.preventDefault();
    const dims = this.prop("dimensions", tool) ?? "both";
    const delta = event.deltaMode === 1 ? event.deltaY * 16 : event.deltaY;
    const factor = Math.exp(Math.max(-300, Math.min(300, delta)) * 0.002);
    const zoomX = dims !== "height" && !overY;
    const zoomY = dims !== "width" && !overX;
    this.view.interacting(true);
    if (zoomX) this.setRanges("x", (scale) => zoomed(scale, factor, scale.invert(Math.min(Math.max(px, frame.left), frame.right))));
    if (zoomY) this.setRanges("y", (scale) => zoomed(scale, factor, scale.invert(Math.min(Math.max(py, frame.top), frame.bottom))));
    // Python hears of a wheel gesture once, when it ends.
    this._wheel ??= { delta: 0 };
    this._wheel.delta += delta;
    this._wheel.at = { px, py };
    clearTimeout(this._wheel.timer);
    this._wheel.timer = setTimeout(() => {
      const { delta: total, at } = this._wheel;
      this._wheel = null;
      this.emit("wheel", { ...this.pointData(at.px, at.py), delta: total });
      this.rangesUpdate();
      this.view.interacting(false);
    }, WHEEL_END_MS);
  }

  /** Put the ranges back as they started (Range1d) or as the data say (DataRange1d); clear selections. */
  reset() {
    const initial = this.view.initialSpans;
    for (const dim of ["x", "y"]) {
      for (const range of Object.values(this.view.ranges()[dim])) {
        if (!range) continue;
        if (range.type === "Range1d") {
          const start = this.prop("reset_start", range) ?? initial.get(range)?.[0];
          const end = this.prop("reset_end", range) ?? initial.get(range)?.[1];
          if (start !== undefined) range.set("start", start);
          if (end !== undefined) range.set("end", end);
        } else {
          range.set("start", null);
          range.set("end", null);
        }
      }
    }
    for (const source of this.view.sources()) this.setSelection(source, []);
    this.emit("reset", {});
    // The ranges update with the next paint: report them after it.
    requestAnimationFrame(() => requestAnimationFrame(() => this.rangesUpdate()));
  }

  // -- selection -----------------------------------------------------------------------

  boxGeometry(drag, at) {
    const dims = this.prop("dimensions", drag.tool) ?? "both";
    const { frame } = this.plan;
    const sx0 = dims === "height" ? frame.left : Math.min(drag.px, at.px);
    const sx1 = dims === "height" ? frame.right : Math.max(drag.px, at.px);
    const sy0 = dims === "width" ? frame.top : Math.min(drag.py, at.py);
    const sy1 = dims === "width" ? frame.bottom : Math.max(drag.py, at.py);
    return { type: "rect", sx0, sx1, sy0, sy1 };
  }

  lassoGeometry(drag) {
    return { type: "poly", sxs: drag.path.map((p) => p[0]), sys: drag.path.map((p) => p[1]) };
  }

  /** Return the glyph entries a tool acts on ("auto": every visible glyph renderer). */
  targets(tool) {
    const chosen = tool ? this.prop("renderers", tool) : "auto";
    return this.plan.entries.filter((e) => this.prop("visible", e.renderer) && (chosen === "auto" || (chosen ?? []).includes(e.renderer)));
  }

  setSelection(source, indices) {
    const selection = this.prop("selected", source);
    if (!selection || typeof selection.set !== "function") return;
    const old = this.prop("indices", selection) ?? [];
    if (old.length === indices.length && old.every((v, i) => v === indices[i])) return;
    selection.set("indices", indices);
  }

  /** Select the rows of the tool's renderers within ``geometry`` (screen pixels); write each source's selection. */
  select(tool, geometry, final, append = false) {
    const mode = append ? "append" : this.prop("mode", tool) ?? "replace";
    const bySource = new Map();
    for (const entry of this.targets(tool)) {
      const source = this.prop("data_source", entry.renderer);
      if (!source) continue;
      if (!bySource.has(source)) bySource.set(source, new Set());
      const found = bySource.get(source);
      for (const i of entry.r.desc.hit(entry.r, geometry)) found.add(i);
    }
    for (const [source, found] of bySource) {
      const old = new Set(this.prop("indices", this.prop("selected", source)) ?? []);
      let next;
      if (mode === "append") next = new Set([...old, ...found]);
      else if (mode === "intersect") next = new Set([...found].filter((i) => old.has(i)));
      else if (mode === "subtract") next = new Set([...old].filter((i) => !found.has(i)));
      else next = found;
      this.setSelection(source, [...next].sort((a, b) => a - b));
    }
    if (final) this.emit("selectiongeometry", { geometry: this.dataGeometry(geometry), final: true });
  }

  dataGeometry(geometry) {
    const { x, y } = this.plan.scales;
    if (geometry.type === "point") return { type: "point", sx: geometry.sx, sy: geometry.sy, x: x.default.invert(geometry.sx), y: y.default.invert(geometry.sy) };
    if (geometry.type === "rect") {
      return { type: "rect", x0: x.default.invert(geometry.sx0), x1: x.default.invert(geometry.sx1), y0: y.default.invert(geometry.sy1), y1: y.default.invert(geometry.sy0) };
    }
    return { type: "poly", xs: geometry.sxs.map((v) => x.default.invert(v)), ys: geometry.sys.map((v) => y.default.invert(v)) };
  }

  tap(at, shift) {
    if (!this.plan) return;
    const legendBox = this.legendBoxAt(at);
    if (legendBox) {
      this.legendClick(legendBox.item);
      return;
    }
    if (!inside(this.plan.frame, at.px, at.py)) return;
    const tool = this.tools().tap;
    const geometry = { type: "point", sx: at.px, sy: at.py };
    if (tool && this.prop("behavior", tool) !== "inspect") this.select(tool, geometry, true, shift);
    this.emit("tap", this.pointData(at.px, at.py));
  }

  legendClick(item) {
    const legend = [...(this.prop("center") ?? []), ...["right", "left", "above", "below"].flatMap((s) => this.prop(s) ?? [])].find(
      (m) => m?.type === "Legend" && (this.prop("items", m) ?? []).includes(item),
    );
    const policy = legend ? this.prop("click_policy", legend) : "none";
    if (policy === "none") return;
    const attr = policy === "hide" ? "visible" : "muted";
    for (const renderer of this.prop("renderers", item) ?? []) renderer.set(attr, !this.prop(attr, renderer));
  }

  // -- inspectors ----------------------------------------------------------------------

  /** Run the active hover and crosshair tools at the pointer; redraw the overlay. */
  inspect() {
    const view = this.view;
    this.hover = [];
    const at = this.pointer;
    if (at && this.plan && inside(this.plan.frame, at.px, at.py)) {
      for (const tool of this.tools().inspect) {
        if (tool.type !== "HoverTool") continue;
        const mode = this.prop("mode", tool) ?? "mouse";
        for (const entry of this.targets(tool)) {
          const rows = this.hoverRows(entry, at, mode);
          if (rows.length) this.hover.push({ tool, entry, rows });
        }
      }
    }
    this.showTooltip(at);
    view.drawOverlay();
  }

  hoverRows(entry, at, mode) {
    const r = ensureProjected(entry.r);
    if (mode === "mouse" || !r.s.x || typeof r.s.x === "number") return entry.r.desc.hit(r, { type: "point", sx: at.px, sy: at.py }).slice(-5);
    // vline / hline: the row nearest the pointer along x (or y), within reach.
    const along = mode === "vline" ? r.s.x : r.s.y;
    const pointer = mode === "vline" ? at.px : at.py;
    let best = -1;
    let distance = 30;
    for (let i = 0; i < r.n; i++) {
      const d = Math.abs(along[i] - pointer);
      if (d < distance) {
        distance = d;
        best = i;
      }
    }
    return best < 0 ? [] : [best];
  }

  showTooltip(at) {
    const tooltip = this.view.tooltip;
    const shown = this.hover.filter((hit) => this.prop("tooltips", hit.tool) !== null);
    if (!at || !shown.length) {
      tooltip.hidden = true;
      tooltip.dataset.index = "";
      return;
    }
    const parts = [];
    let anchor = null;
    for (const { tool, entry, rows } of shown.slice(0, 3)) {
      const source = this.prop("data_source", entry.renderer);
      const data = source ? this.prop("data", source) ?? {} : {};
      const formatters = this.prop("formatters", tool) ?? {};
      for (const i of rows.slice(-1)) {
        const sx = typeof entry.r.s.x === "object" ? entry.r.s.x[i] : at.px;
        const sy = typeof entry.r.s.y === "object" ? entry.r.s.y[i] : at.py;
        const snap = this.prop("point_policy", tool) !== "follow_mouse" && Number.isFinite(sx) && Number.isFinite(sy);
        const point = { ...this.pointData(snap ? sx : at.px, snap ? sy : at.py), name: this.prop("name", entry.renderer) ?? "" };
        if (this.view.isDatetime("x")) point.kinds = { x: "datetime" };
        parts.push(tooltipContent(this.prop("tooltips", tool), data, i, point, formatters));
        anchor ??= { px: snap ? sx : at.px, py: snap ? sy : at.py, index: i };
      }
    }
    tooltip.replaceChildren(...parts.map((part, k) => (k ? [h("hr", { class: "ds-tooltip-rule" }), part] : part)).flat());
    tooltip.dataset.index = String(anchor.index);
    tooltip.hidden = false;
    const width = tooltip.offsetWidth;
    const height = tooltip.offsetHeight;
    const { width: plotWidth, height: plotHeight } = this.plan;
    const left = anchor.px + 14 + width > plotWidth ? anchor.px - 14 - width : anchor.px + 14;
    const top = Math.min(Math.max(0, anchor.py - height / 2), plotHeight - height);
    tooltip.style.transform = `translate(${Math.round(Math.max(0, left))}px, ${Math.round(Math.max(0, top))}px)`;
  }

  /** Draw the overlay: drag rectangle or lasso, crosshair, hover looks. */
  /** Tell whether the overlay may show anything (a drag box, a crosshair, hovered rows). */
  hasOverlay() {
    return Boolean(this.plan && (this.drag?.moved || (!this.drag && this.pointer) || this.hover?.length));
  }

  drawOverlay(ctx) {
    const plan = this.plan;
    if (!plan) return;
    const { frame } = plan;
    const drag = this.drag;
    if (drag?.moved && this.pointer) {
      const type = drag.tool?.type;
      const at = this.pointer;
      ctx.save();
      ctx.lineWidth = 1;
      ctx.setLineDash([4, 4]);
      ctx.strokeStyle = "#333333";
      ctx.fillStyle = "rgba(120, 160, 220, 0.2)";
      if (type === "BoxZoomTool" || type === "BoxSelectTool") {
        const g = type === "BoxSelectTool" ? this.boxGeometry(drag, at) : { sx0: Math.min(drag.px, at.px), sx1: Math.max(drag.px, at.px), sy0: Math.min(drag.py, at.py), sy1: Math.max(drag.py, at.py) };
        const dims = this.prop("dimensions", drag.tool) ?? "both";
        const x0 = dims === "height" ? frame.left : g.sx0;
        const x1 = dims === "height" ? frame.right : g.sx1;
        const y0 = dims === "width" ? frame.top : g.sy0;
        const y1 = dims === "width" ? frame.bottom : g.sy1;
        ctx.fillRect(x0, y0, x1 - x0, y1 - y0);
        ctx.strokeRect(x0 + 0.5, y0 + 0.5, x1 - x0, y1 - y0);
      } else if (type === "LassoSelectTool") {
        ctx.beginPath();
        drag.path.forEach(([x, y], k) => ctx[k ? "lineTo" : "moveTo"](x, y));
        ctx.closePath();
        ctx.fill();
        ctx.stroke();
      }
      ctx.restore();
    }
    const at = this.pointer;
    if (!drag && at && inside(frame, at.px, at.py)) {
      for (const tool of this.tools().inspect) {
        if (tool.type !== "CrosshairTool") continue;
        const dims = this.prop("dimensions", tool) ?? "both";
        ctx.save();
        ctx.strokeStyle = this.prop("line_color", tool) ?? "black";
        ctx.globalAlpha = this.prop("line_alpha", tool) ?? 1;
        ctx.lineWidth = this.prop("line_width", tool) ?? 1;
        ctx.beginPath();
        if (dims !== "height") {
          ctx.moveTo(frame.left, Math.round(at.py) + 0.5);
          ctx.lineTo(frame.right, Math.round(at.py) + 0.5);
        }
        if (dims !== "width") {
          ctx.moveTo(Math.round(at.px) + 0.5, frame.top);
          ctx.lineTo(Math.round(at.px) + 0.5, frame.bottom);
        }
        ctx.stroke();
        ctx.restore();
      }
    }
    for (const { entry, rows } of this.hover) {
      const look = entry.looks.hover;
      if (!look) continue;
      ctx.save();
      ctx.beginPath();
      ctx.rect(frame.left, frame.top, frame.right - frame.left, frame.bottom - frame.top);
      ctx.clip();
      entry.r.desc.draw(ctx, entry.r, look, entry.r.desc.singular ? null : rows);
      ctx.restore();
    }
  }
}

export { fillTemplate };
