/**
 * NumericInput and Spinner: a number field. In "int" mode only whole numbers are sent,
 * in "float" mode any; a number outside [low, high] or not a number is marked invalid
 * and not sent until it is fixed (on leaving the field it is brought into range).
 * Arrow keys step (Spinner: by ``step``), Page Up/Down by ``page_step_multiplier`` steps.
 */

import { decimalsOf, h } from "./dom.js";
import { TitledInputView } from "./inputs.js";

/** A number field; the value goes to the server as an int or a float, as ``mode`` says. */
export class NumericInputView extends TitledInputView {
  static watched = ["title", "value", "low", "high", "mode", "placeholder", "step"];
  fieldClass = "ds-numeric-input";

  makeInput() {
    return h("input", {
      type: "number",
      inputmode: "decimal",
      oninput: () => this.typed(false),
      onchange: () => this.typed(true),
      onkeydown: (event) => this.key(event),
    });
  }

  get isInt() {
    return this.prop("mode") !== "float";
  }

  get step() {
    const step = Number(this.prop("step"));
    return Number.isFinite(step) && step > 0 ? step : 1;
  }

  /** Return the text's number clamped into range (``clamp``), or the reason it is refused. */
  parse(text, clamp) {
    if (text.trim() === "") return { value: null };
    let value = Number(text);
    if (!Number.isFinite(value)) return { error: "not a number" };
    if (this.isInt && !Number.isInteger(value)) {
      if (!clamp) return { error: "a whole number is needed" };
      value = Math.round(value);
    }
    const low = this.prop("low");
    const high = this.prop("high");
    if (Number.isFinite(low) && value < low) {
      if (!clamp) return { error: `at least ${low}` };
      value = this.isInt ? Math.ceil(low) : low;
    }
    if (Number.isFinite(high) && value > high) {
      if (!clamp) return { error: `at most ${high}` };
      value = this.isInt ? Math.floor(high) : high;
    }
    return { value };
  }

  typed(committed) {
    const { value, error } = this.parse(this.input.value, committed);
    this.input.setAttribute("aria-invalid", String(error !== undefined));
    this.input.title = error ?? "";
    if (error !== undefined) return;
    if (committed && value !== null && Number(this.input.value) !== value) this.input.value = String(value);
    if (value !== this.prop("value")) this.set("value", value);
  }

  key(event) {
    const pages = { PageUp: 1, PageDown: -1 }[event.key];
    if (pages === undefined) return;
    event.preventDefault();
    this.stepBy(pages * this.step * (Number(this.prop("page_step_multiplier")) || 10));
  }

  stepBy(amount) {
    const current = Number(this.input.value);
    const start = Number.isFinite(current) && this.input.value !== "" ? current : Number(this.prop("low")) || 0;
    const decimals = Math.max(decimalsOf(this.step), decimalsOf(Math.abs(start) % 1 || 1));
    this.input.value = String(Number((start + amount).toFixed(Math.min(decimals, 10))));
    this.typed(true);
  }

  update() {
    super.update();
    const value = this.prop("value");
    const shown = this.input.value === "" ? null : Number(this.input.value);
    if (shown !== value && !(value === null && this.input.value === "")) this.input.value = value === null ? "" : String(value);
    const low = this.prop("low");
    const high = this.prop("high");
    this.input.min = Number.isFinite(low) ? String(low) : "";
    this.input.max = Number.isFinite(high) ? String(high) : "";
    this.input.step = this.model.type === "Spinner" ? String(this.step) : this.isInt ? "1" : "any";
    this.input.placeholder = this.prop("placeholder") ?? "";
    this.input.setAttribute("aria-invalid", "false");
  }
}

/** A number field with − and + buttons that move the value by ``step``. */
export class SpinnerView extends NumericInputView {
  static watched = [...NumericInputView.watched, "page_step_multiplier"];
  fieldClass = "ds-numeric-input ds-spinner";

  render() {
    const el = super.render();
    // The buttons repeat what the arrow keys do: out of the tab order, hidden from screen readers.
    const button = (text, sign) =>
      h("button", { type: "button", class: "ds-spin", tabindex: "-1", "aria-hidden": "true", onclick: () => this.stepBy(sign * this.step) }, text);
    this.down = button("−", -1);
    this.up = button("+", 1);
    const box = h("div", { class: "ds-spin-box" });
    this.input.replaceWith(box);
    box.append(this.down, this.input, this.up);
    return el;
  }

  controls() {
    return [this.input, this.down, this.up];
  }
}
