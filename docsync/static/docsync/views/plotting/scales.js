/**
 * Scales: data to CSS pixels along one dimension of the frame, and back. Linear and
 * categorical (over a FactorRange's synthetic coordinates) map straight; log maps
 * log10 of the value. A scale is {compute(v), invert(px), start, end, log}.
 */

/** Return the scale taking [start, end] onto pixels [low, high] (``low`` > ``high`` for y, which grows downward). */
export function makeScale(kind, start, end, low, high) {
  const log = kind === "LogScale";
  const s = log ? Math.log10(start > 0 ? start : 1e-300) : start;
  const e = log ? Math.log10(end > 0 ? end : 1e-300) : end;
  const k = (high - low) / (e - s || 1);
  if (log) {
    return {
      log,
      start,
      end,
      k,
      offset: low - s * k,
      compute: (v) => (v > 0 ? low + (Math.log10(v) - s) * k : NaN),
      invert: (px) => 10 ** (s + (px - low) / k),
    };
  }
  return {
    log,
    start,
    end,
    k,
    offset: low - s * k,
    compute: (v) => low + (v - s) * k,
    invert: (px) => s + (px - low) / k,
  };
}

/** Map every value of ``values`` to pixels into ``out`` (a Float32Array or Float64Array); return it. */
export function computeAll(scale, values, out = new Float64Array(values.length)) {
  const n = values.length;
  if (scale.log) {
    for (let i = 0; i < n; i++) out[i] = scale.compute(values[i]);
  } else {
    const { k, offset } = scale;
    for (let i = 0; i < n; i++) out[i] = values[i] * k + offset;
  }
  return out;
}

/** Return [start, end] zoomed by ``factor`` about ``anchor`` (log scales zoom in log space). */
export function zoomed(scale, factor, anchor) {
  if (scale.log) {
    const a = Math.log10(anchor);
    return [10 ** (a + (Math.log10(scale.start) - a) * factor), 10 ** (a + (Math.log10(scale.end) - a) * factor)];
  }
  return [anchor + (scale.start - anchor) * factor, anchor + (scale.end - anchor) * factor];
}

/** Return [start, end] moved by ``pixels`` along the scale. */
export function panned(scale, pixels) {
  if (scale.log) {
    return [scale.invert(scale.compute(scale.start) - pixels), scale.invert(scale.compute(scale.end) - pixels)];
  }
  const shift = pixels / scale.k;
  return [scale.start - shift, scale.end - shift];
}
