// The wire fixtures written by tests/fixtures/make_fixtures.py (docsync's Python side):
// the JavaScript client must reassemble, decode, apply and refuse exactly as Python does.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { Document } from "../../docsync/static/docsync/document.js";
import { ProtocolError } from "../../docsync/static/docsync/exceptions.js";
import { Receiver } from "../../docsync/static/docsync/protocol.js";
import { Encoder, isReference } from "../../docsync/static/docsync/serialization.js";
import { eventJSON } from "../../docsync/static/docsync/wire.js";
import { canonical, framesOf, inlineBuffers, loadFixtures, messageJSON, sortedModels } from "./helpers.mjs";

const fixtures = loadFixtures();
const ofKind = (kind) => fixtures.filter(([, fixture]) => fixture.kind === kind);

function receiveOne(frames, limits = {}) {
  const receiver = new Receiver(limits);
  const messages = frames.map((frame) => receiver.receive(frame)).filter((message) => message !== null);
  assert.equal(messages.length, 1);
  return messages[0];
}

describe("shared fixtures", () => {
  it("cover every event kind, both document fixtures and the refusals", () => {
    const kinds = new Set(ofKind("patch").flatMap(([, fixture]) => fixture.event_kinds));
    assert.deepEqual([...kinds].sort(), [
      "ColumnDataChanged", "ColumnsPatched", "ColumnsStreamed", "DictItemsDeleted", "DictItemsSet",
      "ListSpliced", "MessageSent", "ModelChanged", "RootAdded", "RootRemoved", "TitleChanged",
    ]);
    assert.ok(ofKind("document").length >= 3);
    assert.equal(ofKind("patch_refused").length, 1);
    assert.equal(ofKind("frame_cases").length, 1);
  });
});

describe("document fixtures", () => {
  for (const [name, fixture] of ofKind("document")) {
    describe(name, () => {
      const frames = framesOf(fixture.frames);

      it("reassemble into the message", () => {
        assert.deepEqual(messageJSON(receiveOne(frames)), fixture.message);
      });

      it("decode into the document", () => {
        const message = receiveOne(frames);
        assert.deepEqual(canonical(Document.fromJSON(message.content.doc, message.bufferMap())), fixture.document);
      });

      it("encode again, with buffers, into the same JSON", () => {
        const message = receiveOne(frames);
        const { doc, buffers } = Document.fromJSON(message.content.doc, message.bufferMap()).toJSON();
        assert.deepEqual(sortedModels(inlineBuffers(doc, new Map(buffers))), fixture.document);
      });

      it("decode from the canonical JSON alone (base64) into itself", () => {
        assert.deepEqual(canonical(Document.fromJSON(fixture.document)), fixture.document);
      });

      it("decode aligned little-endian arrays as views of the frames, without copies", () => {
        const message = receiveOne(frames);
        const payloads = new Set(message.buffers.map(([, data]) => data));
        const document = Document.fromJSON(message.content.doc, message.bufferMap());
        const arrays = [...document.models.values()].flatMap((model) => typedArraysIn([...model.attributes.values()]));
        const fromFrames = arrays.filter((typed) => payloads.has(typed.buffer));
        if (name === "document_values") {
          // Every array but the two big-endian ones, which must be swapped, is a view.
          const bigEndian = message.content.doc.models.flatMap((m) => JSON.stringify(m.attributes).match(/"order":"big"/g) ?? []);
          assert.equal(bigEndian.length, 2);
          assert.equal(fromFrames.length, arrays.length - bigEndian.length);
        }
      });
    });
  }
});

function typedArraysIn(values) {
  const found = [];
  const visit = (value) => {
    if (ArrayBuffer.isView(value)) found.push(value);
    else if (Array.isArray(value) || value instanceof Set) for (const item of value) visit(item);
    else if (value instanceof Map) for (const [key, item] of value) visit(key), visit(item);
    else if (value && typeof value === "object" && !isReference(value) && !(value instanceof ArrayBuffer)) {
      for (const item of Object.values(value)) visit(item);
    }
  };
  values.forEach(visit);
  return found;
}

describe("patch fixtures", () => {
  for (const [name, fixture] of ofKind("patch")) {
    describe(name, () => {
      const frames = framesOf(fixture.frames);

      it("reassemble into the message", () => {
        assert.deepEqual(messageJSON(receiveOne(frames)), fixture.message);
      });

      it("applied to the document before, give the document after", () => {
        const message = receiveOne(frames);
        const document = Document.fromJSON(fixture.before);
        const seen = [];
        document.onChange((event) => seen.push(event));
        document.applyPatch(message.content, message.bufferMap(), { setter: "server" });
        assert.deepEqual(canonical(document), fixture.after);
        assert.deepEqual(seen.map((event) => event.kind), fixture.event_kinds);
        assert.ok(seen.every((event) => event.setter === "server"));
      });

      it("decode into events that encode again into the same JSON", () => {
        const message = receiveOne(frames);
        const document = Document.fromJSON(fixture.before);
        const decoded = document.decodePatch(message.content, message.bufferMap());
        const encoder = new Encoder({ useBuffers: false });
        const expected = inlineBuffers(message.content.events, message.bufferMap());
        assert.deepEqual(decoded.events.map((event) => eventJSON(event, encoder)), expected);
      });
    });
  }
});

describe("refused patches", () => {
  const [[, fixture]] = ofKind("patch_refused");
  for (const { description, content, error_type: errorType, error } of fixture.cases) {
    it(`${description}: ${errorType}`, () => {
      const document = Document.fromJSON(fixture.before);
      const seen = [];
      document.onChange((event) => seen.push(event));
      assert.throws(
        () => document.applyPatch(content),
        (err) => {
          assert.equal(err.name, errorType);
          assert.equal(err.message, error);
          return true;
        },
      );
      assert.deepEqual(seen, []);
      assert.deepEqual(canonical(document), fixture.before);
    });
  }
});

describe("frame cases", () => {
  const [[, fixture]] = ofKind("frame_cases");
  const limitNames = { max_frame_bytes: "maxFrameBytes", max_message_bytes: "maxMessageBytes", max_buffers: "maxBuffers" };
  for (const { description, limits, frames, outcomes } of fixture.cases) {
    it(description, () => {
      const options = Object.fromEntries(Object.entries(limits).map(([key, value]) => [limitNames[key], value]));
      const receiver = new Receiver(options);
      framesOf(frames).forEach((frame, i) => {
        const outcome = outcomes[i];
        if (outcome !== null && "error" in outcome) {
          assert.throws(() => receiver.receive(frame), (err) => err instanceof ProtocolError && err.message === outcome.error);
        } else {
          const message = receiver.receive(frame);
          if (outcome === null) assert.equal(message, null, `frame ${i}`);
          else assert.deepEqual(messageJSON(message), outcome.message);
        }
      });
    });
  }
});

describe("pulls in place", () => {
  const [[, fixture]] = ofKind("pull_in_place");
  for (const { description, pulled, reported } of fixture.cases) {
    it(description, () => {
      const document = Document.fromJSON(fixture.before);
      const held = [...document._models.values()].flatMap((model) => [...model.attributes].map(([attr, value]) => [model, attr, value]));
      const seen = [];
      document.onChange((e) => {
        if (e.kind === "TitleChanged") seen.push([e.kind, e.title]);
        else if (e.kind === "ModelChanged") seen.push([e.kind, e.model.id, e.attr]);
        else seen.push([e.kind, e.model.id]);
      });
      document.replaceWithJSON(pulled, new Map(), { setter: "pull" });
      assert.deepEqual(seen, reported);
      assert.deepEqual(canonical(document), pulled);
      // A value equal to the one held keeps the object held, as in Python.
      for (const [model, attr, value] of held) {
        if (model.document === document && !seen.some((e) => e[1] === model.id && e[2] === attr)) {
          assert.equal(model.attributes.get(attr), value, `${model.id}.${attr} not kept`);
        }
      }
    });
  }
});
