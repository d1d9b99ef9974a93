/**
 * Categorical coordinates: a FactorRange lays its factors out along a line, one unit
 * each, with padding between factors, subgroups and groups (nested factors are lists:
 * ["2023", "Q1"]). A factor, or a group's leading part, maps to its centre.
 */

import { factorKey } from "./mappers.js";

/**
 * Return the layout of ``factors``: {centres: Map(key -> centre), leaves: [{factor,
 * centre}], groups: [{label, start, end, level}], start, end, levels}.
 */
export function factorLayout(factors, { factorPadding = 0, subgroupPadding = 0.8, groupPadding = 1.4, rangePadding = 0 } = {}) {
  const centres = new Map();
  const leaves = [];
  const spans = new Map(); // group key -> {label, start, end, level}
  let pos = 0;
  let previous = null;
  let levels = 1;
  for (const factor of factors ?? []) {
    const parts = Array.isArray(factor) ? factor.map(String) : [String(factor)];
    levels = Math.max(levels, parts.length);
    if (previous !== null) {
      if (parts.length >= 2 && parts[0] !== previous[0]) pos += groupPadding;
      else if (parts.length === 3 && parts[1] !== previous[1]) pos += subgroupPadding;
      else pos += factorPadding;
    }
    const centre = pos + 0.5;
    centres.set(factorKey(parts.length === 1 ? parts[0] : parts), centre);
    leaves.push({ factor: parts, centre });
    for (let depth = 1; depth < parts.length; depth++) {
      const key = factorKey(parts.slice(0, depth));
      const span = spans.get(key);
      if (span) span.end = pos + 1;
      else spans.set(key, { label: parts[depth - 1], start: pos, end: pos + 1, level: depth - 1, parts: parts.slice(0, depth) });
    }
    pos += 1;
    previous = parts;
  }
  for (const [key, span] of spans) {
    const centre = (span.start + span.end) / 2;
    centres.set(key, centre);
    if (span.level === 0) centres.set(span.label, centre);
  }
  const pad = rangePadding ? (rangePadding * pos) / 2 : 0;
  return { centres, leaves, groups: [...spans.values()], start: 0 - pad, end: pos + pad, levels };
}

/** Return the synthetic coordinate of each of ``values`` (factors, or numbers kept as they are). */
export function factorCoordinates(layout, values) {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === "number") out[i] = v;
    else {
      const centre = layout.centres.get(factorKey(v));
      out[i] = centre === undefined ? NaN : centre;
    }
  }
  return out;
}
