// The plot view's judgement of a model change: a redraw only, or the plot's models and glyphs resolved again.
import assert from "node:assert/strict";
import { test } from "node:test";

import { ColumnsStreamedEvent, ModelChangedEvent } from "../../docsync/static/docsync/events.js";
import { Model } from "../../docsync/static/docsync/model.js";
import { paintOnly } from "../../docsync/static/docsync/views/plot.js";

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
