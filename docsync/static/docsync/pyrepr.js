/**
 * Python's repr() of JSON-like values, so that error messages read exactly as the
 * Python side writes them (both sides are tested against the same expected texts).
 */

/** Objects that know their Python repr (models: "Slider(id='s1')") implement this. */
export const PY_REPR = Symbol("docsync.pyRepr");

const NOT_PRINTABLE = /^[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]$/u;

function hex(code, width) {
  return code.toString(16).padStart(width, "0");
}

function strRepr(text) {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of text) {
    const code = ch.codePointAt(0);
    if (ch === quote || ch === "\\") out += "\\" + ch;
    else if (ch === "\t") out += "\\t";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (code < 0x20 || code === 0x7f) out += "\\x" + hex(code, 2);
    else if (code < 0x7f || (ch !== " " && !NOT_PRINTABLE.test(ch))) out += ch;
    else if (code <= 0xff) out += "\\x" + hex(code, 2);
    else if (code <= 0xffff) out += "\\u" + hex(code, 4);
    else out += "\\U" + hex(code, 8);
  }
  return out + quote;
}

function floatRepr(x) {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  // toExponential() gives the shortest round-tripping digits, as Python's repr does;
  // only the placement of the decimal point differs between the two languages.
  const [mantissa, expText] = x.toExponential().split("e");
  const exponent = Number(expText);
  const negative = mantissa.startsWith("-");
  const digits = mantissa.replace("-", "").replace(".", "");
  const sign = negative ? "-" : "";
  if (exponent < -4 || exponent >= 16) {
    const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const expSign = exponent < 0 ? "-" : "+";
    return `${sign}${mant}e${expSign}${String(Math.abs(exponent)).padStart(2, "0")}`;
  }
  if (exponent < 0) return `${sign}0.${"0".repeat(-exponent - 1)}${digits}`;
  const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, "0");
  const fraction = digits.slice(exponent + 1) || "0";
  return `${sign}${whole}.${fraction}`;
}

function numberRepr(x) {
  // JSON cannot tell 1 from 1.0 once parsed; integral values read as Python ints.
  return Number.isInteger(x) && !Object.is(x, -0) ? String(x) : floatRepr(x);
}

function isPlainObject(value) {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function scalarRepr(value) {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "number") return numberRepr(value);
  if (typeof value === "bigint") return String(value);
  if (typeof value === "string") return strRepr(value);
  if (value[PY_REPR]) return value[PY_REPR]();
  if (ArrayBuffer.isView(value)) return `ndarray(length=${value.length})`;
  return undefined;
}

/** Return Python's repr() of ``value``. */
export function pyRepr(value) {
  const scalar = scalarRepr(value);
  if (scalar !== undefined) return scalar;
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(", ")}]`;
  if (value instanceof Map) {
    const pieces = [...value].map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`);
    return `{${pieces.join(", ")}}`;
  }
  if (value instanceof Set) return value.size ? `{${[...value].map(pyRepr).join(", ")}}` : "set()";
  if (isPlainObject(value)) {
    const pieces = Object.entries(value).map(([k, v]) => `${strRepr(k)}: ${pyRepr(v)}`);
    return `{${pieces.join(", ")}}`;
  }
  return String(value);
}

/** Return the first ``limit`` code points of ``text`` (Python's "{x!r:.N}"). */
export function truncated(text, limit) {
  const points = Array.from(text);
  return points.length <= limit ? text : points.slice(0, limit).join("");
}

/** Return pyRepr(value), at most 80 code points, as the Python properties show refused values. */
export function pyReprShow(value) {
  const points = Array.from(pyRepr(value));
  return points.length <= 80 ? points.join("") : points.slice(0, 77).join("") + "...";
}

/** Return pyRepr(value) cut to ``limit`` code points, as "{value!r:.limit}" does. */
export function pyReprCut(value, limit) {
  return truncated(pyRepr(value), limit);
}

function middleCut(text, limit) {
  const points = Array.from(text);
  if (points.length <= limit) return text;
  const head = Math.max(0, Math.floor((limit - 3) / 2));
  const tail = Math.max(0, limit - 3 - head);
  return points.slice(0, head).join("") + "..." + points.slice(points.length - tail).join("");
}

function codePointCompare(a, b) {
  const x = Array.from(a, (c) => c.codePointAt(0));
  const y = Array.from(b, (c) => c.codePointAt(0));
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i] - y[i];
  }
  return x.length - y.length;
}

/**
 * Return the repr the Python receiver uses in its errors: reprlib.Repr with strings and
 * other values cut to 40 characters, at most 4 list items or dict entries, 6 levels,
 * and the whole cut to 60 characters.
 */
export function pyReprShort(value) {
  const points = Array.from(reprlibRepr(value, 6));
  return points.length <= 60 ? points.join("") : points.slice(0, 57).join("") + "...";
}

function reprlibRepr(value, level) {
  const LIMIT = 40;
  const ITEMS = 4;
  if (typeof value === "string") {
    const points = Array.from(value);
    let text = strRepr(points.slice(0, LIMIT).join(""));
    if (Array.from(text).length > LIMIT) {
      const head = Math.max(0, Math.floor((LIMIT - 3) / 2));
      const tail = Math.max(0, LIMIT - 3 - head);
      text = Array.from(strRepr(points.slice(0, head).join("") + points.slice(points.length - tail).join("")));
      text = text.slice(0, head).join("") + "..." + text.slice(text.length - tail).join("");
    }
    return text;
  }
  if (Array.isArray(value)) {
    if (level <= 0 && value.length) return "[...]";
    const pieces = value.slice(0, ITEMS).map((item) => reprlibRepr(item, level - 1));
    if (value.length > ITEMS) pieces.push("...");
    return `[${pieces.join(", ")}]`;
  }
  if (isPlainObject(value)) {
    const keys = Object.keys(value).sort(codePointCompare);
    if (keys.length === 0) return "{}";
    if (level <= 0) return "{...}";
    const pieces = keys
      .slice(0, ITEMS)
      .map((key) => `${reprlibRepr(key, level - 1)}: ${reprlibRepr(value[key], level - 1)}`);
    if (keys.length > ITEMS) pieces.push("...");
    return `{${pieces.join(", ")}}`;
  }
  return middleCut(pyRepr(value), LIMIT);
}
