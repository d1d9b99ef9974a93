/**
 * How table cells are shown: NumberFormatter (numbro-style patterns), DateFormatter
 * (strftime patterns, UTC), HTMLTemplateFormatter (a sanitised template whose
 * ``<%= name %>`` holes are filled as text), and the plain text of everything else.
 * ``formatCell(formatter, value, row)`` returns a string or a DOM node.
 */

import { formatValue } from "./dom.js";
import { safeUrl, scrubbed, unsafeAttribute } from "./panes.js";

export { safeUrl };

/** Format ``value`` by a numbro-style pattern: "0,0", "0.00", "0,0.[00]", "0.0%", "$0,0.00". */
export function formatNumber(value, pattern = "0,0", nanText = "NaN") {
  const number = typeof value === "bigint" ? Number(value) : value;
  if (typeof number !== "number") return value === null || value === undefined ? "" : String(value);
  if (!Number.isFinite(number)) return Number.isNaN(number) ? nanText : formatValue(number);
  const match = /^([^0#]*)([0#][0#,]*)(?:\.(0*)(?:\[(0+)\])?)?(\s*%)?(.*)$/.exec(pattern);
  if (!match) return formatValue(number);
  const [, prefix, whole, fixed = "", optional = "", percent = "", suffix] = match;
  const scaled = percent ? number * 100 : number;
  const text = new Intl.NumberFormat("en-US", {
    useGrouping: whole.includes(","),
    minimumFractionDigits: fixed.length,
    maximumFractionDigits: fixed.length + optional.length,
  }).format(Math.abs(scaled));
  return `${scaled < 0 ? "-" : ""}${prefix}${text}${percent.trim()}${suffix}`;
}

const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const pad = (n, width = 2) => String(n).padStart(width, "0");

/** Return the JavaScript Date of a cell value: a date, a datetime, or milliseconds since 1970. */
export function dateOfValue(value) {
  if (value && typeof value.iso === "string") {
    const iso = value.iso.length === 10 ? `${value.iso}T00:00:00Z` : value.iso.replace(/([.,]\d{3})\d+/, "$1");
    const hasZone = /(Z|[+-]\d{2}:?\d{2})$/.test(iso);
    return new Date(hasZone ? iso : `${iso}Z`);
  }
  const number = typeof value === "bigint" ? Number(value) : value;
  return typeof number === "number" && Number.isFinite(number) ? new Date(number) : null;
}

/** Format a date value by a strftime pattern (in UTC); "ISO" is "%Y-%m-%d". */
export function formatDate(value, pattern = "ISO", nanText = "") {
  const date = dateOfValue(value);
  if (date === null || Number.isNaN(date.getTime())) return nanText;
  const fields = {
    Y: () => String(date.getUTCFullYear()),
    y: () => pad(date.getUTCFullYear() % 100),
    m: () => pad(date.getUTCMonth() + 1),
    d: () => pad(date.getUTCDate()),
    e: () => String(date.getUTCDate()),
    H: () => pad(date.getUTCHours()),
    I: () => pad(((date.getUTCHours() + 11) % 12) + 1),
    M: () => pad(date.getUTCMinutes()),
    S: () => pad(date.getUTCSeconds()),
    p: () => (date.getUTCHours() < 12 ? "AM" : "PM"),
    b: () => MONTHS[date.getUTCMonth()].slice(0, 3),
    B: () => MONTHS[date.getUTCMonth()],
    a: () => DAYS[date.getUTCDay()].slice(0, 3),
    A: () => DAYS[date.getUTCDay()],
    j: () => pad(Math.floor((date - Date.UTC(date.getUTCFullYear(), 0, 1)) / 86_400_000) + 1, 3),
    "%": () => "%",
  };
  const format = pattern === "ISO" ? "%Y-%m-%d" : pattern;
  return format.replace(/%([a-zA-Z%])/g, (whole, key) => (fields[key] ? fields[key]() : whole));
}

const HOLE = /<%=\s*([\w.-]+)\s*%>/g;

/** A parsed HTMLTemplateFormatter template: fill it for one cell. */
export class CellTemplate {
  constructor(template) {
    this.fragment = scrubbed(template);
  }

  /** Return the template filled with ``value`` and the ``row``'s values, each as text. */
  fill(value, row) {
    const text = (name) => {
      const found = name === "value" ? value : row(name);
      return found === undefined ? "" : formatValue(found);
    };
    const node = this.fragment.cloneNode(true);
    const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT | NodeFilter.SHOW_ELEMENT);
    for (let current = walker.nextNode(); current; current = walker.nextNode()) {
      if (current.nodeType === Node.TEXT_NODE) {
        if (current.data.includes("<%")) current.data = current.data.replace(HOLE, (_, name) => text(name));
        continue;
      }
      for (const attribute of [...current.attributes]) {
        if (!attribute.value.includes("<%")) continue;
        const filled = attribute.value.replace(HOLE, (_, name) => text(name));
        if (unsafeAttribute(attribute.name, filled)) current.removeAttribute(attribute.name);
        else current.setAttribute(attribute.name, filled);
      }
    }
    return node;
  }
}

/** Return what a cell shows: a string, or (for a template) a DOM fragment. */
export function formatCell(formatter, value, row, templates) {
  const type = formatter?.type;
  if (type === "NumberFormatter") return formatNumber(value, formatter.get("format") ?? "0,0", formatter.get("nan_format") ?? "NaN");
  if (type === "DateFormatter") return formatDate(value, formatter.get("format") ?? "ISO", formatter.get("nan_format") ?? "");
  if (type === "HTMLTemplateFormatter") {
    const source = formatter.get("template") ?? "<%= value %>";
    let template = templates.get(formatter);
    if (template === undefined || template.source !== source) {
      template = Object.assign(new CellTemplate(source), { source });
      templates.set(formatter, template);
    }
    return template.fill(value, row);
  }
  return formatValue(value);
}
