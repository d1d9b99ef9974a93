/**
 * JSON text for the wire, with the same rules as docsync/protocol/wire_json.py: what
 * the Python side refuses to parse, this refuses too.
 */

/** Deepest nesting a frame may have (the Python side's limit). */
export const MAX_DEPTH = 128;

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

// Cheap tests that rule out the rare texts needing a full walk after parsing: numbers
// too large for a double (JSON.parse makes them Infinity, orjson refuses them) and
// escaped surrogates (JSON.parse accepts a lone one, orjson refuses it).
const MAY_OVERFLOW = /\d[eE]\+?\d{3}|\d{309}/;
const MAY_HOLD_SURROGATE = /\\u[dD][89a-fA-F]/;

/** Return the deepest bracket nesting of JSON ``text``, stopping once past ``limit``. */
export function nestingDepth(text, limit = Infinity) {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === BACKSLASH) i++;
      else if (code === QUOTE) inString = false;
    } else if (code === QUOTE) {
      inString = true;
    } else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
      depth--;
    }
  }
  return deepest;
}

const COMMA = 0x2c;
const COLON = 0x3a;

/**
 * Count, outside strings, the arrays and objects of JSON ``text`` and its commas and
 * colons (the server's MAX_FRAME_CONTAINERS and MAX_FRAME_VALUES count these):
 * {containers, separators}.
 */
export function countStructure(text) {
  let containers = 0;
  let separators = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === BACKSLASH) i++;
      else if (code === QUOTE) inString = false;
    } else if (code === QUOTE) {
      inString = true;
    } else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      containers++;
    } else if (code === COMMA || code === COLON) {
      separators++;
    }
  }
  return { containers, separators };
}

function wellFormed(text) {
  return typeof text.isWellFormed === "function" ? text.isWellFormed() : !/\p{Cs}/u.test(text);
}

function checkParsed(root) {
  const stack = [root];
  while (stack.length) {
    const value = stack.pop();
    if (typeof value === "number") {
      if (!Number.isFinite(value)) throw new SyntaxError("number out of range");
    } else if (typeof value === "string") {
      if (!wellFormed(value)) throw new SyntaxError("lone surrogate in string");
    } else if (Array.isArray(value)) {
      for (const item of value) stack.push(item);
    } else if (value !== null && typeof value === "object") {
      for (const [key, item] of Object.entries(value)) stack.push(key, item);
    }
  }
}

/** Parse JSON ``text``; throw SyntaxError for invalid JSON or nesting deeper than MAX_DEPTH. */
export function parseWireJSON(text) {
  if (text.length > MAX_DEPTH && nestingDepth(text, MAX_DEPTH) > MAX_DEPTH) {
    throw new SyntaxError(`JSON nested deeper than ${MAX_DEPTH} levels`);
  }
  if (!wellFormed(text)) throw new SyntaxError("lone surrogate in JSON text");
  const value = JSON.parse(text);
  if (MAY_OVERFLOW.test(text) || MAY_HOLD_SURROGATE.test(text)) checkParsed(value);
  return value;
}

function hasNonFinite(root) {
  const stack = [root];
  while (stack.length) {
    const value = stack.pop();
    if (typeof value === "number") {
      if (!Number.isFinite(value)) return true;
    } else if (Array.isArray(value)) {
      for (const item of value) stack.push(item);
    } else if (value !== null && typeof value === "object") {
      for (const item of Object.values(value)) stack.push(item);
    }
  }
  return false;
}

/** Return compact JSON text of ``value``; refuse NaN and infinities (JSON would say null). */
export function stringifyWireJSON(value) {
  const text = JSON.stringify(value);
  // A non-finite number can only hide behind a "null", so the walk runs only then.
  if (text.includes("null") && hasNonFinite(value)) {
    throw new RangeError("out of range float values are not JSON compliant");
  }
  return text;
}
