// The plot view's data: glyph columns as numbers, text x as categories, extents and ranges.
import assert from "node:assert/strict";
import { test } from "node:test";

import { Model } from "../../docsync/static/docsync/model.js";
import { autoRanges, dataBounds, resolveSeries } from "../../docsync/static/docsync/views/plot_data.js";
import { defaultOf } from "../../docsync/static/docsync/views/defaults.js";

const prop = (attr, model) => model.get(attr) ?? defaultOf(model.type, attr) ?? null;

function glyph(type, data, attributes = {}) {
  const source = new Model("ColumnDataSource", { attributes: { data } });
  return new Model(type, { attributes: { source, ...attributes } });
}

test("typed columns are drawn from as they are; lists and int64 become numbers", () => {
  const x = new Float64Array([0, 1, 2]);
  const { series, categories } = resolveSeries(
    [glyph("Line", { x, y: [1, null, 3] }), glyph("Scatter", { x: [0, 1], y: new BigInt64Array([5n, 7n]) })],
    prop,
  );
  assert.equal(categories, null);
  assert.equal(series[0].xs, x, "no copy of a float column");
  assert.deepEqual([...series[0].ys], [1, NaN, 3]);
  assert.deepEqual([...series[1].ys], [5, 7]);
  assert.equal(series[0].style.lineWidth, 2, "the declared default");
  assert.equal(series[1].style.marker, "circle");
});

test("text x values are categories, in order of appearance", () => {
  const bars = glyph("VBar", { day: ["mon", "tue", "mon", "wed"], n: [1, 2, 3, 4] }, { x: "day", y: "n", width: 0.5 });
  const { series, categories } = resolveSeries([bars], prop);
  assert.deepEqual(categories, ["mon", "tue", "wed"]);
  assert.deepEqual([...series[0].xs], [0, 1, 0, 2]);
  assert.deepEqual(autoRanges(series, categories, null, null).x, [-0.5, 2.5]);
});

test("glyphs without their columns are skipped", () => {
  const { series } = resolveSeries([glyph("Line", { x: [1] }), null, new Model("Div")], prop);
  assert.deepEqual(series, []);
});

test("bounds include bar widths and bottoms; fixed ranges win", () => {
  const { series } = resolveSeries([glyph("VBar", { x: [1, 2], y: [3, 5] }, { bottom: 1 })], prop);
  assert.deepEqual(dataBounds(series), { x: [0.6, 2.4], y: [1, 5] });
  const ranges = autoRanges(series, null, [0, 10], null);
  assert.deepEqual(ranges.x, [0, 10]);
  assert.ok(ranges.y[0] < 1 && ranges.y[1] > 5);
  assert.deepEqual(autoRanges([], null, null, null), { x: [0, 1], y: [0, 1] });
});
