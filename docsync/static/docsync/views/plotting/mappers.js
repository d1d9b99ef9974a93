/**
 * Colour mappers and transforms, the browser's half of docsync/document/models/mappers.py:
 * LinearColorMapper, LogColorMapper, CategoricalColorMapper, CategoricalMarkerMapper,
 * Dodge, Jitter. ``prop(attr, model)`` reads a model's property or its default.
 */

/** Return the key a factor (string or nested list) is indexed by. */
export function factorKey(factor) {
  return Array.isArray(factor) ? factor.map(String).join("\u0000") : String(factor);
}

function extent(values) {
  let low = Infinity;
  let high = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = Number(values[i]);
    if (Number.isFinite(v)) {
      if (v < low) low = v;
      if (v > high) high = v;
    }
  }
  return [low, high];
}

/** Return {low, high} of a continuous mapper over ``values`` (the data's extent where unset). */
export function mapperBounds(mapper, values, prop) {
  let low = prop("low", mapper);
  let high = prop("high", mapper);
  if (low === null || high === null) {
    const [dataLow, dataHigh] = values ? extent(values) : [0, 1];
    low ??= Number.isFinite(dataLow) ? dataLow : 0;
    high ??= Number.isFinite(dataHigh) ? dataHigh : 1;
  }
  return { low, high };
}

// The [low, high] each continuous mapper last used, for colour bars of auto-ranged mappers.
const seen = new WeakMap();

/** Return the {low, high} ``mapper`` last mapped over (or null). */
export function boundsSeen(mapper) {
  return seen.get(mapper) ?? null;
}

/** Return the colour of each of ``values`` through ``mapper`` (an Array of CSS strings). */
export function mapColors(mapper, values, prop) {
  const palette = prop("palette", mapper) ?? [];
  const nan = prop("nan_color", mapper) ?? "gray";
  const n = values.length;
  const out = new Array(n);
  if (!palette.length) return out.fill(nan);
  if (mapper.type === "CategoricalColorMapper") {
    const start = prop("start", mapper) ?? 0;
    const end = prop("end", mapper);
    const index = new Map((prop("factors", mapper) ?? []).map((f, i) => [factorKey(f), i]));
    for (let i = 0; i < n; i++) {
      let v = values[i];
      if (Array.isArray(v)) v = v.slice(start, end ?? undefined);
      const k = index.get(factorKey(v));
      out[i] = k === undefined ? nan : palette[k % palette.length];
    }
    return out;
  }
  const { low, high } = mapperBounds(mapper, values, prop);
  seen.set(mapper, { low, high });
  const lowColor = prop("low_color", mapper) ?? palette[0];
  const highColor = prop("high_color", mapper) ?? palette[palette.length - 1];
  const log = mapper.type === "LogColorMapper";
  const a = log ? Math.log(low) : low;
  const b = log ? Math.log(high) : high;
  const span = b - a;
  const last = palette.length - 1;
  for (let i = 0; i < n; i++) {
    const raw = Number(values[i]);
    if (!Number.isFinite(raw) || (log && raw <= 0)) {
      out[i] = nan;
    } else if (raw < low) out[i] = lowColor;
    else if (raw > high) out[i] = highColor;
    else {
      const t = span > 0 ? ((log ? Math.log(raw) : raw) - a) / span : 0;
      out[i] = palette[Math.min(last, Math.floor(t * palette.length))];
    }
  }
  return out;
}

/** Return the marker of each of ``values`` through a CategoricalMarkerMapper. */
export function mapMarkers(mapper, values, prop) {
  const markers = prop("markers", mapper) ?? [];
  const fallback = prop("default_value", mapper) ?? "circle";
  const index = new Map((prop("factors", mapper) ?? []).map((f, i) => [factorKey(f), i]));
  return Array.from(values, (v) => {
    const k = index.get(factorKey(v));
    return k === undefined ? fallback : markers[k % markers.length] ?? fallback;
  });
}

// Jitter is random but fixed per page: the same row jitters the same way on every redraw.
function noise(i) {
  const x = Math.sin(i * 12.9898 + 78.233) * 43758.5453;
  return x - Math.floor(x);
}

/** Apply a numeric transform (Dodge, Jitter) to coordinates ``values`` (a Float64Array), in place. */
export function transformNumbers(transform, values, prop) {
  if (transform.type === "Dodge") {
    const shift = prop("value", transform) ?? 0;
    for (let i = 0; i < values.length; i++) values[i] += shift;
  } else if (transform.type === "Jitter") {
    const width = prop("width", transform) ?? 1;
    const mean = prop("mean", transform) ?? 0;
    for (let i = 0; i < values.length; i++) values[i] += mean + (noise(i) - 0.5) * width;
  }
  return values;
}
