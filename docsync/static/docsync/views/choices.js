/**
 * MultiSelect, CheckboxGroup, RadioGroup, CheckboxButtonGroup, RadioButtonGroup and
 * Switch: native form controls (keyboard and screen reader support come with them),
 * rebuilt only when their labels or options change.
 */

import { h, setText } from "./dom.js";
import { controlId, TitledInputView } from "./inputs.js";
import { WidgetView } from "./view.js";

/** Return [value, label] pairs of options given as values or [value, label] pairs. */
export function optionPairs(options) {
  return (options ?? []).map((option) => (Array.isArray(option) ? [String(option[0]), String(option[1])] : [String(option), String(option)]));
}

function sameList(a, b) {
  return a.length === b.length && a.every((item, i) => item === b[i]);
}

/** A list box of options, any number selected (Ctrl/Shift with the mouse, Space with the keyboard). */
export class MultiSelectView extends TitledInputView {
  static watched = ["title", "value", "options", "size"];
  fieldClass = "ds-multi-select";

  makeInput() {
    return h("select", {
      multiple: true,
      onchange: () => this.set("value", [...this.input.selectedOptions].map((option) => option.value)),
    });
  }

  update() {
    super.update();
    const pairs = optionPairs(this.prop("options"));
    const shown = [...this.input.options].map((option) => `${option.value}\u0000${option.text}`);
    if (!sameList(shown, pairs.map(([value, label]) => `${value}\u0000${label}`))) {
      this.input.replaceChildren(...pairs.map(([value, label]) => h("option", { value }, label)));
    }
    const chosen = new Set(this.prop("value") ?? []);
    for (const option of this.input.options) option.selected = chosen.has(option.value);
    this.input.size = Math.max(2, this.prop("size") ?? 4);
  }
}

/** Checkboxes or radio buttons, one per label, inside a labelled group. */
class ChoiceGroupView extends WidgetView {
  static watched = ["labels", "active", "inline"];

  render() {
    this.name = controlId("group");
    this.inputs = [];
    return h("div", { class: `ds-widget ds-choice-group ${this.groupClass}`, role: this.role });
  }

  controls() {
    return this.inputs;
  }

  /** The indices checked now, from the inputs. */
  checked() {
    return this.inputs.flatMap((input, i) => (input.checked ? [i] : []));
  }

  activeSet() {
    const active = this.prop("active");
    return new Set(Array.isArray(active) ? active : active === null || active === undefined ? [] : [active]);
  }

  update() {
    const labels = (this.prop("labels") ?? []).map(String);
    this.el.setAttribute("aria-label", this.model.get("name") || this.model.type);
    if (!sameList(this.inputs.map((input) => input.dataset.label), labels)) {
      this.inputs = labels.map((label, i) => {
        const input = h("input", { type: this.inputType, name: this.name, value: String(i), "data-label": label });
        input.addEventListener("change", () => this.changed(i));
        return input;
      });
      this.el.replaceChildren(...labels.map((label, i) => this.item(this.inputs[i], label)));
      this.applyCommon();
    }
    const active = this.activeSet();
    this.inputs.forEach((input, i) => {
      input.checked = active.has(i);
      input.parentElement.classList.toggle("ds-active", input.checked);
    });
    this.el.classList.toggle("ds-inline", Boolean(this.prop("inline")));
  }

  item(input, label) {
    return h("label", { class: "ds-choice" }, input, h("span", {}, label));
  }
}

/** Checkboxes; ``active`` lists the checked indices. */
export class CheckboxGroupView extends ChoiceGroupView {
  groupClass = "ds-checkbox-group";
  role = "group";
  inputType = "checkbox";

  changed() {
    this.set("active", this.checked());
  }
}

/** Radio buttons; ``active`` is the chosen index. */
export class RadioGroupView extends ChoiceGroupView {
  groupClass = "ds-radio-group";
  role = "radiogroup";
  inputType = "radio";

  changed(i) {
    this.set("active", i);
  }
}

/** Radio buttons drawn as a row (or column) of joined buttons; arrow keys move the choice. */
export class RadioButtonGroupView extends RadioGroupView {
  static watched = ["labels", "active", "button_type", "orientation"];
  groupClass = "ds-button-group";

  update() {
    super.update();
    this.el.dataset.buttonType = this.prop("button_type") ?? "default";
    this.el.classList.toggle("ds-vertical", this.prop("orientation") === "vertical");
  }

  item(input, label) {
    return h("label", { class: "ds-group-button" }, input, h("span", {}, label));
  }
}

/** Buttons that stay pressed, any number at once. */
export class CheckboxButtonGroupView extends CheckboxGroupView {
  static watched = ["labels", "active", "button_type", "orientation"];
  groupClass = "ds-button-group";

  update() {
    super.update();
    this.el.dataset.buttonType = this.prop("button_type") ?? "default";
    this.el.classList.toggle("ds-vertical", this.prop("orientation") === "vertical");
  }

  item(input, label) {
    return h("label", { class: "ds-group-button" }, input, h("span", {}, label));
  }
}

/** An on/off switch: a checkbox with the switch role, drawn as a sliding knob. */
export class SwitchView extends WidgetView {
  static watched = ["label", "active"];

  render() {
    this.input = h("input", { type: "checkbox", role: "switch", onchange: () => this.set("active", this.input.checked) });
    this.label = h("span", { class: "ds-switch-label" });
    return h("label", { class: "ds-widget ds-switch" }, this.input, h("span", { class: "ds-switch-track", "aria-hidden": "true" }), this.label);
  }

  controls() {
    return [this.input];
  }

  update() {
    this.input.checked = Boolean(this.prop("active"));
    const label = this.prop("label");
    setText(this.label, label);
    if (label) this.input.removeAttribute("aria-label");
    else this.input.setAttribute("aria-label", this.model.get("name") || "switch");
  }
}
