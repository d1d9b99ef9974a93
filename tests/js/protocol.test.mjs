// protocol.js: messages to frames and back, limits, the receiver's state after errors.
// (Error texts for every framing fault are checked against Python in fixtures.test.mjs.)
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { ProtocolError } from "../../docsync/static/docsync/exceptions.js";
import {
  ACK, ERROR, Expecting, MESSAGE_TYPES, Message, OK, PATCH_DOC, PULL_DOC_REQ, Receiver, error, frameNbytes,
  newMessage, ok, patchDoc, pullDocReq, sendFault, utf8Length,
} from "../../docsync/static/docsync/protocol.js";
import { countStructure, nestingDepth, parseWireJSON, stringifyWireJSON } from "../../docsync/static/docsync/wire_json.js";

function receiveAll(frames, receiver = new Receiver()) {
  return frames.map((frame) => receiver.receive(frame)).filter((message) => message !== null);
}

describe("messages", () => {
  it("have the eleven message types of the Python side", () => {
    assert.equal(MESSAGE_TYPES.size, 11);
    assert.ok(MESSAGE_TYPES.has("RESUME-REPLY"));
  });

  it("get fresh string msgids", () => {
    const ids = new Set(Array.from({ length: 100 }, () => newMessage(ACK).msgid));
    assert.equal(ids.size, 100);
    assert.ok([...ids].every((id) => typeof id === "string"));
  });

  it("refuse unknown types, reserved header fields and duplicate buffer ids", () => {
    assert.throws(() => newMessage("FOO"), { message: "unknown message type 'FOO'" });
    assert.throws(() => newMessage(ACK, {}, { headerExtra: { reqid: "1" } }), { message: "header_extra may not set 'reqid'" });
    const buffers = [["a", new Uint8Array(1)], ["a", new Uint8Array(1)]];
    assert.throws(() => newMessage(PATCH_DOC, {}, { buffers }), { message: "duplicate buffer id 'a'" });
  });

  it("frame as header, metadata, content, then id and payload per buffer", () => {
    const payload = new Float64Array([1.5, 2.5]);
    const message = newMessage(PATCH_DOC, { events: [] }, { buffers: [["0", payload]], reqid: "7" });
    const frames = message.toFrames();
    assert.equal(frames.length, 5);
    assert.deepEqual(JSON.parse(frames[0]), { msgid: message.msgid, msgtype: PATCH_DOC, reqid: "7", num_buffers: 1 });
    assert.equal(frames[3], '{"id":"0"}');
    assert.equal(frames[4], payload, "a buffer goes out as it is, without a copy");
    assert.equal(message.wireSize(), frames.slice(0, 4).reduce((n, f) => n + f.length, 0) + 16);
  });

  it("bring num_buffers in line with the buffers at framing time", () => {
    const message = newMessage(OK, {}, { reqid: "1" });
    message.buffers.push(["x", new Uint8Array(2)]);
    assert.equal(JSON.parse(message.toFrames()[0]).num_buffers, 1);
    message.buffers.length = 0;
    assert.equal("num_buffers" in JSON.parse(message.toFrames()[0]), false);
  });

  it("are built by small constructors", () => {
    const reply = ok("3");
    assert.deepEqual(reply.header, { msgid: reply.msgid, msgtype: OK, reqid: "3" });
    assert.deepEqual(error(null, "bad", "code").content, { text: "bad", code: "code" });
    assert.equal(error("2", "bad").msgtype, ERROR);
    assert.equal(pullDocReq().msgtype, PULL_DOC_REQ);
    const patch = patchDoc({ events: [1] }, [], { base: 4 });
    assert.deepEqual(patch.content, { events: [1], references: [], base: 4 });
  });

  it("refuse NaN in JSON frames instead of sending null", () => {
    assert.throws(() => newMessage(OK, { x: NaN }).toFrames(), RangeError);
    assert.equal(stringifyWireJSON({ x: null }), '{"x":null}');
  });
});

describe("Receiver", () => {
  it("reassembles what toFrames makes, binary frames as ArrayBuffer or views", () => {
    const original = newMessage(PATCH_DOC, { events: [{ a: "é" }] }, { buffers: [["0", new Uint8Array([1, 2])], ["1", new ArrayBuffer(0)]] });
    const [message] = receiveAll(original.toFrames());
    assert.deepEqual(message.header, original.header);
    assert.deepEqual(message.content, original.content);
    assert.deepEqual([...message.bufferMap().keys()], ["0", "1"]);
  });

  it("expects the next kind of frame and starts over after an error", () => {
    const receiver = new Receiver();
    assert.equal(receiver.expecting, Expecting.HEADER);
    receiver.receive(JSON.stringify({ msgid: "1", msgtype: OK, num_buffers: 1 }));
    assert.equal(receiver.expecting, Expecting.METADATA);
    receiver.receive("{}");
    receiver.receive("{}");
    assert.equal(receiver.expecting, Expecting.BUFFER_HEADER);
    assert.throws(() => receiver.receive(new Uint8Array(1)), ProtocolError);
    assert.equal(receiver.expecting, Expecting.HEADER);
    receiver.receive(JSON.stringify({ msgid: "2", msgtype: ACK }));
    receiver.receive("{}");
    assert.equal(receiver.receive("{}").msgid, "2");
  });

  it("refuses limits that are not positive integers, and frames that are neither text nor bytes", () => {
    assert.throws(() => new Receiver({ maxFrameBytes: 0 }), { message: "max_frame_bytes must be a positive integer, got 0" });
    assert.throws(() => new Receiver({ maxBuffers: 1.5 }), RangeError);
    assert.throws(() => new Receiver().receive(5), { name: "TypeError", message: "frame must be str or bytes-like, got number" });
  });

  it("counts text frames in UTF-8 bytes, a lone surrogate as three", () => {
    assert.equal(utf8Length("aé€😀"), 1 + 2 + 3 + 4);
    assert.equal(utf8Length("\ud800"), 3);
    assert.equal(frameNbytes(new Float32Array(3)), 12);
    assert.equal(frameNbytes(new ArrayBuffer(5)), 5);
  });

  it("keeps Message instances plain: a reqid is null when absent", () => {
    assert.equal(new Message({ msgid: "1", msgtype: ACK }).reqid, null);
  });
});

describe("sendFault", () => {
  const frames = (content, buffers = []) => newMessage(PATCH_DOC, content, { buffers }).toFrames();

  it("says what the server would refuse, in the server's words", () => {
    const content = { events: Array.from({ length: 10 }, (_, i) => [i]) };
    assert.equal(sendFault(frames(content), { maxFrameContainers: 5 }), "too many arrays and objects in content frame: 12 > 5");
    assert.equal(sendFault(frames(content), { maxFrameValues: 5 }), "too many values in content frame: 10 > 5");
    assert.match(sendFault(frames(content), { maxFrameBytes: 20 }), /^frame too large: \d+ > 20 bytes$/);
    const buffers = [["a", new Uint8Array(8)], ["b", new Uint8Array(8)]];
    assert.equal(sendFault(frames({}, buffers), { maxBuffers: 1 }), "too many buffers: 2 > 1");
    assert.match(sendFault(frames({}, buffers), { maxMessageBytes: 40 }), /^message too large: \d+ > 40 bytes$/);
    assert.equal(sendFault(frames(content), { maxFrameContainers: 12, maxFrameValues: 10, maxBuffers: 1 }), null);
    assert.equal(sendFault(frames(content), {}), null);
  });

  it("counts outside strings only, as the server does", () => {
    assert.deepEqual(countStructure('{"a":[1,{}],"b":"[{,:\\"\\\\"}'), { containers: 3, separators: 4 });
    assert.equal(sendFault(frames({ text: "[{,:".repeat(100) }), { maxFrameContainers: 5, maxFrameValues: 5 }), null);
  });
});

describe("wire JSON", () => {
  it("measures nesting outside strings, escapes included", () => {
    assert.equal(nestingDepth('[{"a": "[[[\\"]]"}]'), 2);
    assert.equal(nestingDepth("[[[]]]", 2), 3, "stops early once past the limit");
  });

  it("refuses what orjson refuses: deep nesting, overflowing numbers, lone surrogates", () => {
    assert.throws(() => parseWireJSON("[".repeat(129) + "]".repeat(129)), SyntaxError);
    assert.deepEqual(parseWireJSON("[".repeat(128) + "]".repeat(128)).length, 1);
    assert.throws(() => parseWireJSON('{"n": -1E+400}'), SyntaxError);
    assert.throws(() => parseWireJSON('["\\udfff"]'), SyntaxError);
    assert.throws(() => parseWireJSON('{"\\ud800": 1}'), SyntaxError);
    assert.deepEqual(parseWireJSON('["\\ud83d\\ude00", 1e308]'), ["😀", 1e308]);
  });

  it("checks the nesting of a 16 MiB frame in a fraction of the time parsing takes", () => {
    const text = JSON.stringify({ values: Array.from({ length: 1_500_000 }, (_, i) => [i, "x"]) });
    assert.ok(text.length > 16_000_000);
    let started = performance.now();
    JSON.parse(text);
    const parsing = performance.now() - started;
    started = performance.now();
    assert.equal(nestingDepth(text, 128), 3);
    assert.ok(performance.now() - started < parsing);
  });
});
