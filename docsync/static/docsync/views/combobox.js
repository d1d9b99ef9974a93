/**
 * MultiChoice and AutocompleteInput: a text box that filters a popup list of options
 * (the WAI-ARIA combobox pattern: Down/Up move through the list, Enter picks, Escape
 * closes; the list is announced through aria-activedescendant, focus stays in the box).
 */

import { h, setText } from "./dom.js";
import { optionPairs } from "./choices.js";
import { controlId, TitledInputView } from "./inputs.js";

/** The popup list of a combobox: shows matches, tracks the highlighted one. */
class Listbox {
  constructor(input, onPick) {
    this.input = input;
    this.onPick = onPick;
    this.items = []; // [value, label]
    this.active = -1;
    this.el = h("ul", { class: "ds-listbox", role: "listbox", id: controlId("listbox"), hidden: true });
    this.el.addEventListener("mousedown", (event) => event.preventDefault()); // keep focus in the box
    this.el.addEventListener("click", (event) => {
      const li = event.target.closest("li");
      if (li) this.onPick(this.items[Number(li.dataset.index)]);
    });
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", this.el.id);
    input.setAttribute("aria-expanded", "false");
  }

  get open() {
    return !this.el.hidden;
  }

  show(items) {
    this.items = items;
    this.el.replaceChildren(
      ...items.map(([value, label], i) => h("li", { role: "option", id: `${this.el.id}-${i}`, "data-index": String(i), "aria-selected": "false" }, label)),
    );
    this.el.hidden = items.length === 0;
    this.input.setAttribute("aria-expanded", String(!this.el.hidden));
    this.highlight(items.length ? 0 : -1);
  }

  close() {
    this.el.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
    this.active = -1;
  }

  highlight(index) {
    this.active = index;
    [...this.el.children].forEach((li, i) => li.setAttribute("aria-selected", String(i === index)));
    const li = this.el.children[index];
    if (li) {
      this.input.setAttribute("aria-activedescendant", li.id);
      li.scrollIntoView?.({ block: "nearest" });
    } else this.input.removeAttribute("aria-activedescendant");
  }

  /** Handle a key of the box; return true when it was the list's. */
  key(event) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!this.open) return false;
      const step = event.key === "ArrowDown" ? 1 : -1;
      this.highlight((this.active + step + this.items.length) % this.items.length);
    } else if (event.key === "Enter" && this.open && this.active >= 0) {
      this.onPick(this.items[this.active]);
    } else if (event.key === "Escape" && this.open) {
      this.close();
    } else return false;
    event.preventDefault();
    return true;
  }
}

function matcher(text, { caseSensitive = false, strategy = "includes" } = {}) {
  const needle = caseSensitive ? text : text.toLowerCase();
  return (label) => {
    const hay = caseSensitive ? label : label.toLowerCase();
    return strategy === "starts_with" ? hay.startsWith(needle) : hay.includes(needle);
  };
}

/** Chosen options as removable tags, and a search box that adds more. */
export class MultiChoiceView extends TitledInputView {
  static watched = ["title", "value", "options", "placeholder", "max_items"];
  fieldClass = "ds-multi-choice";

  makeInput() {
    const input = h("input", { type: "text", autocomplete: "off" });
    this.listbox = new Listbox(input, ([value]) => this.add(value));
    // The list opens on typing or Down (the combobox pattern), not on mere focus.
    input.addEventListener("input", () => this.search());
    input.addEventListener("blur", () => this.listbox.close());
    input.addEventListener("keydown", (event) => {
      if (this.listbox.key(event)) return;
      if (event.key === "ArrowDown") this.search();
      else if (event.key === "Backspace" && input.value === "") this.removeAt((this.prop("value") ?? []).length - 1);
    });
    return input;
  }

  render() {
    const el = super.render();
    this.tags = h("ul", { class: "ds-tags", "aria-label": "chosen" });
    const box = h("div", { class: "ds-tag-box" });
    this.input.replaceWith(box);
    box.append(this.tags, this.input, this.listbox.el);
    box.addEventListener("click", (event) => {
      if (event.target === box) this.input.focus();
    });
    this.input.classList.remove("ds-input");
    box.classList.add("ds-input");
    return el;
  }

  controls() {
    return [this.input, ...this.tags.querySelectorAll("button")];
  }

  labels() {
    return new Map(optionPairs(this.prop("options")));
  }

  full() {
    const limit = this.prop("max_items");
    return Number.isInteger(limit) && (this.prop("value") ?? []).length >= limit;
  }

  search() {
    if (this.full() || this.el.classList.contains("ds-disabled")) {
      this.listbox.close();
      return;
    }
    const chosen = new Set(this.prop("value") ?? []);
    const match = matcher(this.input.value.trim());
    this.listbox.show(optionPairs(this.prop("options")).filter(([value, label]) => !chosen.has(value) && match(label)));
  }

  add(value) {
    const chosen = [...(this.prop("value") ?? [])];
    if (!chosen.includes(value) && !this.full()) this.set("value", [...chosen, value]);
    this.input.value = "";
    this.listbox.close();
  }

  removeAt(index) {
    const chosen = [...(this.prop("value") ?? [])];
    if (index < 0 || index >= chosen.length) return;
    chosen.splice(index, 1);
    this.set("value", chosen);
    this.input.focus();
  }

  update() {
    super.update();
    const labels = this.labels();
    const chosen = this.prop("value") ?? [];
    this.tags.replaceChildren(
      ...chosen.map((value, i) => {
        const label = labels.get(value) ?? value;
        return h(
          "li",
          { class: "ds-tag" },
          h("span", {}, label),
          h("button", { type: "button", class: "ds-tag-remove", "aria-label": `Remove ${label}`, onclick: () => this.removeAt(i) }, "×"),
        );
      }),
    );
    this.applyDisabledToTags();
    this.input.placeholder = chosen.length ? "" : this.prop("placeholder") ?? "";
    if (this.listbox.open) this.search();
  }

  applyDisabledToTags() {
    const disabled = this.el.classList.contains("ds-disabled");
    for (const button of this.tags.querySelectorAll("button")) button.disabled = disabled;
  }
}

/** A text input offering the ``completions`` that match what is typed. */
export class AutocompleteInputView extends TitledInputView {
  static watched = ["title", "value", "placeholder", "completions", "min_characters", "max_completions", "case_sensitive", "restrict", "search_strategy"];
  fieldClass = "ds-autocomplete";

  makeInput() {
    const input = h("input", { type: "text", autocomplete: "off" });
    this.listbox = new Listbox(input, ([value]) => this.commit(value));
    input.addEventListener("input", () => this.search());
    input.addEventListener("keydown", (event) => {
      if (this.listbox.key(event)) return;
      if (event.key === "Enter") this.enter();
      else if (event.key === "ArrowDown") this.search(true);
    });
    input.addEventListener("blur", () => {
      this.listbox.close();
      this.leave();
    });
    return input;
  }

  render() {
    const el = super.render();
    const box = h("div", { class: "ds-combo-box" });
    this.input.replaceWith(box);
    box.append(this.input, this.listbox.el);
    return el;
  }

  options() {
    return {
      caseSensitive: Boolean(this.prop("case_sensitive")),
      strategy: this.prop("search_strategy") ?? "starts_with",
    };
  }

  search(always = false) {
    const text = this.input.value;
    if (!always && text.length < (this.prop("min_characters") ?? 2)) {
      this.listbox.close();
      return;
    }
    const match = matcher(text, this.options());
    let found = (this.prop("completions") ?? []).map(String).filter(match);
    const limit = this.prop("max_completions");
    if (Number.isInteger(limit)) found = found.slice(0, limit);
    this.listbox.show(found.map((item) => [item, item]));
  }

  /** The completion the text names exactly (by the case rule), or null. */
  exact(text) {
    const { caseSensitive } = this.options();
    const same = (item) => (caseSensitive ? item === text : item.toLowerCase() === text.toLowerCase());
    return (this.prop("completions") ?? []).map(String).find(same) ?? null;
  }

  commit(value) {
    this.input.value = value;
    this.listbox.close();
    if (value !== this.prop("value")) this.set("value", value);
  }

  enter() {
    const text = this.input.value;
    const found = this.exact(text);
    if (found !== null) this.commit(found);
    else if (!this.prop("restrict")) this.commit(text);
  }

  leave() {
    const text = this.input.value;
    if (text === (this.prop("value") ?? "")) return;
    const found = this.exact(text);
    if (found !== null) this.commit(found);
    else if (!this.prop("restrict")) this.commit(text);
    else this.input.value = this.prop("value") ?? ""; // only a completion may become the value
  }

  update() {
    super.update();
    const value = this.prop("value") ?? "";
    if (document.activeElement !== this.input && this.input.value !== value) this.input.value = value;
    this.input.placeholder = this.prop("placeholder") ?? "";
  }
}
