// Axis labels: datetime patterns per resolution, boundary scaling, the context line; thinning; log decades.
import assert from "node:assert/strict";
import { test } from "node:test";

import { axisTicks } from "../../docsync/static/docsync/views/plotting/axes.js";
import { boundaryUnit, datetimeLabels } from "../../docsync/static/docsync/views/plotting/datetime_labels.js";
import { datetimeTicks } from "../../docsync/static/docsync/views/plotting/datetime_ticks.js";
import { makeScale } from "../../docsync/static/docsync/views/plotting/scales.js";
import { Model } from "../../docsync/static/docsync/model.js";
import { defaultOf } from "../../docsync/static/docsync/views/defaults.js";

const prop = (attr, model) => model.get(attr) ?? defaultOf(model.type, attr) ?? null;
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 11, 3, 13, 5, 16); // Thu 3 Dec 2026 13:05:16 UTC

function labelsOn(low, high, formatter = null, lengthPx = 600) {
  const attributes = formatter ? { formatter } : {};
  const axis = new Model("DatetimeAxis", { attributes });
  return axisTicks(axis, makeScale("LinearScale", low, high, 0, lengthPx), null, lengthPx, prop);
}

const formatter = (attributes = {}) => new Model("DatetimeTickFormatter", { attributes });

test("the boundary a tick falls on, from milliseconds to years", () => {
  assert.equal(boundaryUnit(T0 + 500), "millisecond");
  assert.equal(boundaryUnit(T0), "second");
  assert.equal(boundaryUnit(Date.UTC(2026, 11, 3, 13, 5)), "minute");
  assert.equal(boundaryUnit(Date.UTC(2026, 11, 3, 13)), "hour");
  assert.equal(boundaryUnit(Date.UTC(2026, 11, 3)), "day");
  assert.equal(boundaryUnit(Date.UTC(2026, 11, 1)), "month");
  assert.equal(boundaryUnit(Date.UTC(2027, 0, 1)), "year");
  assert.equal(boundaryUnit(Date.UTC(1969, 11, 31, 23, 59, 59, 500)), "millisecond", "before the epoch too");
  assert.equal(boundaryUnit(Date.UTC(1969, 6, 1)), "month");
});

test("sub-second ticks name the whole seconds they pass, not '000ms'", () => {
  const { ticks, labels } = labelsOn(T0 - 1000, T0 + 1000);
  assert.equal(datetimeTicks(T0 - 1000, T0 + 1000, 6).resolution, "milliseconds");
  assert.deepEqual(
    labels,
    ticks.map((t) => (t % 1000 === 0 ? `${String(new Date(t).getUTCSeconds()).padStart(2, "0")}s` : `${String(t % 1000).padStart(3, "0")}ms`)),
  );
  assert.ok(labels.includes("16s") && labels.includes("15s") && labels.includes("17s"), labels.join(" "));
  assert.ok(!labels.includes("000ms"), labels.join(" "));
});

test("each scale's own pattern, a larger unit named where a tick sits on it", () => {
  const cases = [
    // [low, high, resolution, expected labels]
    [T0, T0 + 50 * SECOND, "seconds", ["20s", "30s", "40s", "50s", "13:06"]],
    [Date.UTC(2026, 11, 3, 13, 40), Date.UTC(2026, 11, 3, 14, 20), "minutes", [":40", ":45", ":50", ":55", "14:00", ":05", ":10", ":15", ":20"]],
    [Date.UTC(2026, 11, 2, 12), Date.UTC(2026, 11, 4, 12), "hours", ["12h", "18h", "12/03", "06h", "12h", "18h", "12/04", "06h", "12h"]],
    [Date.UTC(2026, 10, 20), Date.UTC(2026, 11, 20), "days", null],
    [Date.UTC(2026, 5, 1), Date.UTC(2027, 4, 1), "months", null],
    [Date.UTC(1950, 0, 1), Date.UTC(2020, 0, 1), "years", ["1950", "1960", "1970", "1980", "1990", "2000", "2010", "2020"]],
  ];
  for (const [low, high, resolution, expected] of cases) {
    const { ticks, labels } = labelsOn(low, high, null, 360);
    assert.equal(datetimeTicks(low, high, 6).resolution, resolution, `${new Date(low).toISOString()}: ${labels}`);
    if (expected) assert.deepEqual(labels, expected);
    assert.equal(labels.length, ticks.length);
  }
  const months = labelsOn(Date.UTC(2026, 5, 1), Date.UTC(2027, 4, 1), null, 360).labels;
  assert.ok(months.includes("2027"), `January names its year: ${months}`);
  assert.ok(months.includes("09/2026"), `${months}`);
});

test("boundary scaling off keeps every label in its resolution's pattern", () => {
  const { labels } = labelsOn(T0 - 1000, T0 + 1000, formatter({ boundary_scaling: false }));
  assert.ok(labels.includes("000ms"), labels.join(" "));
  assert.ok(labels.every((l) => l.endsWith("ms")));
});

test("per-scale patterns come from the formatter", () => {
  const { labels } = labelsOn(T0, T0 + 50 * SECOND, formatter({ seconds: "%H:%M:%S", hourmin: "[%H:%M]" }), 360);
  assert.deepEqual(labels, ["13:05:20", "13:05:30", "13:05:40", "13:05:50", "[13:06]"]);
});

test("a context line names the larger unit once, on the chosen tick", () => {
  const start = formatter({ context: "%Y-%m-%d %H:%M" });
  const { labels } = labelsOn(T0 - 1000, T0 + 1000, start);
  assert.equal(labels[0].split("\n")[1], "2026-12-03 13:05");
  assert.ok(labels.slice(1).every((l) => !l.includes("\n")), "only the first tick carries it");
  const n = labels.length;
  const end = labelsOn(T0 - 1000, T0 + 1000, formatter({ context: "%F", context_which: "end" })).labels;
  assert.deepEqual(end.map((l) => l.includes("\n")), [...Array(n - 1).fill(false), true]);
  const centre = labelsOn(T0 - 1000, T0 + 1000, formatter({ context: "%F", context_which: "center" })).labels;
  assert.deepEqual(centre.map((l, i) => l.includes("\n") && i), centre.map((_, i) => i === Math.floor((n - 1) / 2) && i));
  const all = labelsOn(T0 - 1000, T0 + 1000, formatter({ context: "%F", context_which: "all" })).labels;
  assert.ok(all.every((l) => l.endsWith("\n2026-12-03")));
});

test("a formatter as context uses its pattern for the ticks' resolution", () => {
  const context = formatter({ milliseconds: "%H:%M:%S", seconds: "%H:%M", hours: "%b %d", boundary_scaling: false });
  const sub = labelsOn(T0 - 1000, T0 + 1000, formatter({ context })).labels;
  assert.equal(sub[0].split("\n")[1], "13:05:15");
  const secs = labelsOn(T0, T0 + 50 * SECOND, formatter({ context }), 360).labels;
  assert.equal(secs[0], "20s\n13:05");
  const hours = labelsOn(Date.UTC(2026, 11, 2, 12), Date.UTC(2026, 11, 4, 12), formatter({ context, context_which: "all" }), 360).labels;
  assert.deepEqual(hours.map((l) => l.split("\n")[1]), ["Dec 02", "Dec 02", "Dec 03", "Dec 03", "Dec 03", "Dec 03", "Dec 04", "Dec 04", "Dec 04"]);
  const scaled = formatter({ milliseconds: "%H:%M:%S", seconds: "%H:%M" });
  const first = labelsOn(T0, T0 + 1000, formatter({ context: scaled })).labels[0];
  assert.equal(first, "16s\n13:05:16", "a context formatter is never boundary-scaled (its own setting aside)");
});

test("labels without a formatter equal those of a default DatetimeTickFormatter", () => {
  for (const [low, high] of [[T0 - 1000, T0 + 1000], [T0, T0 + 2 * HOUR], [T0, T0 + 40 * DAY], [T0, T0 + 5000 * DAY]]) {
    assert.deepEqual(labelsOn(low, high).labels, labelsOn(low, high, formatter()).labels);
  }
  assert.deepEqual(datetimeLabels([], "days", null, prop), []);
});

test("crowded labels are thinned evenly, never where they happen to collide", async () => {
  const { labelStride } = await import("../../docsync/static/docsync/views/plotting/axes.js");
  const ctx = { measureText: (text) => ({ width: 6 * text.length }) };
  const labels = ["2023", "May 2023", "Sep 2023", "2024", "May 2024"];
  assert.equal(labelStride(ctx, [0, 100, 200, 300, 400], labels, 1000), 1, "room for all");
  // 44 px apart: "May 2023" (48 px) collides with both neighbours; "2023" and "2024" would not.
  assert.equal(labelStride(ctx, [30, 74, 118, 162, 206], labels, 1000), 2);
  assert.equal(labelStride(ctx, [30, 50, 70, 90, 110], labels, 1000), 3);
  // A context line (second row) must clear the next label's context only.
  assert.equal(labelStride(ctx, [30, 90, 150], ["15s\n2026-12-03 13:05", "16s", "17s"], 1000), 1);
  assert.equal(labelStride(ctx, [30, 90, 150], ["15s\n2026-12-03 13:05", "16s\n2026-12-03 13:05", "17s"], 1000), 2);
});

test("log ticks skipping decades fall on multiples of their step", async () => {
  const { logTicks } = await import("../../docsync/static/docsync/views/plotting/axes.js");
  // 0.8 .. 8000: five decades shown, three ticks wanted: every other one, from 10⁰ (not 10⁻¹, 10¹, 10³).
  assert.deepEqual(logTicks(0.8, 8000, 3), [1, 100]);
  assert.deepEqual(logTicks(1, 1e6, 3), [1, 100, 10000, 1e6]);
  assert.deepEqual(logTicks(3, 3e5, 2), [1000]);
  assert.deepEqual(logTicks(1, 1000, 6), [1, 10, 100, 1000], "room for every decade");
});
