/**
 * Slider, RangeSlider and DateRangeSlider on native range inputs. Every ``input`` event sets the value;
 * the connection coalesces them (one patch in flight, the latest value waiting), so a
 * drag sends a handful of patches, not hundreds. A slider whose start, end and step are
 * whole numbers sends whole numbers (Python then hands its callbacks ints).
 */

import { IsoDate } from "../serialization.js";
import { decimalsOf, h, setText } from "./dom.js";
import { WidgetView } from "./view.js";

function rangeInput(onInput) {
  return h("input", { type: "range", class: "ds-range", oninput: onInput });
}

/** Set min, max and step before the value (the browser clamps the value to them). */
function configure(input, start, end, step, value) {
  const text = (x) => String(x);
  if (input.min !== text(start)) input.min = text(start);
  if (input.max !== text(end)) input.max = text(end);
  const stepText = step > 0 ? text(step) : "any";
  if (input.step !== stepText) input.step = stepText;
  if (Number(input.value) !== value) input.value = text(value);
  fill(input);
}

/** Return ``value`` rounded to a whole number when the view's start, end and step are whole. */
function typed(view, value) {
  const whole = ["start", "end", "step"].every((attr) => Number.isInteger(view.prop(attr)));
  return whole ? Math.round(value) : value;
}

/** Show the part of the rail left of the thumb filled (the stylesheet reads --ds-fill). */
function fill(input) {
  const low = Number(input.min);
  const span = Number(input.max) - low;
  const share = span > 0 ? ((Number(input.value) - low) / span) * 100 : 0;
  input.style.setProperty("--ds-fill", `${Math.min(100, Math.max(0, share)).toFixed(2)}%`);
}

/** The title and value line above a slider. */
function header() {
  const title = h("span", { class: "ds-title" });
  const value = h("output", { class: "ds-slider-value" });
  return { title, value, el: h("div", { class: "ds-slider-head" }, title, value) };
}

/** A slider over [start, end]. */
export class SliderView extends WidgetView {
  static watched = ["title", "start", "end", "step", "value"];

  render() {
    this.head = header();
    this.input = rangeInput(() => {
      const value = typed(this, Number(this.input.value));
      fill(this.input);
      this.showValue(value);
      this.set("value", value);
    });
    this.input.setAttribute("aria-label", this.prop("title") || "slider");
    return h("div", { class: "ds-widget ds-slider" }, this.head.el, this.input);
  }

  controls() {
    return [this.input];
  }

  showValue(value) {
    setText(this.head.value, Number(value).toFixed(decimalsOf(this.prop("step"))));
  }

  update() {
    const title = this.prop("title");
    setText(this.head.title, title);
    this.input.setAttribute("aria-label", title || "slider");
    const value = Number(this.prop("value"));
    configure(this.input, this.prop("start"), this.prop("end"), this.prop("step"), value);
    this.showValue(value);
  }
}

/** A slider with two thumbs selecting (low, high). */
export class RangeSliderView extends WidgetView {
  static watched = ["title", "start", "end", "step", "value"];

  render() {
    this.head = header();
    this.low = rangeInput(() => this.moved());
    this.high = rangeInput(() => this.moved());
    this.low.classList.add("ds-range-low");
    this.high.classList.add("ds-range-high");
    this.fill = h("div", { class: "ds-range-fill" });
    const track = h("div", { class: "ds-range-track" }, h("div", { class: "ds-range-rail" }), this.fill, this.low, this.high);
    return h("div", { class: "ds-widget ds-slider ds-range-slider" }, this.head.el, track);
  }

  controls() {
    return [this.low, this.high];
  }

  /** The range, step and value as numbers (a date slider counts days). */
  numbers() {
    const { start, end, step } = { start: this.prop("start"), end: this.prop("end"), step: this.prop("step") };
    const value = (this.prop("value") ?? [start, end]).map(Number);
    return { start, end, step, value };
  }

  /** The model's value for a (low, high) pair of numbers. */
  valueOf(pair) {
    return pair;
  }

  format(x) {
    return Number(x).toFixed(decimalsOf(this.prop("step")));
  }

  moved() {
    // The thumbs look alike: whichever is further left is the low end. A thumb dragged
    // past the other becomes the other end, so two thumbs that met can part again.
    const a = Number(this.low.value);
    const b = Number(this.high.value);
    const value = [typed(this, Math.min(a, b)), typed(this, Math.max(a, b))];
    this.show(value);
    this.set("value", this.valueOf(value));
  }

  show([low, high]) {
    setText(this.head.value, `${this.format(low)} – ${this.format(high)}`);
    const { start, end } = this.numbers();
    const span = end - start || 1;
    const left = Math.min(100, Math.max(0, ((low - start) / span) * 100));
    const right = Math.min(100, Math.max(0, ((high - start) / span) * 100));
    this.fill.style.left = `${left}%`;
    this.fill.style.width = `${Math.max(0, right - left)}%`;
    this.low.setAttribute("aria-valuetext", this.format(Number(this.low.value)));
    this.high.setAttribute("aria-valuetext", this.format(Number(this.high.value)));
  }

  update() {
    const title = this.prop("title");
    setText(this.head.title, title);
    const name = title || this.model.get("name") || "range";
    this.low.setAttribute("aria-label", `${name}: low`);
    this.high.setAttribute("aria-label", `${name}: high`);
    const { start, end, step, value } = this.numbers();
    const [low, high] = value;
    // Each thumb keeps its position if it already shows one of the two ends.
    const [forLow, forHigh] = Number(this.low.value) === high && Number(this.high.value) === low ? [high, low] : [low, high];
    configure(this.low, start, end, step, forLow);
    configure(this.high, start, end, step, forHigh);
    this.show([low, high]);
  }
}

const DAY = 86_400_000;

function dayOf(date) {
  return date && typeof date.iso === "string" ? Math.round(Date.parse(`${date.iso.slice(0, 10)}T00:00:00Z`) / DAY) : NaN;
}

function dateOf(day) {
  return IsoDate.fromDate(new Date(day * DAY));
}

/** A slider over calendar days selecting (from, to) dates; ``step`` is in days. */
export class DateRangeSliderView extends RangeSliderView {
  numbers() {
    const today = Math.floor(Date.now() / DAY);
    const start = dayOf(this.prop("start"));
    const end = dayOf(this.prop("end"));
    const range = [Number.isFinite(start) ? start : today - 30, Number.isFinite(end) ? end : today];
    const value = (this.prop("value") ?? [null, null]).map(dayOf);
    return {
      start: range[0],
      end: range[1],
      step: Math.max(1, Math.round(Number(this.prop("step")) || 1)),
      value: [Number.isFinite(value[0]) ? value[0] : range[0], Number.isFinite(value[1]) ? value[1] : range[1]],
    };
  }

  valueOf(pair) {
    return pair.map(dateOf);
  }

  format(day) {
    return dateOf(day).iso;
  }
}
