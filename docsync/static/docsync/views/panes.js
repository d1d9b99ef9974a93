/**
 * Markdown, HTML, Image, Progress and Alert. Markdown and HTML arrive sanitised by the
 * server (nh3); the browser also drops scripts, frames and event attributes again
 * before showing them, so a view never runs markup it was sent.
 */

import { formatValue, h, setText } from "./dom.js";
import { WidgetView } from "./view.js";

// Dropped whole, wherever they are: scripts, frames, forms, and SVG animation (an
// <animate>/<set> can set a link's href to javascript: after the attributes were checked).
const DROPPED = new Set([
  "script", "style", "iframe", "frame", "frameset", "object", "embed", "link", "meta", "base", "form", "input",
  "button", "textarea", "select", "animate", "animatemotion", "animatetransform", "animatecolor", "set", "discard",
]);
const URL_ATTRIBUTES = new Set(["href", "src", "xlink:href", "action", "formaction", "srcset"]);

/**
 * Tell whether a URL may go in a link or image: http(s), mailto, tel (the server's nh3
 * rule), or relative. The one URL rule of the client, for sanitised HTML and cell templates.
 */
export function safeUrl(url) {
  // Browsers ignore control characters and spaces in a scheme ("java\tscript:"): so does this.
  const text = String(url).replace(/[\u0000-\u0020]/g, "");
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(text);
  return scheme === null || ["http", "https", "mailto", "tel"].includes(scheme[1].toLowerCase());
}

/** Tell whether an element named ``name`` (any case, any namespace) is dropped whole. */
export function droppedElement(name) {
  return DROPPED.has(String(name).toLowerCase());
}

/** Tell whether attribute ``name`` with ``value`` is removed: events, style, unsafe URLs. */
export function unsafeAttribute(name, value) {
  const lower = String(name).toLowerCase();
  const local = lower.slice(lower.lastIndexOf(":") + 1);
  if (lower.startsWith("on") || lower === "style") return true;
  return (URL_ATTRIBUTES.has(lower) || local === "href") && !safeUrl(value);
}

/** Clean, in place, the elements under ``root`` (a parsed fragment) as ``scrubbed`` does. */
export function scrub(root) {
  for (const el of [...root.querySelectorAll("*")]) {
    if (droppedElement(el.localName)) {
      el.remove();
      continue;
    }
    for (const { name, value } of [...el.attributes]) if (unsafeAttribute(name, value)) el.removeAttribute(name);
  }
  return root;
}

/** Return a fragment of ``html`` without anything that could run code. */
export function scrubbed(html) {
  const template = document.createElement("template");
  template.innerHTML = html;
  return scrub(template.content);
}

/** Sanitised HTML content (the HTML model's ``text``, the Markdown model's ``html``). */
export class HTMLView extends WidgetView {
  static watched = ["text", "html"];

  render() {
    return h("div", { class: `ds-widget ds-rich-text ${this.model.type === "Markdown" ? "ds-markdown" : "ds-html"}` });
  }

  update() {
    const html = this.prop(this.model.type === "Markdown" ? "html" : "text") ?? "";
    if (html === this._shown) return;
    this._shown = html;
    this.el.replaceChildren(scrubbed(html));
  }
}

const IMAGE_TYPES = { png: "image/png", jpeg: "image/jpeg", svg: "image/svg+xml" };

/** An image from bytes (PNG, JPEG or SVG), shown through a blob URL. */
export class ImageView extends WidgetView {
  static watched = ["data", "format", "alt"];

  render() {
    this.img = h("img", { class: "ds-image", alt: "" });
    return h("figure", { class: "ds-widget ds-image-pane" }, this.img);
  }

  update() {
    const data = this.prop("data");
    this.img.alt = this.prop("alt") ?? "";
    if (data === this._data) return;
    this._data = data;
    if (this._url) URL.revokeObjectURL(this._url);
    this._url = null;
    const type = IMAGE_TYPES[this.prop("format")];
    if (data instanceof ArrayBuffer && data.byteLength && type) {
      this._url = URL.createObjectURL(new Blob([data], { type }));
      this.img.src = this._url;
    } else this.img.removeAttribute("src");
  }

  remove() {
    if (this._url) URL.revokeObjectURL(this._url);
    super.remove();
  }
}

/** A progress bar with its title and percentage; no value: an indeterminate bar. */
export class ProgressView extends WidgetView {
  static watched = ["title", "value", "max"];

  render() {
    this.label = h("span", { class: "ds-title" });
    this.amount = h("span", { class: "ds-progress-amount" });
    this.bar = h("progress", { class: "ds-progress" });
    return h("div", { class: "ds-widget ds-progress-pane" }, h("div", { class: "ds-slider-head" }, this.label, this.amount), this.bar);
  }

  update() {
    const title = this.prop("title") || this.model.get("name") || "progress";
    setText(this.label, this.prop("title"));
    this.bar.setAttribute("aria-label", title);
    const max = Number(this.prop("max")) > 0 ? Number(this.prop("max")) : 100;
    const value = this.prop("value");
    this.bar.max = max;
    if (Number.isFinite(value)) {
      this.bar.value = Math.min(Math.max(value, 0), max);
      setText(this.amount, `${formatValue(Math.round((this.bar.value / max) * 1000) / 10)}%`);
    } else {
      this.bar.removeAttribute("value");
      setText(this.amount, "");
    }
  }
}

const ALERT_ICONS = { info: "ℹ", success: "✓", warning: "!", danger: "✕" };

/** A notice in a coloured box; a "danger" alert is announced at once (role alert). */
export class AlertView extends WidgetView {
  static watched = ["text", "alert_type"];

  render() {
    this.icon = h("span", { class: "ds-alert-icon", "aria-hidden": "true" });
    this.text = h("div", { class: "ds-alert-text" });
    return h("div", { class: "ds-widget ds-alert" }, this.icon, this.text);
  }

  update() {
    const type = Object.hasOwn(ALERT_ICONS, this.prop("alert_type")) ? this.prop("alert_type") : "info";
    this.el.dataset.alertType = type;
    this.el.setAttribute("role", type === "danger" ? "alert" : "status");
    setText(this.icon, ALERT_ICONS[type]);
    setText(this.text, this.prop("text"));
  }
}
