// The other direction: the same changes made through the JavaScript setters must give
// the PATCH-DOC content the Python side wrote in each patch fixture (so that what a
// browser sends is what the server already knows how to apply), and the same document.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { ndarray } from "../../docsync/static/docsync/arrays.js";
import { Document } from "../../docsync/static/docsync/document.js";
import { Model } from "../../docsync/static/docsync/model.js";
import { Encoder, IsoDate } from "../../docsync/static/docsync/serialization.js";
import { encodeEvents } from "../../docsync/static/docsync/wire.js";
import { canonical, framesOf, inlineBuffers, loadFixtures } from "./helpers.mjs";
import { Receiver } from "../../docsync/static/docsync/protocol.js";

const fixtures = new Map(loadFixtures());
const bool = (...values) => ndarray(Uint8Array.from(values, Number), { dtype: "bool" });
const int64 = (...values) => BigInt64Array.from(values, BigInt);

const CHANGES = {
  patch_model_changed(doc, m) {
    m("slider").set("value", 5.5);
    m("text").set("value", "new ✓");
    m("toggle").set("active", false);
    m("holder").set("value", NaN);
    m("range").set("value", [0.1, 0.9]);
    m("date").set("value", new IsoDate("2025-01-01"));
    m("select").set("options", ["x", "y"]);
    m("plot").set("x_range", null);
  },
  patch_model_changed_attach(doc, m) {
    const data = { x: new Float64Array([0, 1, 2]), y: [1, 2, 3] };
    const extra = new Model("ColumnDataSource", { id: "source2", attributes: { data } });
    const line = new Model("Line", { id: "line2" });
    const renderer = new Model("GlyphRenderer", { id: "r-line2", attributes: { data_source: extra, glyph: line } });
    m("plot").set("renderers", [...m("plot").get("renderers"), renderer]);
  },
  patch_model_changed_detach(doc, m) {
    m("layout").set("children", m("layout").get("children").slice(0, 3));
  },
  patch_column_data_changed(doc, m) {
    m("source").setColumns("data", { y: int64(5, 6, 7, 8, 9) });
    m("source").setColumns("data", { label: ["v", "w", "x", "y", "z"] });
    m("source").setColumns("data", { x: new Float64Array(5), extra: new Float32Array(5).fill(1) });
  },
  patch_columns_streamed(doc, m) {
    const rows = { x: new Float64Array([2, 3]), y: int64(5, 6), flag: bool(1, 1), f32: new Float32Array([5.5, 6.5]), label: ["f", "g"] };
    m("source").stream("data", rows);
    m("source").stream("data", { x: [0.5], y: [10], flag: [false], f32: [1.5], label: ["h"] }, 6);
    m("matrix").stream("data", { m: ndarray(new Float64Array([10, 11]), { shape: [1, 2] }), u: new Uint8Array([7]) }, 3);
  },
  patch_columns_patched(doc, m, Slice) {
    m("source").patch("data", {
      x: [[0, 100], [new Slice(1, 3), [101, 102]]],
      y: [[4, 99], [new Slice(0, 2), int64(7, 8)]],
      label: [[new Slice(0, 5, 2), ["P", "Q", "R"]]],
      flag: [[1, true]],
    });
    m("matrix").patch("data", { m: [[0, [9, 9.5]]], u: [[new Slice(null, null, 2), new Uint8Array([5, 6])]] });
  },
  patch_list_spliced(doc, m) {
    const select = m("select");
    select.splice("options", 3, 0, ["d"]);
    select.splice("options", 0, 0, ["z"]);
    select.splice("options", 1, 1, []);
    select.splice("options", 0, 2, ["m", "n", "o"]);
    m("layout").splice("children", m("layout").get("children").length, 0, [new Model("Div", { id: "div2", attributes: { text: "appended" } })]);
    m("holder").splice("items", m("holder").get("items").length - 1, 1, []);
  },
  patch_dict_items_set(doc, m) {
    m("holder").setItems("values", { c: 3 });
    m("holder").setItems("values", { a: 10, nested: { k: [1, 2] } });
    m("holder").setItems("mapping", new Map([[5, "five"]]));
    m("holder").setItems("mapping", new Map([[[7, 8], new Float64Array([0, 1])]]));
  },
  patch_dict_items_deleted(doc, m) {
    m("holder").deleteItems("values", ["a"]);
    m("holder").deleteItems("mapping", [1]);
    m("source").deleteItems("data", ["label"]);
  },
  patch_root_added(doc) {
    const button = new Model("Button", { id: "button2", attributes: { label: "Second" } });
    doc.addRoot(new Model("Column", { id: "column2", attributes: { children: [button] } }));
  },
  patch_root_removed(doc, m) {
    doc.removeRoot(m("matrix"));
  },
  patch_title_changed(doc) {
    doc.setTitle("Nouveau titre ✓");
  },
  patch_message_sent(doc, m) {
    doc.sendMessage("notice", { text: "hi", values: int64(0, 1, 2) });
    doc.sendMessage("button_click", null, { model: m("button") });
  },
  patch_mixed(doc, m, Slice) {
    m("source").stream("data", { x: [7], y: [7], flag: [true], f32: [7], label: ["new"] });
    m("source").patch("data", { label: [[5, "patched new row"]], x: [[5, 70]] });
    m("select").set("options", ["p", "q"]);
    m("select").splice("options", 2, 0, ["r"]);
    m("select").splice("options", 0, 0, ["o"]);
    const div = new Model("Div", { id: "div3", attributes: { text: "third root" } });
    doc.addRoot(div);
    doc.removeRoot(div);
    doc.setTitle("Mixed");
  },
};

const byId = (items) => [...items].sort((a, b) => (a.id < b.id ? -1 : 1));

describe("local changes give the fixtures' patches", async () => {
  const { Slice } = await import("../../docsync/static/docsync/columns.js");
  for (const [name, change] of Object.entries(CHANGES)) {
    it(name, () => {
      const fixture = fixtures.get(name);
      const document = Document.fromJSON(fixture.before);
      const encoder = new Encoder();
      const events = [];
      const references = [];
      // Encoded as each change is made, as the connection does.
      document.onChange((event) => {
        const part = encodeEvents([event], encoder, document.models);
        events.push(...part.events);
        references.push(...part.references.filter((ref) => !references.some((r) => r.id === ref.id)));
      });
      change(document, (id) => document.getModelById(id), Slice);
      const receiver = new Receiver();
      const message = framesOf(fixture.frames).map((f) => receiver.receive(f)).find(Boolean);
      const buffers = new Map(encoder.buffers);
      assert.deepEqual(inlineBuffers(events, buffers), inlineBuffers(message.content.events, message.bufferMap()));
      assert.deepEqual(byId(inlineBuffers(references, buffers)), byId(inlineBuffers(message.content.references, message.bufferMap())));
      assert.deepEqual(canonical(document), fixture.after);
    });
  }
});
