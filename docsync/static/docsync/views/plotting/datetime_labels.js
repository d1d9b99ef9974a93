/**
 * Labels of datetime ticks (ms since the epoch, UTC) as DatetimeTickFormatter says:
 * the pattern of the ticks' resolution; a tick on a round larger unit (a whole second
 * among 100 ms ticks, midnight among hours) labelled in that unit; and a context line
 * (a strftime pattern or another formatter) under or over the chosen ticks, so the
 * larger unit shows once instead of being repeated in every label.
 */

import { PLOT_DEFAULTS } from "./defaults.js";
import { strftime } from "./formatters.js";

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

// Units from fine to coarse; the resolution names of DatetimeTickFormatter each belong to one.
const UNITS = ["millisecond", "second", "minute", "hour", "day", "month", "year"];
const UNIT_OF = {
  milliseconds: "millisecond", seconds: "second", minsec: "minute", minutes: "minute",
  hourmin: "hour", hours: "hour", days: "day", months: "month", years: "year",
};
// The pattern a tick promoted to a larger unit is labelled with. Minutes and hours read
// best as a clock time ("13:05"), whatever their own resolution's pattern is.
const PROMOTED = { second: "seconds", minute: "hourmin", hour: "hourmin", day: "days", month: "months", year: "years" };

const mod = (value, size) => ((value % size) + size) % size;

/** Return the largest unit whose boundary ``t`` falls on ("millisecond" if none). */
export function boundaryUnit(t) {
  if (mod(t, SECOND) !== 0) return "millisecond";
  if (mod(t, MINUTE) !== 0) return "second";
  if (mod(t, HOUR) !== 0) return "minute";
  if (mod(t, DAY) !== 0) return "hour";
  const d = new Date(t);
  if (d.getUTCDate() !== 1) return "day";
  return d.getUTCMonth() === 0 ? "year" : "month";
}

function patternGetter(formatter, prop) {
  const defaults = PLOT_DEFAULTS.DatetimeTickFormatter;
  return (key) => (formatter ? prop(key, formatter) : defaults[key]) ?? defaults[key];
}

/** Return the main label of each tick (no context), with boundary scaling when the formatter asks for it. */
function mainLabels(ticks, resolution, formatter, prop, context) {
  const pattern = patternGetter(formatter, prop);
  const own = pattern(resolution);
  // A context names the larger unit already: it is never scaled up.
  const scaling = !context && pattern("boundary_scaling") !== false;
  const ownRank = UNITS.indexOf(UNIT_OF[resolution] ?? "day");
  return ticks.map((t) => {
    if (!scaling) return strftime(t, own);
    const unit = boundaryUnit(t);
    return UNITS.indexOf(unit) > ownRank ? strftime(t, pattern(PROMOTED[unit])) : strftime(t, own);
  });
}

function contextIndices(count, which) {
  if (count === 0) return [];
  if (which === "all") return [...Array(count).keys()];
  if (which === "end") return [count - 1];
  if (which === "center") return [Math.floor((count - 1) / 2)];
  return [0];
}

/**
 * Return a label for each tick at ``resolution`` by ``formatter`` (a DatetimeTickFormatter
 * model, or null for its defaults; ``depth`` > 0 for a formatter used as another's context,
 * which is never boundary-scaled). A label with a context line holds two lines ("\n"),
 * the context second (the axis draws it on the far side from the frame).
 */
export function datetimeLabels(ticks, resolution, formatter, prop, depth = 0) {
  const labels = mainLabels(ticks, resolution, formatter, prop, depth > 0);
  const context = formatter ? prop("context", formatter) : null;
  if (context === null || context === undefined || depth > 4) return labels;
  const which = prop("context_which", formatter) ?? "start";
  const chosen = contextIndices(ticks.length, which);
  const text = (i) =>
    typeof context === "string" ? strftime(ticks[i], context) : datetimeLabels([ticks[i]], resolution, context, prop, depth + 1)[0];
  for (const i of chosen) {
    const line = text(i);
    if (line === "") continue;
    labels[i] = `${labels[i]}\n${line}`;
  }
  return labels;
}
