/**
 * Tabs: a tab list (WAI-ARIA tabs pattern: arrow keys move between tabs, Home/End to
 * the ends) and the active panel's child. Choosing a tab sets ``active``; the view of a
 * panel's child is built when its tab is first shown and kept after.
 */

import { h, setText } from "./dom.js";
import { applySizing, SIZING_ATTRS } from "./sizing.js";
import { View } from "./view.js";

let serial = 0;

/** The tabs of a Tabs model and the panel of the active one. */
export class TabsView extends View {
  render() {
    serial += 1;
    this.prefix = `ds-tabs-${serial}`;
    this.views = new Map(); // TabPanel model -> view of its child
    this.list = h("div", { class: "ds-tab-list", role: "tablist" });
    this.list.addEventListener("keydown", (event) => this.key(event));
    this.panels = h("div", { class: "ds-tab-panels" });
    return h("div", { class: "ds-tabs" }, this.list, this.panels);
  }

  connected() {
    this.watch(["tabs"], () => this.sync());
    this.watch(["active"], () => this.show());
    this.watch(["tabs_location", "visible", ...SIZING_ATTRS], () => this.layout());
    this.layout();
    this.sync();
  }

  get tabs() {
    return (this.prop("tabs") ?? []).filter((tab) => tab && tab.type);
  }

  layout() {
    this.el.hidden = !this.prop("visible");
    this.el.dataset.location = this.prop("tabs_location") ?? "above";
    const vertical = ["left", "right"].includes(this.el.dataset.location);
    this.list.setAttribute("aria-orientation", vertical ? "vertical" : "horizontal");
    applySizing(this);
  }

  /** Rebuild the tab buttons (cheap); keep the child views of panels that stay. */
  sync() {
    this._stopTabs?.forEach((stop) => stop());
    this._stopTabs = [];
    const tabs = this.tabs;
    for (const [tab, view] of this.views) {
      if (!tabs.includes(tab)) {
        view.panel.remove();
        view.child?.remove();
        this.views.delete(tab);
      }
    }
    this.buttons = tabs.map((tab, index) => {
      const button = h("button", {
        type: "button",
        role: "tab",
        class: "ds-tab",
        id: `${this.prefix}-tab-${index}`,
        onclick: () => this.choose(index),
      });
      this._stopTabs.push(tab.onChange("title", () => this.label(tab, button)));
      this._stopTabs.push(tab.onChange("disabled", () => this.label(tab, button)));
      this._stopTabs.push(tab.onChange("child", () => this.rebuildPanel(tab)));
      this.label(tab, button);
      return button;
    });
    this.list.replaceChildren(...this.buttons);
    this.show();
  }

  label(tab, button) {
    setText(button, this.prop("title", tab) || "(untitled)");
    button.disabled = Boolean(this.prop("disabled", tab));
  }

  activeIndex() {
    const count = this.tabs.length;
    const active = Number(this.prop("active"));
    return count === 0 ? -1 : Math.min(Math.max(Number.isInteger(active) ? active : 0, 0), count - 1);
  }

  /** Show the active tab's panel (building its child's view the first time). */
  show() {
    const tabs = this.tabs;
    const active = this.activeIndex();
    tabs.forEach((tab, index) => {
      const selected = index === active;
      const button = this.buttons[index];
      button.setAttribute("aria-selected", String(selected));
      button.tabIndex = selected ? 0 : -1;
      let view = this.views.get(tab);
      if (selected && view === undefined) view = this.buildPanel(tab);
      if (view) {
        view.panel.hidden = !selected;
        view.panel.setAttribute("aria-labelledby", button.id);
        button.setAttribute("aria-controls", view.panel.id);
      }
    });
  }

  buildPanel(tab) {
    const panel = h("div", { class: "ds-tab-panel", role: "tabpanel", id: `${this.prefix}-panel-${tab.id}`, tabindex: "0" });
    const model = this.prop("child", tab);
    const child = model && model.type ? this.child(model) : null;
    if (child) panel.append(child.el);
    const view = { panel, child };
    this.views.set(tab, view);
    this.panels.append(panel);
    return view;
  }

  rebuildPanel(tab) {
    const view = this.views.get(tab);
    if (view === undefined) return;
    view.child?.remove();
    const model = this.prop("child", tab);
    view.child = model && model.type ? this.child(model) : null;
    view.panel.replaceChildren(...(view.child ? [view.child.el] : []));
  }

  choose(index) {
    if (index !== this.activeIndex()) this.set("active", index);
    this.buttons[index]?.focus();
  }

  key(event) {
    const count = this.buttons.length;
    const current = this.buttons.indexOf(document.activeElement);
    if (current < 0 || count === 0) return;
    const vertical = this.list.getAttribute("aria-orientation") === "vertical";
    const moves = {
      [vertical ? "ArrowDown" : "ArrowRight"]: 1,
      [vertical ? "ArrowUp" : "ArrowLeft"]: -1,
    };
    let next;
    if (event.key in moves) {
      next = current;
      for (let step = 0; step < count; step++) {
        next = (next + moves[event.key] + count) % count;
        if (!this.buttons[next].disabled) break;
      }
    } else if (event.key === "Home") next = this.buttons.findIndex((b) => !b.disabled);
    else if (event.key === "End") next = count - 1 - [...this.buttons].reverse().findIndex((b) => !b.disabled);
    else return;
    event.preventDefault();
    if (next >= 0) this.choose(next);
  }

  remove() {
    this._stopTabs?.forEach((stop) => stop());
    for (const view of this.views.values()) view.child?.remove();
    this.views.clear();
    super.remove();
  }
}
