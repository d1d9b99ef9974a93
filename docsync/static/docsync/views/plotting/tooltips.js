/**
 * Hover tooltips: fill a HoverTool's templates for one row. ``@col`` (``@{col name}``)
 * reads a column, ``@col{0.00}`` formats it (numeral by default; printf or strftime as
 * the tool's ``formatters`` say for "@col"), ``$index``, ``$x``, ``$y``, ``$sx``,
 * ``$sy``, ``$name`` describe the point. Everything is text: nothing is parsed as HTML.
 */

import { formatValue, h, numberOf } from "../dom.js";
import { numeral, printf, strftime } from "./formatters.js";

const FIELD = /([@$])(?:\{([^}]+)\}|([A-Za-z_][\w.]*)(?:\[[^\]]*\])?(?::[A-Za-z_]\w*)?)(?:\{([^}]*)\})?/g;

// A date or datetime of a list column is its milliseconds since 1970 UTC, as a datetime64 column's are.
const instant = (value) => (typeof value === "object" ? numberOf(value) : Number(value));

function formatted(value, format, kind) {
  if (value === null || value === undefined) return "???";
  if (format === undefined || format === "") {
    if (kind === "datetime") return strftime(instant(value), "%Y-%m-%d %H:%M:%S");
    return typeof value === "number" ? formatValue(value, 5) : Array.isArray(value) ? value.join(", ") : formatValue(value);
  }
  if (kind === "datetime") return strftime(instant(value), format);
  if (kind === "printf") return printf(value, format);
  if (typeof value === "number") return numeral(value, format);
  return String(value);
}

/** Return the text of ``template`` for row ``index`` of ``data`` at point ``point`` ({x, y, sx, sy, name}). */
export function fillTemplate(template, data, index, point, formatters = {}) {
  // "@$name": the column named as the renderer is (stacked bars name theirs by column).
  const named = String(template).replaceAll("@$name", `@{${point.name ?? ""}}`);
  return named.replace(FIELD, (match, sigil, braced, bare, format) => {
    const name = braced ?? bare;
    if (sigil === "$") {
      const special = { index, x: point.x, y: point.y, sx: point.sx, sy: point.sy, name: point.name, data_x: point.x, data_y: point.y }[name];
      if (special === undefined) return match;
      return formatted(special, format, point.kinds?.[name]);
    }
    const column = data[name];
    if (column === undefined) return "???";
    return formatted(column[index], format, formatters[`@${name}`] ?? formatters[`@{${name}}`] ?? formatters[name]);
  });
}

/** Return the element of a tooltip for one row: a table of (label, value) rows, or one line of text. */
export function tooltipContent(tooltips, data, index, point, formatters) {
  if (typeof tooltips === "string") return h("div", { class: "ds-tooltip-text" }, fillTemplate(tooltips, data, index, point, formatters));
  const rows = (tooltips ?? []).map(([label, template]) =>
    h(
      "div",
      { class: "ds-tooltip-row" },
      h("span", { class: "ds-tooltip-key" }, `${label}: `),
      h("span", { class: "ds-tooltip-value" }, fillTemplate(template, data, index, point, formatters)),
    ),
  );
  return h("div", { class: "ds-tooltip-table" }, rows);
}
