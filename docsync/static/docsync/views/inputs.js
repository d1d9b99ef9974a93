/**
 * TextInput, PasswordInput, TextAreaInput, Select and DatePicker: a titled form control
 * whose ``value`` the user sets.
 */

import { IsoDate, isIsoDate } from "../serialization.js";
import { h, setText } from "./dom.js";
import { WidgetView } from "./view.js";

let serial = 0;

/** Return a fresh element id for a control (its label points at it). */
export function controlId(kind = "input") {
  serial += 1;
  return `ds-${kind}-${serial}`;
}

/** A form control under its title; subclasses make ``this.input``. */
export class TitledInputView extends WidgetView {
  render() {
    const id = controlId();
    this.input = this.makeInput();
    this.input.id = id;
    this.input.classList.add("ds-input");
    this.title = h("label", { class: "ds-title", for: id });
    return h("div", { class: `ds-widget ds-field ${this.fieldClass}` }, this.title, this.input);
  }

  controls() {
    return [this.input];
  }

  update() {
    const title = this.prop("title");
    setText(this.title, title);
    this.title.hidden = !title;
    // Without a visible title the control still needs a name (for screen readers).
    if (title) this.input.removeAttribute("aria-label");
    else this.input.setAttribute("aria-label", this.model.get("name") || this.model.type);
  }
}

/** A single-line text input; the value goes to the server as the user types. */
export class TextInputView extends TitledInputView {
  static watched = ["title", "value", "placeholder", "max_length"];
  fieldClass = "ds-text-input";

  makeInput() {
    return h("input", { type: this.inputType ?? "text", oninput: () => this.set("value", this.input.value) });
  }

  update() {
    super.update();
    const value = this.prop("value") ?? "";
    // Never rewrite what the user is typing with the same text (it moves the caret).
    if (this.input.value !== value) this.input.value = value;
    this.input.placeholder = this.prop("placeholder") ?? "";
    limitLength(this.input, this.prop("max_length"));
  }
}

/** Let the browser stop typing at ``limit`` characters (None: no limit), as the server refuses more. */
function limitLength(input, limit) {
  if (Number.isInteger(limit) && limit >= 0) input.maxLength = limit;
  else input.removeAttribute("maxlength");
}

/** A text input whose characters are hidden. */
export class PasswordInputView extends TextInputView {
  fieldClass = "ds-text-input ds-password-input";
  inputType = "password";

  makeInput() {
    const input = super.makeInput();
    input.autocomplete = "current-password";
    return input;
  }
}

/** Several lines of text; the value goes to the server as the user types. */
export class TextAreaInputView extends TitledInputView {
  static watched = ["title", "value", "placeholder", "rows", "cols", "max_length"];
  fieldClass = "ds-text-area";

  makeInput() {
    return h("textarea", { oninput: () => this.set("value", this.input.value) });
  }

  update() {
    super.update();
    const value = this.prop("value") ?? "";
    if (this.input.value !== value) this.input.value = value;
    this.input.placeholder = this.prop("placeholder") ?? "";
    this.input.rows = Math.max(1, this.prop("rows") ?? 2);
    this.input.cols = Math.max(1, this.prop("cols") ?? 20);
    limitLength(this.input, this.prop("max_length"));
  }
}

/** A drop-down choice among ``options``. */
export class SelectView extends TitledInputView {
  static watched = ["title", "value", "options"];
  fieldClass = "ds-select";

  makeInput() {
    return h("select", { onchange: () => this.set("value", this.input.value) });
  }

  update() {
    super.update();
    const value = this.prop("value") ?? "";
    const options = (this.prop("options") ?? []).map(String);
    // A value outside the options is still shown truthfully.
    if (value !== "" && !options.includes(value)) options.push(value);
    const shown = [...this.input.options].map((option) => option.value);
    if (shown.length !== options.length || shown.some((item, i) => item !== options[i])) {
      this.input.replaceChildren(...options.map((item) => h("option", { value: item }, item)));
    }
    this.input.value = value;
  }
}

function isoOf(value) {
  return value && typeof value.iso === "string" ? value.iso : "";
}

/**
 * Tell whether a date or time input's value lies within its ``min``/``max``; mark it invalid if not.
 * A calendar never offers a day past them, but one typed in is the input's value all the same.
 */
export function withinBounds(input) {
  const outside = input.validity.rangeUnderflow || input.validity.rangeOverflow;
  input.setAttribute("aria-invalid", String(outside));
  input.title = outside ? "outside the dates offered" : "";
  return !outside;
}

/** A calendar date input; the value travels as a date. */
export class DatePickerView extends TitledInputView {
  static watched = ["title", "value", "min_date", "max_date"];
  fieldClass = "ds-date-picker";

  makeInput() {
    return h("input", {
      type: "date",
      onchange: () => {
        const iso = this.input.value;
        if (!withinBounds(this.input)) return; // typed past min/max: said, not sent (the server refuses it)
        if (iso === "") this.set("value", null);
        else if (isIsoDate(iso)) this.set("value", new IsoDate(iso));
      },
    });
  }

  update() {
    super.update();
    const iso = isoOf(this.prop("value"));
    if (this.input.value !== iso) this.input.value = iso;
    this.input.min = isoOf(this.prop("min_date"));
    this.input.max = isoOf(this.prop("max_date"));
  }
}
