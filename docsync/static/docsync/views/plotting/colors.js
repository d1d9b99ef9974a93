/**
 * CSS colours as numbers: parse any colour a canvas accepts into [r, g, b, a] (0–255,
 * alpha 0–1), pack it for pixel buffers, and write it back as CSS with an alpha.
 * Parsed colours are cached: a palette of 256 colours is parsed once.
 */

const cache = new Map();
let probe = null;

function hex(text) {
  const body = text.slice(1);
  const full = body.length <= 4 ? [...body].map((c) => c + c).join("") : body;
  const n = Number.parseInt(full.slice(0, 6), 16);
  const a = full.length === 8 ? Number.parseInt(full.slice(6, 8), 16) / 255 : 1;
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255, a];
}

function functional(text) {
  const parts = text.slice(text.indexOf("(") + 1, text.lastIndexOf(")")).split(/[\s,/]+/).filter(Boolean);
  const channel = (part) => (part.endsWith("%") ? (Number.parseFloat(part) * 255) / 100 : Number.parseFloat(part));
  const alpha = parts.length > 3 ? (parts[3].endsWith("%") ? Number.parseFloat(parts[3]) / 100 : Number.parseFloat(parts[3])) : 1;
  return [channel(parts[0]), channel(parts[1]), channel(parts[2]), alpha];
}

/** Return [r, g, b, a] of a CSS colour (null, "" and unknown names: transparent). */
export function parseColor(color) {
  if (color === null || color === undefined || color === "") return [0, 0, 0, 0];
  const text = String(color).trim().toLowerCase();
  const known = cache.get(text);
  if (known) return known;
  let rgba;
  if (text.startsWith("#")) rgba = hex(text);
  else if (text.startsWith("rgb")) rgba = functional(text);
  else if (text === "transparent") rgba = [0, 0, 0, 0];
  else {
    // A named colour: let the browser's canvas say what it is.
    probe ??= typeof OffscreenCanvas === "function" ? new OffscreenCanvas(1, 1).getContext("2d") : null;
    if (probe) {
      probe.fillStyle = "#010203";
      probe.fillStyle = text;
      rgba = probe.fillStyle === "#010203" && text !== "#010203" ? [0, 0, 0, 0] : parseColor(probe.fillStyle);
    } else rgba = [0, 0, 0, 1];
  }
  if (cache.size > 4096) cache.clear();
  cache.set(text, rgba);
  return rgba;
}

/** Return ``color`` as a CSS rgba() string with its alpha multiplied by ``alpha``. */
export function withAlpha(color, alpha = 1) {
  const [r, g, b, a] = parseColor(color);
  return `rgba(${Math.round(r)},${Math.round(g)},${Math.round(b)},${+(a * alpha).toFixed(4)})`;
}

/** Return the colour packed as a little-endian RGBA uint32 (ImageData's byte order), alpha times ``alpha``. */
export function packColor(color, alpha = 1) {
  const [r, g, b, a] = parseColor(color);
  return ((Math.round(a * alpha * 255) & 255) << 24) | ((b & 255) << 16) | ((g & 255) << 8) | (r & 255);
}

/** Return "#rrggbb" of a colour. */
export function toHex(color) {
  const [r, g, b] = parseColor(color);
  return `#${[r, g, b].map((v) => Math.round(v).toString(16).padStart(2, "0")).join("")}`;
}
