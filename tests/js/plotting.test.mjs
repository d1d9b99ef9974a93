// The pure parts of the plotting views: specs, mappers, factors, scales, ranges, formats, datetime ticks.
import assert from "node:assert/strict";
import { test } from "node:test";

import { axisTicks, minorTicks } from "../../docsync/static/docsync/views/plotting/axes.js";
import { datetimeTicks } from "../../docsync/static/docsync/views/plotting/datetime_ticks.js";
import { factorCoordinates, factorLayout } from "../../docsync/static/docsync/views/plotting/factors.js";
import { numeral, printf, strftime } from "../../docsync/static/docsync/views/plotting/formatters.js";
import { mapColors, mapMarkers } from "../../docsync/static/docsync/views/plotting/mappers.js";
import { clampSpan, rangeSpan } from "../../docsync/static/docsync/views/plotting/ranges.js";
import { makeScale, panned, zoomed } from "../../docsync/static/docsync/views/plotting/scales.js";
import { setLine } from "../../docsync/static/docsync/views/plotting/paint.js";
import { resolveColors, resolveNumbers, resolveVisuals } from "../../docsync/static/docsync/views/plotting/specs.js";
import { decimate, isSorted } from "../../docsync/static/docsync/views/plotting/glyphs_lines.js";
import { fillTemplate } from "../../docsync/static/docsync/views/plotting/tooltips.js";
import { glyphBounds, resolveGlyph } from "../../docsync/static/docsync/views/plotting/glyphs.js";
import { carryOver, rowAligned } from "../../docsync/static/docsync/views/plotting/streaming.js";
import { joinColumn } from "../../docsync/static/docsync/columns.js";
import { Model } from "../../docsync/static/docsync/model.js";
import { defaultOf } from "../../docsync/static/docsync/views/defaults.js";

const prop = (attr, model) => model.get(attr) ?? defaultOf(model.type, attr) ?? null;

test("a spec is a constant, a column (typed columns as they are), a stack or a transformed column", () => {
  const x = new Float64Array([1, 2, 3]);
  const data = { x, y: [4, 5, 6], a: [1, 1, 1] };
  assert.equal(resolveNumbers({ value: 7 }, data, 3, prop), 7);
  assert.equal(resolveNumbers({ field: "x" }, data, 3, prop), x, "no copy of a typed column");
  assert.deepEqual([...resolveNumbers({ field: "y" }, data, 3, prop)], [4, 5, 6]);
  const stack = new Model("Stack", { attributes: { fields: ["x", "a"] } });
  assert.deepEqual([...resolveNumbers({ expr: stack }, data, 3, prop)], [2, 3, 4]);
  const dodge = new Model("Dodge", { attributes: { value: 0.25 } });
  assert.deepEqual([...resolveNumbers({ field: "x", transform: dodge }, data, 3, prop)], [1.25, 2.25, 3.25]);
  assert.deepEqual([...x], [1, 2, 3], "a transform never writes into the column");
  assert.equal(resolveColors({ value: "red" }, data, 3, prop), "red");
});

test("colour mappers: linear, log and categorical, with low/high and nan colours", () => {
  const palette = ["#000000", "#111111", "#222222", "#333333"];
  const linear = new Model("LinearColorMapper", { attributes: { palette, low: 0, high: 4, high_color: "red" } });
  assert.deepEqual(mapColors(linear, [0, 1.5, 3.99, 4, 5, NaN], prop), ["#000000", "#111111", "#333333", "#333333", "red", "gray"]);
  const log = new Model("LogColorMapper", { attributes: { palette, low: 1, high: 10000 } });
  assert.deepEqual(mapColors(log, [1, 15, 150, 9999, -1], prop), ["#000000", "#111111", "#222222", "#333333", "gray"]);
  const cat = new Model("CategoricalColorMapper", { attributes: { palette: ["a", "b"], factors: ["x", "y", "z"] } });
  assert.deepEqual(mapColors(cat, ["z", "x", "q"], prop), ["a", "a", "gray"]);
  const markers = new Model("CategoricalMarkerMapper", { attributes: { markers: ["square", "star"], factors: ["p", "q"] } });
  assert.deepEqual(mapMarkers(markers, ["q", "p", "r"], prop), ["star", "square", "circle"]);
});

test("factors lay out one unit each, nested groups padded, groups map to their centre", () => {
  const flat = factorLayout(["a", "b", "c"]);
  assert.deepEqual([flat.start, flat.end], [0, 3]);
  assert.deepEqual([...factorCoordinates(flat, ["a", "c", "zz", 1.25])], [0.5, 2.5, NaN, 1.25]);
  const nested = factorLayout([["2023", "Q1"], ["2023", "Q2"], ["2024", "Q1"]], { groupPadding: 1 });
  assert.deepEqual([...factorCoordinates(nested, [["2023", "Q2"], ["2024", "Q1"], "2023"])], [1.5, 3.5, 1]);
  assert.equal(nested.end, 4);
  assert.deepEqual(nested.groups.map((g) => g.label), ["2023", "2024"]);
});

test("scales map both ways, zoom about an anchor and pan by pixels; log scales in log space", () => {
  const linear = makeScale("LinearScale", 0, 10, 100, 200);
  assert.equal(linear.compute(5), 150);
  assert.equal(linear.invert(120), 2);
  assert.deepEqual(zoomed(linear, 0.5, 4), [2, 7]);
  assert.deepEqual(panned(linear, 10), [-1, 9]);
  const log = makeScale("LogScale", 1, 1000, 0, 300);
  assert.ok(Math.abs(log.compute(100) - 200) < 1e-9);
  assert.ok(Math.abs(log.invert(100) - 10) < 1e-9);
  const [a, b] = zoomed(log, 0.5, 10);
  assert.ok(Math.abs(a - 10 ** 0.5) < 1e-9 && Math.abs(b - 10 ** 2) < 1e-9);
});

test("data ranges pad, follow the end, and yield to a start/end set by zoom; Range1d keeps in bounds", () => {
  const auto = new Model("DataRange1d");
  assert.deepEqual(rangeSpan(auto, prop, [0, 10], null), [-0.5, 10.5]);
  const follow = new Model("DataRange1d", { attributes: { follow: "end", follow_interval: 4, range_padding: 0 } });
  assert.deepEqual(rangeSpan(follow, prop, [0, 10], null), [6, 10]);
  const zoomedRange = new Model("DataRange1d", { attributes: { start: 2, end: 3 } });
  assert.deepEqual(rangeSpan(zoomedRange, prop, [0, 10], null), [2, 3]);
  const bounded = new Model("Range1d", { attributes: { start: 0, end: 10, bounds: [0, 20] } });
  assert.deepEqual(clampSpan(bounded, prop, [-5, 5]), [0, 10]);
  assert.deepEqual(clampSpan(bounded, prop, [15, 25]), [10, 20]);
});

test("numeral, printf and strftime formats", () => {
  assert.equal(numeral(1234567.891, "0,0.00"), "1,234,567.89");
  assert.equal(numeral(0.256, "0.0%"), "25.6%");
  assert.equal(numeral(1530000, "$0.0a"), "$1.5m");
  assert.equal(printf(3.14159, "%5.2f"), " 3.14");
  assert.equal(printf(42, "%d items"), "42 items");
  const t = Date.UTC(2024, 1, 29, 13, 5, 9, 250);
  assert.equal(strftime(t, "%Y-%m-%d %H:%M:%S.%3N"), "2024-02-29 13:05:09.250");
  assert.equal(strftime(t, "%b %d, %a"), "Feb 29, Thu");
});

test("datetime ticks pick a round interval from milliseconds to years", () => {
  const day = 86400000;
  const start = Date.UTC(2024, 0, 1);
  assert.equal(datetimeTicks(start, start + 900, 6).resolution, "milliseconds");
  assert.equal(datetimeTicks(start, start + 3 * 3600000, 6).resolution, "minutes");
  assert.equal(datetimeTicks(start, start + 6 * day, 6).resolution, "days");
  const months = datetimeTicks(start, start + 300 * day, 6);
  assert.equal(months.resolution, "months");
  assert.ok(months.ticks.every((t) => new Date(t).getUTCDate() === 1), "months start on the 1st");
  const years = datetimeTicks(Date.UTC(1950, 0, 1), Date.UTC(2020, 0, 1), 6);
  assert.equal(years.resolution, "years");
  assert.deepEqual(years.ticks.map((t) => new Date(t).getUTCFullYear()), [1950, 1960, 1970, 1980, 1990, 2000, 2010, 2020]);
});

test("a long sorted line keeps, per pixel column, its first, last, lowest and highest rows", () => {
  const n = 100000;
  const sx = new Float64Array(n);
  const sy = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    sx[i] = (i / n) * 500;
    sy[i] = Math.sin(i / 50) * 100;
  }
  assert.ok(isSorted(sx));
  const rows = decimate(sx, sy, n, true);
  assert.ok(rows.length <= 4 * 501, `${rows.length} rows`);
  for (let c = 0; c < 500; c += 97) {
    const inColumn = [...Array(n).keys()].filter((i) => Math.floor(sx[i]) === c);
    const ys = inColumn.map((i) => sy[i]);
    const kept = [...rows].filter((i) => Math.floor(sx[i]) === c).map((i) => sy[i]);
    assert.equal(Math.min(...kept), Math.min(...ys));
    assert.equal(Math.max(...kept), Math.max(...ys));
  }
  assert.equal(decimate(sx, sy, n, false), null, "unsorted x: every row");
});

test("tooltip templates read columns, format them, and describe the point", () => {
  const data = { price: [1234.5], "adj close": [3], when: [Date.UTC(2020, 4, 17)] };
  const point = { x: 1.23456, y: 2, sx: 10, sy: 20, name: "r" };
  assert.equal(fillTemplate("@price{0,0.0} / @{adj close} / $index / $name", data, 0, point), "1,234.5 / 3 / 0 / r");
  assert.equal(fillTemplate("@when{%F}", data, 0, point, { "@when": "datetime" }), "2020-05-17");
  assert.equal(fillTemplate("@missing", data, 0, point), "???");
});

test("rows streamed in update a glyph's bounds and sortedness as a full scan would", () => {
  // A Line and a Scatter over one source, 400 streams of 1-7 rows into a rolling window of
  // 60: every carried value equals a scan of all rows, or the caller is told to scan.
  let seed = 17;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (const type of ["Line", "Scatter"]) {
    const glyph = new Model(type, { attributes: { x: { field: "x" }, y: { field: "y" }, size: { value: 4 } } });
    let data = { x: Float64Array.from({ length: 30 }, (_, i) => i), y: Float64Array.from({ length: 30 }, () => random()) };
    const resolve = () => resolveGlyph(glyph, data, prop, { x: null, y: null });
    const flags = { xPositive: false, yPositive: false };
    let entry = { r: resolve() };
    entry.r.sorted = isSorted(entry.r.x);
    entry.bounds = glyphBounds(entry.r, flags);
    entry.boundsFlags = flags;
    assert.ok(rowAligned(glyph, entry.r.desc, prop));
    let carried = 0;
    let next = 30;
    for (let k = 0; k < 400; k++) {
      const added = 1 + Math.floor(random() * 7);
      // Now and then a big value (a bound that later rolls over); at two streams x goes back.
      const xs = Float64Array.from({ length: added }, (_, i) => (i === 0 && (k === 100 || k === 250) ? next - 5 : next++));
      const ys = Float64Array.from({ length: added }, () => (random() < 0.01 ? 10 * random() : random()));
      data = { x: joinColumn(data.x, xs, 60), y: joinColumn(data.y, ys, 60) };
      const r = resolve();
      const bounds = carryOver(entry, r, added);
      if (entry.r.sorted === true) assert.equal(r.sorted, isSorted(r.x), `sortedness after stream ${k}`);
      r.sorted ??= isSorted(r.x);
      if (bounds) {
        carried += 1;
        assert.deepEqual(bounds, glyphBounds(r, flags), `bounds after stream ${k}`);
      }
      entry = { r, bounds: bounds ?? glyphBounds(r, flags), boundsFlags: flags };
    }
    assert.ok(carried > 300, `${type}: only ${carried} of 400 streams carried the bounds over`);
  }
  const jittered = new Model("Line", { attributes: { x: { field: "x", transform: new Model("Jitter") }, y: { field: "y" } } });
  assert.equal(rowAligned(jittered, resolveGlyph(jittered, { x: [1], y: [1] }, prop, { x: null, y: null }).desc, prop), false);
});

test("minor ticks: intervals between majors, past both ends, 2..9 per decade on log axes, fixed or none", () => {
  const round = (xs) => xs.map((x) => Math.round(x * 1e9) / 1e9);
  assert.deepEqual(round(minorTicks([0, 2, 4], -0.5, 4.5, 4)), [-0.5, 0.5, 1, 1.5, 2.5, 3, 3.5, 4.5]);
  assert.deepEqual(minorTicks([0, 2, 4], 0, 4, 0), []);
  assert.deepEqual(minorTicks([0], -1, 1, 5), [], "one major gives no spacing");
  assert.deepEqual(round(minorTicks([1, 10, 100], 1, 100, 10, true)), [2, 3, 4, 5, 6, 7, 8, 9, 20, 30, 40, 50, 60, 70, 80, 90]);
  assert.deepEqual(round(minorTicks([1, 100, 10000], 1, 10000, 10, true)), [10, 1000], "majors two decades apart");
  assert.deepEqual(round(minorTicks([1, 2, 5, 10], 1, 10, 10, true)), [3, 4, 6, 7, 8, 9], "majors at 1, 2, 5");

  const linear = makeScale("LinearScale", 0, 10, 0, 500);
  const axis = new Model("LinearAxis");
  const { ticks, minor } = axisTicks(axis, linear, null, 500, prop);
  assert.deepEqual(ticks, [0, 2, 4, 6, 8, 10]);
  assert.equal(minor.length, 5 * 4, "5 intervals of 4 minor ticks each (none outside [0, 10])");
  assert.ok(minor.every((t) => !ticks.includes(Math.round(t * 1e9) / 1e9)));
  const none = new Model("LinearAxis", { attributes: { ticker: new Model("BasicTicker", { attributes: { num_minor_ticks: 0 } }) } });
  assert.deepEqual(axisTicks(none, linear, null, 500, prop).minor, []);
  const fixed = new Model("FixedTicker", { attributes: { ticks: [0, 5, 10], minor_ticks: [1, 2.5, 11] } });
  assert.deepEqual(axisTicks(new Model("LinearAxis", { attributes: { ticker: fixed } }), linear, null, 500, prop).minor, [1, 2.5]);
  const day = 86_400_000;
  const dates = makeScale("LinearScale", 0, 30 * day, 0, 500);
  assert.deepEqual(axisTicks(new Model("DatetimeAxis"), dates, null, 500, prop).minor, [], "datetime axes: none by default");
});

test("a line's dash starts line_dash_offset pixels into its pattern (0 unless given)", () => {
  const ctx = { setLineDash(dash) { this.dash = dash; } };
  const dashed = new Model("Line", { attributes: { line_dash: [4, 2], line_dash_offset: 3 } });
  assert.ok(setLine(ctx, resolveVisuals("line", dashed, {}, 1, prop), 0));
  assert.deepEqual([ctx.dash, ctx.lineDashOffset], [[4, 2], 3]);
  assert.ok(setLine(ctx, resolveVisuals("line", new Model("Line", { attributes: {} }), {}, 1, prop), 0));
  assert.deepEqual([ctx.dash, ctx.lineDashOffset], [[], 0]);
});
