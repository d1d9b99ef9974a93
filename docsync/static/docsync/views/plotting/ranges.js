/**
 * The spans a plot shows: Range1d as given; FactorRange over its factors' layout;
 * DataRange1d from the data of its renderers, padded (and following the latest data
 * when ``follow`` is set) until a zoom or pan in the browser sets start and end.
 */

import { factorLayout } from "./factors.js";

/** Return the FactorRange layout of ``range`` (null for numeric ranges). */
export function factorsOf(range, prop) {
  if (!range || range.type !== "FactorRange") return null;
  return factorLayout(prop("factors", range) ?? [], {
    factorPadding: prop("factor_padding", range),
    subgroupPadding: prop("subgroup_padding", range),
    groupPadding: prop("group_padding", range),
    rangePadding: prop("range_padding", range),
  });
}

function padded(low, high, range, prop, log) {
  const padding = prop("range_padding", range) ?? 0.1;
  const absolute = prop("range_padding_units", range) === "absolute";
  if (!Number.isFinite(low) || !Number.isFinite(high)) return log ? [1, 10] : [0, 1];
  if (low === high) {
    const half = (prop("default_span", range) ?? 2) / 2;
    return log ? [low / 10, low * 10] : [low - half, high + half];
  }
  if (log) {
    const span = Math.log10(high) - Math.log10(low);
    const pad = absolute ? padding : (span * padding) / 2;
    return [10 ** (Math.log10(low) - pad), 10 ** (Math.log10(high) + pad)];
  }
  const pad = absolute ? padding : ((high - low) * padding) / 2;
  return [low - pad, high + pad];
}

/**
 * Return [start, end] shown by ``range``: ``bounds`` are the data's [low, high] along
 * it (for DataRange1d), ``factors`` its layout (FactorRange), ``log`` for a log scale.
 */
export function rangeSpan(range, prop, bounds, factors, log = false) {
  if (!range) return [0, 1];
  const start = prop("start", range);
  const end = prop("end", range);
  if (range.type === "Range1d") return [start, end];
  if (range.type === "FactorRange") return [start ?? factors?.start ?? 0, end ?? factors?.end ?? 1];
  if (start !== null && end !== null) return [start, end];
  let [low, high] = bounds ?? [Infinity, -Infinity];
  const follow = prop("follow", range);
  const interval = prop("follow_interval", range);
  if (follow && Number.isFinite(interval) && high - low > interval) {
    if (follow === "end") low = high - interval;
    else high = low + interval;
  }
  let [a, b] = padded(low, high, range, prop, log);
  if (start !== null) a = start;
  if (end !== null) b = end;
  return prop("flipped", range) ? [b, a] : [a, b];
}

/** Clamp a new [start, end] of a Range1d to its ``bounds`` and interval limits (keeping the span when it can). */
export function clampSpan(range, prop, [start, end]) {
  if (range.type !== "Range1d") return [start, end];
  const bounds = prop("bounds", range);
  const min = prop("min_interval", range);
  const max = prop("max_interval", range);
  const span = end - start;
  if ((min !== null && Math.abs(span) < min) || (max !== null && Math.abs(span) > max)) return null;
  if (!bounds) return [start, end];
  const [lo, hi] = bounds;
  if (lo !== null && Math.min(start, end) < lo) return span > 0 ? [lo, lo + span] : [lo - span, lo];
  if (hi !== null && Math.max(start, end) > hi) return span > 0 ? [hi - span, hi] : [hi, hi + span];
  return [start, end];
}
