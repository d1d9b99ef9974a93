/**
 * Axis arithmetic for plots, free of the DOM: "nice" tick positions (1, 2 or 5 times a
 * power of ten), their labels, and padded automatic ranges.
 */

const MINUS = "\u2212";

/** Return a nice step (1, 2 or 5 × 10^k) giving about ``count`` intervals over ``span``. */
export function niceStep(span, count = 5) {
  const raw = span / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  const nice = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10;
  return nice * power;
}

/** Return the decimals needed to write multiples of ``step`` exactly. */
export function stepDecimals(step) {
  return Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
}

/**
 * Return {ticks, step}: the multiples of a nice step within [low, high], about
 * ``count`` of them. An empty or non-finite range has no ticks.
 */
export function niceTicks(low, high, count = 5) {
  if (!Number.isFinite(low) || !Number.isFinite(high) || !(high > low)) return { ticks: [], step: NaN };
  const step = niceStep(high - low, count);
  const decimals = stepDecimals(step);
  const ticks = [];
  const first = Math.ceil(low / step - 1e-9);
  const last = Math.floor(high / step + 1e-9);
  for (let k = first; k <= last && ticks.length < 1000; k++) {
    // Rounded to the step's decimals: 0.30000000000000004 is shown, and compared, as 0.3.
    ticks.push(decimals <= 20 ? Number((k * step).toFixed(Math.min(decimals, 20))) : k * step);
  }
  return { ticks, step };
}

/** Return the label of tick ``value`` on an axis whose ticks are ``step`` apart. */
export function formatTick(value, step) {
  if (value === 0) return "0";
  const abs = Math.abs(value);
  let text;
  if (abs >= 1e6 || abs < 1e-4 || step < 1e-6) {
    const digits = Math.max(0, Math.min(6, Math.floor(Math.log10(abs)) - Math.floor(Math.log10(step))));
    text = value.toExponential(digits).replace(/\.?0+e/, "e").replace("e+", "e");
  } else {
    text = value.toFixed(stepDecimals(step));
  }
  return text.startsWith("-") ? MINUS + text.slice(1) : text;
}

/** Return [low, high] covering [min, max] with ``pad`` of the span either side (never empty). */
export function paddedRange(min, max, pad = 0.05) {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (min === max) {
    const half = min === 0 ? 1 : Math.abs(min) * 0.1;
    return [min - half, max + half];
  }
  const span = max - min;
  return [min - span * pad, max + span * pad];
}
