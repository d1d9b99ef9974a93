/**
 * Ticks on a datetime axis (ms since the epoch, UTC): the roundest interval from
 * milliseconds to years that gives about the wanted number of ticks, and the
 * resolution whose DatetimeTickFormatter pattern labels them.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

// [interval in ms, resolution]; months and years step on the calendar.
const FIXED = [
  [1, "milliseconds"], [2, "milliseconds"], [5, "milliseconds"], [10, "milliseconds"], [20, "milliseconds"],
  [50, "milliseconds"], [100, "milliseconds"], [200, "milliseconds"], [500, "milliseconds"],
  [SECOND, "seconds"], [2 * SECOND, "seconds"], [5 * SECOND, "seconds"], [10 * SECOND, "seconds"],
  [15 * SECOND, "seconds"], [30 * SECOND, "seconds"],
  [MINUTE, "minsec"], [2 * MINUTE, "minutes"], [5 * MINUTE, "minutes"], [10 * MINUTE, "minutes"],
  [15 * MINUTE, "minutes"], [30 * MINUTE, "minutes"],
  [HOUR, "hourmin"], [3 * HOUR, "hours"], [6 * HOUR, "hours"], [12 * HOUR, "hours"],
  [DAY, "days"], [2 * DAY, "days"], [7 * DAY, "days"], [14 * DAY, "days"],
];
const MONTH_STEPS = [1, 2, 3, 4, 6];
const YEAR_STEPS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000];

/** Return {ticks, resolution} for [low, high] with about ``count`` ticks. */
export function datetimeTicks(low, high, count = 6) {
  if (!(high > low) || !Number.isFinite(low) || !Number.isFinite(high)) return { ticks: [], resolution: "days" };
  const target = (high - low) / Math.max(1, count);
  const fixed = FIXED.find(([interval]) => interval >= target * 0.7);
  if (fixed) {
    const [interval, resolution] = fixed;
    // Days and weeks start at midnight UTC; shorter intervals at their own multiples.
    const ticks = [];
    for (let t = Math.ceil(low / interval) * interval; t <= high && ticks.length < 500; t += interval) ticks.push(t);
    return { ticks, resolution };
  }
  const months = target / (30.44 * DAY);
  const start = new Date(low);
  if (months <= 7) {
    const step = MONTH_STEPS.find((m) => m >= months * 0.7) ?? 6;
    const ticks = [];
    let y = start.getUTCFullYear();
    let m = Math.ceil(start.getUTCMonth() / step) * step;
    for (let t = Date.UTC(y, m, 1); ticks.length < 500; ) {
      if (t >= low && t <= high) ticks.push(t);
      if (t > high) break;
      m += step;
      if (m >= 12) {
        y += Math.floor(m / 12);
        m %= 12;
      }
      t = Date.UTC(y, m, 1);
    }
    return { ticks, resolution: "months" };
  }
  const years = months / 12;
  const step = YEAR_STEPS.find((s) => s >= years * 0.7) ?? 10 ** Math.ceil(Math.log10(years));
  const ticks = [];
  for (let y = Math.ceil(start.getUTCFullYear() / step) * step; ticks.length < 500; y += step) {
    const t = Date.UTC(y, 0, 1);
    if (t > high) break;
    if (t >= low) ticks.push(t);
  }
  return { ticks, resolution: "years" };
}
