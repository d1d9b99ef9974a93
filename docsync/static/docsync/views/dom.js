/**
 * Small DOM helpers shared by the views. Text always goes in as text nodes: nothing a
 * document holds is ever parsed as HTML.
 */

/**
 * Return a new element: ``h("button", {class: "ds-button", onclick: fn}, "label")``.
 * Props: ``class``, ``text``, ``style`` (an object), ``on<event>`` listeners, and
 * attributes (``true`` sets an empty one; null, undefined and false set none).
 * Children: nodes or strings (added as text), nested lists, null (skipped).
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = String(value);
    else if (key === "style") Object.assign(el.style, value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child !== null && child !== undefined && child !== false) el.append(child);
  }
  return el;
}

/** Set the text of ``el`` unless it already reads so (no needless layout work). */
export function setText(el, text) {
  const value = text === null || text === undefined ? "" : String(text);
  if (el.textContent !== value) el.textContent = value;
}

/** Return the number of decimals a step such as 0.25 needs (at most 10). */
export function decimalsOf(step) {
  if (!Number.isFinite(step) || step <= 0) return 2;
  for (let decimals = 0; decimals <= 10; decimals++) {
    const scaled = step * 10 ** decimals;
    if (Math.abs(scaled - Math.round(scaled)) < 1e-9 * Math.max(1, scaled)) return decimals;
  }
  return 10;
}

/** Return a value for display: integers as they are, other numbers with ``digits`` significant digits. */
export function formatValue(value, digits = 6) {
  if (value === null || value === undefined) return "";
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return Number.isNaN(value) ? "NaN" : value > 0 ? "∞" : "−∞";
    if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
    const abs = Math.abs(value);
    if (abs !== 0 && (abs >= 1e9 || abs < 1e-4)) return value.toExponential(digits - 1).replace(/\.?0+e/, "e");
    return String(Number(value.toPrecision(digits)));
  }
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "object" && typeof value.iso === "string") return value.iso;
  return String(value);
}

/**
 * Return ``value`` as a number, or NaN if it is none: a date or datetime (Python's, in a
 * list column) as its milliseconds since 1970 UTC, as Bokeh stores them.
 */
export function numberOf(value) {
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "boolean") return value ? 1 : 0;
  if (value !== null && typeof value === "object" && typeof value.epochMillis === "function") return value.epochMillis();
  return NaN;
}

/** Return the number at row ``i`` of a column (typed array or list), or NaN if it is not one. */
export function numberAt(column, i) {
  return numberOf(column[i]);
}
