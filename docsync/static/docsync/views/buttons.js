/** Button (sends "button_click"), Toggle and Checkbox (set ``active``). */

import { h, setText } from "./dom.js";
import { WidgetView } from "./view.js";

const BUTTON_TYPES = new Set(["default", "primary", "success", "warning", "danger"]);

function buttonClass(type) {
  return `ds-button ds-button-${BUTTON_TYPES.has(type) ? type : "default"}`;
}

/** A button; a click reaches Python as a "button_click" event aimed at the model. */
export class ButtonView extends WidgetView {
  static watched = ["label", "button_type"];

  render() {
    this.button = h("button", { type: "button", onclick: () => this.send("button_click") });
    return h("div", { class: "ds-widget ds-button-widget" }, this.button);
  }

  controls() {
    return [this.button];
  }

  update() {
    setText(this.button, this.prop("label"));
    this.button.className = buttonClass(this.prop("button_type"));
  }
}

/** A button that stays pressed: a click flips ``active``. */
export class ToggleView extends WidgetView {
  static watched = ["label", "active"];

  render() {
    this.button = h("button", {
      type: "button",
      class: "ds-button ds-toggle",
      onclick: () => this.set("active", !this.prop("active")),
    });
    return h("div", { class: "ds-widget ds-toggle-widget" }, this.button);
  }

  controls() {
    return [this.button];
  }

  update() {
    const active = Boolean(this.prop("active"));
    setText(this.button, this.prop("label"));
    this.button.setAttribute("aria-pressed", String(active));
    this.button.classList.toggle("ds-active", active);
  }
}

/** A checkbox with its label: checking it sets ``active``. */
export class CheckboxView extends WidgetView {
  static watched = ["label", "active"];

  render() {
    this.input = h("input", { type: "checkbox", onchange: () => this.set("active", this.input.checked) });
    this.label = h("span");
    return h("label", { class: "ds-widget ds-checkbox" }, this.input, this.label);
  }

  controls() {
    return [this.input];
  }

  update() {
    this.input.checked = Boolean(this.prop("active"));
    setText(this.label, this.prop("label"));
  }
}
