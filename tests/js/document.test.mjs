// document.js, model.js, patching.js: the index follows the roots, local setters
// report one fine-grained event each, patches apply atomically, a pull updates in place.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { Document } from "../../docsync/static/docsync/document.js";
import { PatchError } from "../../docsync/static/docsync/exceptions.js";
import { ndarray } from "../../docsync/static/docsync/arrays.js";
import { Model } from "../../docsync/static/docsync/model.js";
import { Encoder } from "../../docsync/static/docsync/serialization.js";
import { samePulled } from "../../docsync/static/docsync/values.js";
import { encodeEvents } from "../../docsync/static/docsync/wire.js";
import { canonical } from "./helpers.mjs";

function app() {
  const source = new Model("ColumnDataSource", { id: "source", attributes: { data: { x: new Float64Array([1, 2]), y: ["a", "b"] } } });
  const line = new Model("Line", { id: "line", attributes: { source } });
  const plot = new Model("Plot", { id: "plot", attributes: { renderers: [line], title: "t" } });
  const slider = new Model("Slider", { id: "slider", attributes: { name: "slider", value: 1 } });
  const layout = new Model("Column", { id: "layout", attributes: { children: [slider, plot] } });
  const document = new Document({ title: "App" });
  document.addRoot(layout);
  const events = [];
  document.onChange((event) => events.push(event));
  return { document, events, source, line, plot, slider, layout };
}

describe("Document index", () => {
  it("holds every model reachable from the roots, cycles included", () => {
    const { document, slider } = app();
    assert.deepEqual([...document.models.keys()].sort(), ["layout", "line", "plot", "slider", "source"]);
    assert.equal(document.getModelByName("slider"), slider);
    assert.equal(slider.document, document);
    const a = new Model("Holder", { id: "a" });
    const b = new Model("Holder", { id: "b", attributes: { other: a } });
    a.set("other", b);
    document.addRoot(a);
    assert.ok(document.models.has("b"));
  });

  it("attaches models a new value brings, and reports them with the event", () => {
    const { document, events, plot, source } = app();
    const extra = new Model("Line", { id: "line2", attributes: { source: new Model("ColumnDataSource", { id: "s2" }) } });
    plot.set("renderers", [...plot.get("renderers"), extra]);
    assert.ok(document.models.has("s2"));
    assert.deepEqual(events.at(-1).newModels.map((m) => m.id).sort(), ["line2", "s2"]);
    plot.set("renderers", []);
    assert.ok(!document.models.has("line2") && !document.models.has("source"));
    assert.equal(source.document, null);
  });

  it("drops what only a removed root reached", () => {
    const { document, layout, events } = app();
    document.removeRoot(layout);
    assert.equal(document.models.size, 0);
    assert.equal(events.at(-1).kind, "RootRemoved");
    assert.throws(() => document.removeRoot(layout), RangeError);
  });

  it("refuses two models with one id", () => {
    const { document, plot } = app();
    assert.throws(() => plot.set("extra", new Model("Slider", { id: "slider" })), /two models share the id 'slider'/);
  });
});

describe("local setters", () => {
  it("report a ModelChanged only when the value changes", () => {
    const { slider, events } = app();
    const seen = [];
    slider.onChange("value", (attr, old, value) => seen.push([attr, old, value]));
    slider.set("value", 1);
    slider.set("value", 2, "me");
    assert.deepEqual(events.map((e) => [e.kind, e.attr, e.new, e.setter]), [["ModelChanged", "value", 2, "me"]]);
    assert.deepEqual(seen, [["value", 1, 2]]);
  });

  it("tell a change as Python's setters do: -0 is not 0, NaN is NaN, a list's numbers alike", () => {
    // The cases of tests/document/test_model.py's TestWhatCountsAsAChange.
    const cases = [
      [0, -0, true],
      [-0, 0, true],
      [1, Infinity, true],
      [Number.NaN, 0, true],
      [0, Number.NaN, true],
      [Infinity, -Infinity, true],
      [Number.NaN, Number.NaN, false],
      [2, 2, false],
      [[1, 2], [1, 2], false],
      [[0], [-0], true],
      [[Number.NaN], [Number.NaN], false],
      [[1], [1, 1], true],
      [[{ a: 0 }], [{ a: -0 }], false], // a dict in a list by value, as Python's == (0.0 == -0.0)
      [["x", null], ["x", null], false],
      [[1], ["1"], true],
    ];
    for (const [old, value, changed] of cases) {
      const slider = new Model("Slider", { id: "s", attributes: { value: old } });
      const seen = [];
      slider.onChange("value", (attr, before, after) => seen.push(after));
      slider.set("value", value);
      assert.equal(seen.length, changed ? 1 : 0, `${String(old)} -> ${String(value)}`);
      assert.ok(Object.is(slider.get("value"), value));
    }
  });

  it("report splices, dict items, columns, streams and patches as themselves", () => {
    const { layout, source, events } = app();
    layout.splice("children", 0, 1, []);
    const holder = new Model("Holder", { id: "h", attributes: { values: { a: 1 } } });
    layout.splice("children", 1, 0, [holder]);
    holder.setItems("values", new Map([[2, "two"]]));
    holder.deleteItems("values", ["a"]);
    source.setColumns("data", { z: [0, 0] });
    source.stream("data", { x: [3], y: ["c"], z: [1] }, 2);
    source.patch("data", { y: [[0, "B"]] });
    assert.deepEqual(events.map((e) => e.kind), [
      "ListSpliced", "ListSpliced", "DictItemsSet", "DictItemsDeleted", "ColumnDataChanged", "ColumnsStreamed", "ColumnsPatched",
    ]);
    assert.deepEqual([...holder.get("values")], [[2, "two"]], "a non-string key turned the dict into a Map");
    assert.deepEqual([...source.get("data").x], [2, 3]);
    assert.deepEqual(source.get("data").y, ["B", "c"]);
    assert.equal(events[1].newModels[0], holder);
  });

  it("check before changing anything, naming the property", () => {
    const { layout, source, events } = app();
    assert.throws(() => layout.splice("children", 3, 0, []), { message: "splice at 3 deleting 0 out of range of Column.children" });
    assert.throws(() => source.stream("data", { x: [1] }), { name: "ValidationError", message: "ColumnDataSource.data: stream must supply every column: missing ['y'], extra []" });
    assert.throws(() => source.setColumns("data", { x: 5 }), /expected a dict of column name to ndarray or list, got \{'x': 5\}/);
    assert.throws(() => layout.deleteItems("children", ["a"]), PatchError);
    assert.deepEqual(events, []);
  });

  it("send messages as MessageSent events", () => {
    const { document, slider, events } = app();
    document.sendMessage("button_click", null, { model: slider });
    assert.deepEqual([events[0].kind, events[0].msgType, events[0].model], ["MessageSent", "button_click", slider]);
  });

  it("encode into the PATCH-DOC content the server reads, new models as references", () => {
    const { document, plot } = app();
    const encoder = new Encoder();
    const contents = [];
    document.onChange((event) => contents.push(encodeEvents([event], encoder, document.models)));
    plot.set("renderers", [new Model("Line", { id: "l2", attributes: { color: "red" } })]);
    assert.deepEqual(contents[0], {
      events: [{ kind: "ModelChanged", model: { id: "plot" }, attr: "renderers", new: [{ id: "l2" }] }],
      references: [{ type: "object", name: "Line", id: "l2", attributes: { color: "red" } }],
    });
  });
});

describe("applyPatch", () => {
  it("applies every event or none", () => {
    const { document, slider, events } = app();
    const before = canonical(document);
    const content = {
      events: [
        { kind: "ModelChanged", model: { id: "slider" }, attr: "value", new: 5 },
        { kind: "ListSpliced", model: { id: "layout" }, attr: "children", index: 9, delete: 0, items: [] },
      ],
    };
    assert.throws(() => document.applyPatch(content), { name: "PatchError" });
    assert.equal(slider.get("value"), 1);
    assert.deepEqual(canonical(document), before);
    assert.deepEqual(events, []);
  });

  it("checks later events against the state earlier ones leave", () => {
    const { document, source } = app();
    document.applyPatch({
      events: [
        { kind: "ColumnsStreamed", model: { id: "source" }, attr: "data", data: { x: [3], y: ["c"] }, rollover: null },
        { kind: "ColumnsPatched", model: { id: "source" }, attr: "data", patches: { y: [[2, "C"]] } },
        { kind: "ModelChanged", model: { id: "plot" }, attr: "tags", new: ["a"] },
        { kind: "ListSpliced", model: { id: "plot" }, attr: "tags", index: 1, delete: 0, items: ["b"] },
        { kind: "DictItemsSet", model: { id: "plot" }, attr: "extra", items: { k: 1 } },
        { kind: "DictItemsDeleted", model: { id: "plot" }, attr: "extra", keys: ["k"] },
      ],
    });
    assert.deepEqual(source.get("data").y, ["a", "b", "C"]);
    assert.deepEqual(document.getModelById("plot").get("tags"), ["a", "b"]);
    assert.deepEqual(document.getModelById("plot").get("extra"), {});
  });

  it("refuses None where a collection is edited, as Python does", () => {
    const { document } = app();
    document.getModelById("plot").set("tags", null);
    assert.throws(
      () => document.applyPatch({ events: [{ kind: "ListSpliced", model: { id: "plot" }, attr: "tags", index: 0, delete: 0, items: [] }] }),
      { message: "Plot.tags is None, not a list" },
    );
  });

  it("attaches the models its references define, with the setter on every event", () => {
    const { document } = app();
    const seen = [];
    document.onChange((event) => seen.push(event));
    document.applyPatch(
      {
        events: [{ kind: "RootAdded", model: { id: "div" } }],
        references: [{ type: "object", name: "Div", id: "div", attributes: { text: "hi" } }],
      },
      [],
      { setter: "server" },
    );
    assert.equal(document.roots.at(-1).get("text"), "hi");
    assert.deepEqual(seen.map((e) => [e.kind, e.setter]), [["RootAdded", "server"]]);
  });

  it("refuses an event of no known kind before looking up its model, as wire.py does", () => {
    const { document } = app();
    const decode = (event) => () => document.decodePatch({ events: [event] }, [], { skipUnknown: true });
    assert.throws(decode({ kind: "Frobnicated", model: { id: "zz" } }), { name: "PatchError", message: "unknown event kind 'Frobnicated'" });
    assert.throws(decode({ attr: "value", new: 1 }), { name: "PatchError", message: "unknown event kind None" });
  });

  it("with keepKnown, keeps the models it holds that a correction defines again", () => {
    // A title set to a string dropped the Title; the correction defines it and the plot.
    const { document, plot, layout } = app();
    const content = {
      events: [{ kind: "ModelChanged", model: { id: "layout" }, attr: "children", new: [{ id: "plot" }, { id: "title" }] }],
      references: [
        { type: "object", name: "Plot", id: "plot", attributes: { title: "stale" } },
        { type: "object", name: "Title", id: "title", attributes: { text: "back" } },
      ],
    };
    assert.throws(() => document.decodePatch(content), /duplicate model id 'plot'/);
    const decoded = document.decodePatch(content, [], { keepKnown: true });
    assert.deepEqual([...decoded.newModels.keys()], ["title"]);
    document.applyPatch(decoded);
    assert.equal(layout.get("children")[0], plot);
    assert.equal(plot.get("title"), "t");
    assert.equal(document.getModelById("title").get("text"), "back");
    const clash = { events: [], references: [{ type: "object", name: "Div", id: "plot" }] };
    assert.throws(() => document.decodePatch(clash, [], { keepKnown: true }), /duplicate model id 'plot'/);
  });
});

describe("replaceWithJSON", () => {
  it("updates models in place, reporting only what differs", () => {
    const { document, slider, source, events } = app();
    const { doc, buffers } = document.toJSON();
    const changed = structuredClone(doc);
    changed.title = "New";
    changed.models.find((m) => m.id === "slider").attributes.value = 7;
    changed.models.find((m) => m.id === "plot").attributes.renderers = [];
    changed.models.push({ type: "object", name: "Div", id: "div", attributes: {} });
    changed.roots.push({ id: "div" });
    document.replaceWithJSON(changed, buffers, { setter: "pull" });
    assert.equal(document.getModelById("slider"), slider, "the same model object");
    assert.equal(slider.get("value"), 7);
    assert.equal(source.document, null, "no longer reachable");
    assert.deepEqual(events.map((e) => [e.kind, e.attr ?? e.title ?? e.model.id, e.setter]), [
      ["TitleChanged", "New", "pull"],
      ["ModelChanged", "renderers", "pull"],
      ["ModelChanged", "value", "pull"],
      ["RootAdded", "div", "pull"],
    ]);
    const again = structuredClone(changed);
    delete again.models.find((m) => m.id === "slider").attributes.value;
    events.length = 0;
    document.replaceWithJSON(again, buffers);
    assert.equal(slider.has("value"), false);
    assert.deepEqual(events.map((e) => [e.kind, e.new]), [["ModelChanged", undefined]]);
  });

  it("lays the pulled values over a model the page holds out of the document: one object per id", () => {
    // As Python's PulledDocument (tests/document/test_pulled.py); before, a second slider
    // was built and the page's stayed stale (convergence, seed 916366525).
    const { document, slider, layout, events } = app();
    const { doc, buffers } = document.toJSON();
    layout.splice("children", 0, 1); // the page takes the slider out and keeps it
    slider.trackChangesOut(); // (as a page's outbox does for a model its change took out)
    slider.set("value", 3);
    const pulled = structuredClone(doc);
    pulled.models.find((m) => m.id === "slider").attributes = { name: "slider", value: 9 };
    events.length = 0;
    document.replaceWithJSON(pulled, buffers, { setter: "pull" });
    assert.equal(document.getModelById("slider"), slider);
    assert.equal(layout.get("children")[0], slider);
    assert.equal(slider.get("value"), 9);
    assert.deepEqual(slider.changedOut(), []); // its values are the server's: none to send back
    assert.deepEqual(events.map((e) => [e.kind, e.attr]), [["ModelChanged", "children"]]);
  });

  it("changes nothing when the JSON is refused", () => {
    const { document, events } = app();
    const before = canonical(document);
    assert.throws(() => document.replaceWithJSON({ roots: [{ id: "nope" }], models: [] }), { message: "root is not a defined model: {'id': 'nope'}" });
    assert.deepEqual(canonical(document), before);
    assert.deepEqual(events, []);
  });
});

describe("samePulled", () => {
  it("compares typed arrays by dtype, shape and bytes, aligned or not", () => {
    const bytes = new Uint8Array(17);
    const odd = new Float64Array(bytes.buffer.slice(1, 17));
    odd[0] = Number.NaN;
    odd[1] = -0;
    const unaligned = new Uint8Array(bytes.buffer, 1, 16);
    unaligned.set(new Uint8Array(odd.buffer));
    assert.ok(samePulled(new Float64Array([Number.NaN, -0]), odd));
    assert.ok(!samePulled(new Float64Array([Number.NaN, 0]), odd), "0 is not -0");
    assert.ok(samePulled(unaligned, new Uint8Array(odd.buffer)), "byte by byte where not aligned");
    assert.ok(!samePulled(new Uint8Array([1, 0]), ndarray(new Uint8Array([1, 0]), { dtype: "bool" })), "uint8 is not bool");
    assert.ok(!samePulled(new Int32Array(4), ndarray(new Int32Array(4), { shape: [2, 2] })), "shape");
    assert.ok(!samePulled(new Int32Array(4), new Uint32Array(4)), "dtype");
    assert.ok(!samePulled(new Int8Array(5), new Int8Array(6)));
    assert.ok(samePulled(new Uint8Array([1, 2, 3]).buffer, new Uint8Array([1, 2, 3]).buffer), "bytes");
  });

  it("compares lists and dicts item by item in order, models by identity", () => {
    const model = new Model("Div");
    assert.ok(samePulled({ a: [1, Number.NaN], b: model }, { a: [1, Number.NaN], b: model }));
    assert.ok(!samePulled({ a: 1, b: 2 }, { b: 2, a: 1 }), "another order");
    assert.ok(!samePulled([model], [new Model("Div", { id: model.id })]), "another object");
    assert.ok(samePulled(new Map([[[1, 2], "x"]]), new Map([[[1, 2], "x"]])), "tuple keys by value");
    assert.ok(samePulled(new Set([1, "a"]), new Set(["a", 1])), "a set in any order");
    assert.ok(!samePulled(-0, 0) && samePulled(Number.NaN, Number.NaN) && !samePulled(1, "1") && !samePulled(null, undefined));
  });
});

describe("Model.spliceOut", () => {
  // A client applies so a server's splice it skipped to the object of a model out of its
  // document (convergence, seed 2138669479): the server's value, not one to send back.
  it("applies another origin's splice without noting it as changed out", () => {
    const note = new Model("test.Note", { id: "note", attributes: { tags: ["w", "x", "y"] } });
    note.trackChangesOut();
    note.spliceOut("tags", 0, 1, []);
    assert.deepEqual(note.get("tags"), ["x", "y"]);
    assert.deepEqual(note.changedOut(), []);
    note.trackChangesOut();
    note.splice("tags", 2, 0, ["z"]); // its own change while out: noted
    note.spliceOut("tags", 0, 0, ["v"]);
    assert.deepEqual(note.get("tags"), ["v", "x", "y", "z"]);
    assert.deepEqual(note.changedOut(), ["tags"]);
  });
});

describe("Model.changeOut", () => {
  // The same for any other change a client skipped (convergence, seed 6500002493).
  it("applies another origin's change without noting it as changed out", () => {
    const note = new Model("test.Note", { id: "note", attributes: { tags: ["w"] } });
    note.trackChangesOut();
    note.changeOut("tags", () => note.set("tags", ["x"]));
    assert.deepEqual(note.get("tags"), ["x"]);
    assert.deepEqual(note.changedOut(), []);
    note.trackChangesOut();
    note.set("tags", ["y"]); // its own change while out: noted
    note.changeOut("tags", () => note.set("tags", ["z"]));
    assert.deepEqual(note.get("tags"), ["z"]);
    assert.deepEqual(note.changedOut(), ["tags"]);
  });
});
