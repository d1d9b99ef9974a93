/**
 * DateRangePicker, DatetimePicker, TimePicker and ColorPicker on the browser's own
 * inputs. Values travel typed: dates as IsoDate, datetimes as IsoDateTime (the wall-clock
 * time the user picked, no time zone), times as IsoTime, colours as "#rrggbb".
 */

import { IsoDate, IsoDateTime, IsoTime, isIsoDate, isIsoDateTime, isIsoTime } from "../serialization.js";
import { h, setText } from "./dom.js";
import { controlId, TitledInputView, withinBounds } from "./inputs.js";
import { WidgetView } from "./view.js";

function isoOf(value) {
  return value && typeof value.iso === "string" ? value.iso : "";
}

/** "2024-05-01T13:05:07.250000+02:00" -> "2024-05-01T13:05:07.250" (what datetime-local shows). */
function localText(iso) {
  const match = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?)/.exec(iso);
  return match ? `${match[1]}T${match[2]}` : "";
}

/** Two date fields, from and to; a range is sent once both are set and in order. */
export class DateRangePickerView extends WidgetView {
  static watched = ["title", "value", "min_date", "max_date"];

  render() {
    this.title = h("span", { class: "ds-title", id: controlId("title") });
    const field = (which) => {
      const id = controlId();
      const input = h("input", { type: "date", id, class: "ds-input", onchange: () => this.changed() });
      return { input, el: h("div", { class: "ds-range-part" }, h("label", { for: id, class: "ds-sub-label" }, which), input) };
    };
    this.from = field("from");
    this.to = field("to");
    this.message = h("div", { class: "ds-field-message", role: "status" });
    return h(
      "div",
      { class: "ds-widget ds-field ds-date-range", role: "group", "aria-labelledby": this.title.id },
      this.title,
      h("div", { class: "ds-range-inputs" }, this.from.el, this.to.el),
      this.message,
    );
  }

  controls() {
    return [this.from.input, this.to.input];
  }

  changed() {
    const start = this.from.input.value;
    const end = this.to.input.value;
    const within = [this.from.input, this.to.input].map(withinBounds);
    if (!within.every(Boolean)) {
      setText(this.message, "A date is outside the dates offered.");
      return;
    }
    if (start === "" && end === "") {
      this.set("value", null);
      setText(this.message, "");
    } else if (isIsoDate(start) && isIsoDate(end)) {
      if (start > end) {
        setText(this.message, "The end is before the start.");
        return;
      }
      setText(this.message, "");
      this.set("value", [new IsoDate(start), new IsoDate(end)]);
    }
  }

  update() {
    const title = this.prop("title");
    setText(this.title, title || this.model.get("name") || "date range");
    this.title.classList.toggle("ds-visually-hidden", !title);
    const [start, end] = this.prop("value") ?? [null, null];
    if (this.from.input.value !== isoOf(start)) this.from.input.value = isoOf(start);
    if (this.to.input.value !== isoOf(end)) this.to.input.value = isoOf(end);
    for (const { input } of [this.from, this.to]) {
      input.min = isoOf(this.prop("min_date"));
      input.max = isoOf(this.prop("max_date"));
    }
  }
}

/** A date and a time of day (datetime-local); the value travels as a naive datetime. */
export class DatetimePickerView extends TitledInputView {
  static watched = ["title", "value", "min_date", "max_date"];
  fieldClass = "ds-datetime-picker";

  makeInput() {
    return h("input", {
      type: "datetime-local",
      step: "1",
      onchange: () => {
        const text = this.input.value;
        if (!withinBounds(this.input)) return; // typed past min/max: said, not sent
        if (text === "") this.set("value", null);
        else if (isIsoDateTime(text)) this.set("value", new IsoDateTime(text.length === 16 ? `${text}:00` : text));
      },
    });
  }

  update() {
    super.update();
    const text = localText(isoOf(this.prop("value")));
    if (this.input.value !== text && localText(this.input.value) !== text) this.input.value = text;
    this.input.min = localText(isoOf(this.prop("min_date")));
    this.input.max = localText(isoOf(this.prop("max_date")));
  }
}

/** A time of day; with ``seconds`` the seconds can be chosen too. */
export class TimePickerView extends TitledInputView {
  static watched = ["title", "value", "min_time", "max_time", "seconds"];
  fieldClass = "ds-time-picker";

  makeInput() {
    return h("input", {
      type: "time",
      onchange: () => {
        const text = this.input.value;
        if (!withinBounds(this.input)) return; // typed past min/max: said, not sent
        if (text === "") this.set("value", null);
        else if (isIsoTime(text)) this.set("value", new IsoTime(text.length === 5 ? `${text}:00` : text));
      },
    });
  }

  update() {
    super.update();
    const seconds = Boolean(this.prop("seconds"));
    const cut = (iso) => (iso ? iso.slice(0, seconds ? 8 : 5) : "");
    this.input.step = seconds ? "1" : "60";
    const text = cut(isoOf(this.prop("value")));
    if (this.input.value !== text) this.input.value = text;
    this.input.min = cut(isoOf(this.prop("min_time")));
    this.input.max = cut(isoOf(this.prop("max_time")));
  }
}

/** Return a CSS colour as "#rrggbb" (named and rgb() colours included), or null. */
export function hexColor(color) {
  if (typeof color !== "string") return null;
  if (/^#[0-9a-f]{6}$/i.test(color)) return color.toLowerCase();
  if (/^#[0-9a-f]{3}$/i.test(color)) return `#${[...color.slice(1)].map((c) => c + c).join("")}`.toLowerCase();
  const context = document.createElement("canvas").getContext("2d");
  if (!context) return null;
  context.fillStyle = "#000000";
  context.fillStyle = color;
  const resolved = context.fillStyle;
  return /^#[0-9a-f]{6}$/i.test(resolved) ? resolved.toLowerCase() : null;
}

/** The browser's colour chooser, and the colour's hex code beside it. */
export class ColorPickerView extends TitledInputView {
  static watched = ["title", "color"];
  fieldClass = "ds-color-picker";

  makeInput() {
    return h("input", {
      type: "color",
      oninput: () => setText(this.code, this.input.value),
      onchange: () => this.set("color", this.input.value),
    });
  }

  render() {
    const el = super.render();
    this.code = h("output", { class: "ds-color-code", "aria-hidden": "true" });
    const box = h("div", { class: "ds-color-box" });
    this.input.replaceWith(box);
    box.append(this.input, this.code);
    this.input.classList.remove("ds-input");
    return el;
  }

  update() {
    super.update();
    const hex = hexColor(this.prop("color")) ?? "#000000";
    if (this.input.value !== hex) this.input.value = hex;
    setText(this.code, hex);
  }
}
