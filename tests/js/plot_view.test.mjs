// The plot view's judgement of a model change: a redraw only, or the plot's models and glyphs resolved again
// (a stream: when the rows arrive or at the next draw).
import assert from "node:assert/strict";
import { test } from "node:test";

import { ColumnsStreamedEvent, ModelChangedEvent } from "../../docsync/static/docsync/events.js";
import { Model } from "../../docsync/static/docsync/model.js";
import { cheapToCatchUp, paintOnly } from "../../docsync/static/docsync/views/plot.js";
import { defaultOf } from "../../docsync/static/docsync/views/defaults.js";
import { resolveGlyph, resolveLook } from "../../docsync/static/docsync/views/plotting/glyphs.js";

const changed = (model, attr, old, value) => new ModelChangedEvent(model, attr, old, value);

test("a title's text, an axis label, a legend's place, a plot's size: a redraw only", () => {
  const plot = new Model("Plot");
  for (const [type, attr, old, value] of [
    ["Title", "text", "a", "b"],
    ["LinearAxis", "axis_label", null, "x"],
    ["DatetimeTickFormatter", "context", null, "%F"],
    ["BasicTicker", "desired_num_ticks", 6, 10],
    ["Legend", "location", "top_right", "top_left"],
    ["LegendItem", "label", { value: "a" }, { value: "b" }],
    ["Span", "location", 1, 2],
    ["ColorBar", "title", null, "count"],
  ]) {
    const model = new Model(type);
    assert.equal(paintOnly(model, changed(model, attr, old, value), plot), true, `${type}.${attr}`);
  }
  assert.equal(paintOnly(plot, changed(plot, "height", 300, 400), plot), true);
});

test("a change touching glyphs, their data or looks, or which models are held resolves again", () => {
  const plot = new Model("Plot");
  const title = new Model("Title");
  const formatter = new Model("NumeralTickFormatter");
  const axis = new Model("LinearAxis");
  const line = new Model("Line");
  const mapper = new Model("LinearColorMapper");
  const renderer = new Model("GlyphRenderer");
  assert.equal(paintOnly(line, changed(line, "line_color", "red", "blue"), plot), false, "a glyph's look");
  assert.equal(paintOnly(mapper, changed(mapper, "palette", [], ["#000"]), plot), false, "a mapper's palette");
  assert.equal(paintOnly(renderer, changed(renderer, "glyph", line, new Model("Step")), plot), false);
  assert.equal(paintOnly(axis, changed(axis, "formatter", null, formatter), plot), false, "a model newly held");
  assert.equal(paintOnly(plot, changed(plot, "title", title, "text"), plot), false, "a model let go");
  assert.equal(paintOnly(plot, changed(plot, "below", [], [axis]), plot), false);
  const other = new Model("Plot");
  assert.equal(paintOnly(other, changed(other, "height", 1, 2), plot), false, "another plot");
  const source = new Model("ColumnDataSource");
  assert.equal(paintOnly(source, new ColumnsStreamedEvent(source, "data", { x: [1] }, null), plot), false);
});

test("a streamed-into glyph catches up as rows arrive only when that costs the new rows alone", () => {
  const prop = (attr, model) => model.get(attr) ?? defaultOf(model.type, attr) ?? null;
  const entryOf = (glyph, data) => {
    const renderer = new Model("GlyphRenderer", { attributes: { glyph } });
    const r = resolveGlyph(glyph, data, prop, { x: null, y: null });
    return { renderer, r, looks: { glyph: resolveLook(glyph, glyph.type, data, r.n, prop), hover: null } };
  };
  const typed = { x: new Float64Array([1, 2, 3]), y: new Float64Array([4, 5, 6]), c: ["red", "blue", "red"], t: ["a", "b", "c"] };
  const line = new Model("Line", { attributes: { x: { field: "x" }, y: { field: "y" }, line_color: { value: "red" } } });
  const entry = entryOf(line, typed);
  assert.equal(cheapToCatchUp(entry, typed, prop), true, "typed columns, constant looks");
  // After a stream the columns may live in new, larger buffers: still their own rows.
  const grown = { ...typed, x: new Float64Array([1, 2, 3, 4]), y: new Float64Array([4, 5, 6, 7]) };
  assert.equal(cheapToCatchUp(entry, grown, prop), true, "the same columns, grown");
  const lists = { x: [1, 2, 3], y: [4, 5, 6] };
  assert.equal(cheapToCatchUp(entryOf(line, lists), lists, prop), false, "list columns are copied at each resolve");
  const coloured = new Model("Scatter", { attributes: { x: { field: "x" }, y: { field: "y" }, fill_color: { field: "c" } } });
  assert.equal(cheapToCatchUp(entryOf(coloured, typed), typed, prop), false, "a colour per row");
  const text = new Model("Text", { attributes: { x: { field: "x" }, y: { field: "y" }, text: { field: "t" } } });
  assert.equal(cheapToCatchUp(entryOf(text, typed), typed, prop), false, "strings per row");
});
