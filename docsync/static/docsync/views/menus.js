/**
 * Dropdown: a button that opens a menu of actions (the WAI-ARIA menu button pattern:
 * Enter, Space or Down opens it on the first item, arrows move, Escape closes and gives
 * focus back). A click on an item sends "menu_item_click" with {item}; with ``split``
 * the button itself sends "button_click" and a separate arrow opens the menu.
 */

import { h, setText } from "./dom.js";
import { controlId } from "./inputs.js";
import { WidgetView } from "./view.js";

const BUTTON_TYPES = new Set(["default", "primary", "success", "warning", "danger"]);

/** A menu button. */
export class DropdownView extends WidgetView {
  static watched = ["label", "button_type", "menu", "split"];

  render() {
    this.menuEl = h("ul", { class: "ds-menu", role: "menu", id: controlId("menu"), hidden: true });
    this.menuEl.addEventListener("keydown", (event) => this.menuKey(event));
    this.menuEl.addEventListener("click", (event) => {
      const li = event.target.closest("li[role=menuitem]");
      if (li) this.pick(li);
    });
    this.main = h("button", { type: "button", class: "ds-button", onclick: () => this.mainClicked() });
    this.main.addEventListener("keydown", (event) => this.buttonKey(event, this.main));
    this.arrow = h("button", { type: "button", class: "ds-button ds-dropdown-arrow", onclick: () => this.toggle() });
    this.arrow.addEventListener("keydown", (event) => this.buttonKey(event, this.arrow));
    this.arrow.append(h("span", { "aria-hidden": "true" }, "▾"));
    this.onOutside = (event) => {
      if (!this.el.contains(event.target)) this.close(false);
    };
    document.addEventListener("pointerdown", this.onOutside);
    this.own(() => document.removeEventListener("pointerdown", this.onOutside));
    return h("div", { class: "ds-widget ds-dropdown" }, h("div", { class: "ds-dropdown-buttons" }, this.main, this.arrow), this.menuEl);
  }

  controls() {
    return [this.main, this.arrow];
  }

  /** The button that opens the menu: the arrow when split, else the main button. */
  get opener() {
    return this.prop("split") ? this.arrow : this.main;
  }

  update() {
    const split = Boolean(this.prop("split"));
    const type = BUTTON_TYPES.has(this.prop("button_type")) ? this.prop("button_type") : "default";
    const label = this.prop("label") ?? "";
    setText(this.main, split ? label : "");
    if (!split) this.main.append(h("span", {}, label), h("span", { class: "ds-caret", "aria-hidden": "true" }, " ▾"));
    for (const button of [this.main, this.arrow]) {
      button.className = `ds-button ds-button-${type}${button === this.arrow ? " ds-dropdown-arrow" : ""}`;
      button.removeAttribute("aria-haspopup");
      button.removeAttribute("aria-expanded");
      button.removeAttribute("aria-controls");
    }
    this.arrow.hidden = !split;
    this.arrow.setAttribute("aria-label", `${label}: more`);
    this.opener.setAttribute("aria-haspopup", "menu");
    this.opener.setAttribute("aria-expanded", String(!this.menuEl.hidden));
    this.opener.setAttribute("aria-controls", this.menuEl.id);
    this.menuEl.setAttribute("aria-label", label || "menu");
    this.menuEl.replaceChildren(
      ...(this.prop("menu") ?? []).map((entry) => {
        if (entry === null || entry === undefined) return h("li", { role: "separator", class: "ds-menu-separator" });
        const [text, item] = Array.isArray(entry) ? entry : [entry, entry];
        return h("li", { role: "menuitem", tabindex: "-1", class: "ds-menu-item", "data-item": String(item) }, String(text));
      }),
    );
  }

  items() {
    return [...this.menuEl.querySelectorAll("li[role=menuitem]")];
  }

  mainClicked() {
    if (this.prop("split")) this.send("button_click");
    else this.toggle();
  }

  toggle() {
    if (this.menuEl.hidden) this.open(0);
    else this.close(true);
  }

  open(focusIndex) {
    if (this.items().length === 0) return;
    this.menuEl.hidden = false;
    this.opener.setAttribute("aria-expanded", "true");
    const items = this.items();
    items[(focusIndex + items.length) % items.length]?.focus();
  }

  close(refocus) {
    if (this.menuEl.hidden) return;
    this.menuEl.hidden = true;
    this.opener.setAttribute("aria-expanded", "false");
    if (refocus) this.opener.focus();
  }

  pick(li) {
    this.close(true);
    this.send("menu_item_click", { item: li.dataset.item });
  }

  buttonKey(event, button) {
    if (button !== this.opener) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      this.open(event.key === "ArrowDown" ? 0 : -1);
    }
  }

  menuKey(event) {
    const items = this.items();
    const index = items.indexOf(document.activeElement);
    const moves = { ArrowDown: index + 1, ArrowUp: index - 1, Home: 0, End: items.length - 1 };
    if (event.key in moves) {
      event.preventDefault();
      items[(moves[event.key] + items.length) % items.length]?.focus();
    } else if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      if (index >= 0) this.pick(items[index]);
    } else if (event.key === "Escape" || event.key === "Tab") {
      if (event.key === "Escape") event.preventDefault();
      this.close(event.key === "Escape");
    }
  }
}
