/**
 * Formatting numbers and instants for tick labels and tooltips: numeral patterns
 * ("0,0.00", "0%", "$0.0a"), printf patterns ("%5.2f"), strftime patterns ("%Y-%m-%d
 * %H:%M", UTC; "%3N" milliseconds).
 */

const MINUS = "\u2212";
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const LONG_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const LONG_DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

function groupThousands(digits) {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** Format ``value`` with a numeral.js-style pattern. */
export function numeral(value, pattern) {
  if (!Number.isFinite(value)) return String(value);
  let format = String(pattern ?? "0,0");
  let prefix = "";
  let suffix = "";
  let scaled = value;
  const currency = format.match(/^\$/);
  if (currency) {
    prefix = "$";
    format = format.slice(1);
  }
  if (format.includes("%")) {
    scaled *= 100;
    suffix = "%";
    format = format.replace(/\s*%/, "");
  }
  if (format.includes("a")) {
    const abs = Math.abs(scaled);
    const units = [[1e12, "t"], [1e9, "b"], [1e6, "m"], [1e3, "k"]];
    const unit = units.find(([size]) => abs >= size);
    if (unit) {
      scaled /= unit[0];
      suffix = unit[1] + suffix;
    }
    format = format.replace(/\s*a/, "");
  }
  const decimalsPart = format.split(".")[1] ?? "";
  const optional = decimalsPart.startsWith("[");
  const decimals = decimalsPart.replace(/[[\]]/g, "").length;
  let text = Math.abs(scaled).toFixed(decimals);
  if (optional) text = text.replace(/\.?0+$/, "");
  const [whole, fraction] = text.split(".");
  const grouped = format.includes(",") ? groupThousands(whole) : whole;
  const body = fraction !== undefined ? `${grouped}.${fraction}` : grouped;
  return `${scaled < 0 && Number(text) !== 0 ? "-" : ""}${prefix}${body}${suffix}`;
}

/** Format ``value`` with a printf-style pattern (%d %i %f %e %g %s %x %%, with flags, width and precision). */
export function printf(value, pattern) {
  return String(pattern ?? "%s").replace(/%([-+ 0]*)(\d*)(?:\.(\d+))?([dfeEgGsxi%])/g, (match, flags, width, precision, kind) => {
    if (kind === "%") return "%";
    const p = precision === undefined ? undefined : Number(precision);
    let out;
    if (kind === "d" || kind === "i") out = String(Math.round(Number(value)));
    else if (kind === "f") out = Number(value).toFixed(p ?? 6);
    else if (kind === "e" || kind === "E") out = Number(value).toExponential(p ?? 6).replace(/e([+-])(\d)$/, "e$10$2");
    else if (kind === "g" || kind === "G") out = String(Number(Number(value).toPrecision(p ?? 6)));
    else if (kind === "x") out = Math.round(Number(value)).toString(16);
    else out = String(value);
    if (kind === "E" || kind === "G") out = out.toUpperCase();
    if (flags.includes("+") && Number(value) >= 0) out = `+${out}`;
    const w = Number(width || 0);
    if (out.length < w) out = flags.includes("-") ? out.padEnd(w) : out.padStart(w, flags.includes("0") ? "0" : " ");
    return out;
  });
}

const pad = (v, n = 2) => String(v).padStart(n, "0");

/** Format an instant (ms since the epoch) with a strftime pattern, in UTC. */
export function strftime(ms, pattern) {
  if (!Number.isFinite(ms)) return "NaN";
  const d = new Date(ms);
  return String(pattern).replace(/%(\d?)([a-zA-Z%])/g, (match, digits, code) => {
    switch (code) {
      case "Y": return String(d.getUTCFullYear());
      case "y": return pad(d.getUTCFullYear() % 100);
      case "m": return pad(d.getUTCMonth() + 1);
      case "b": return MONTHS[d.getUTCMonth()];
      case "B": return LONG_MONTHS[d.getUTCMonth()];
      case "d": return pad(d.getUTCDate());
      case "e": return String(d.getUTCDate()).padStart(2, " ");
      case "a": return DAYS[d.getUTCDay()];
      case "A": return LONG_DAYS[d.getUTCDay()];
      case "H": return pad(d.getUTCHours());
      case "I": return pad(((d.getUTCHours() + 11) % 12) + 1);
      case "p": return d.getUTCHours() < 12 ? "AM" : "PM";
      case "M": return pad(d.getUTCMinutes());
      case "S": return pad(d.getUTCSeconds());
      case "N": return pad(d.getUTCMilliseconds(), 3).slice(0, Number(digits || 3));
      case "f": return pad(d.getUTCMilliseconds() * 1000, 6);
      case "j": return pad(Math.floor((ms - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86400000) + 1, 3);
      case "F": return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
      case "T": return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
      case "%": return "%";
      default: return match;
    }
  });
}

/** Return a plain label for a number on an axis whose ticks are ``step`` apart. */
export function basicTick(value, step) {
  if (value === 0) return "0";
  const abs = Math.abs(value);
  let text;
  if (abs >= 1e6 || abs < 1e-4 || step < 1e-6) {
    const digits = Math.max(0, Math.min(6, Math.floor(Math.log10(abs)) - Math.floor(Math.log10(step))));
    text = value.toExponential(digits).replace(/\.?0+e/, "e").replace("e+", "e");
  } else {
    text = value.toFixed(Math.max(0, -Math.floor(Math.log10(step) + 1e-9)));
  }
  return text.startsWith("-") ? MINUS + text.slice(1) : text;
}
