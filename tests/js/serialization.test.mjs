// serialization.js and arrays.js: typed values both ways, ndarrays over the received
// bytes without copies wherever a typed array can start there.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  NATIVE_ORDER, arrayFromBuffer, decodeBase64, dtypeOf, encodeBase64, ndarray, shapeOf,
} from "../../docsync/static/docsync/arrays.js";
import { DeserializationError, SerializationError } from "../../docsync/static/docsync/exceptions.js";
import { Decoder, Encoder, IsoDate, IsoDateTime, IsoTime, MODEL_REF, isIsoTime } from "../../docsync/static/docsync/serialization.js";

const decode = (value, buffers = new Map()) => new Decoder(buffers).decode(value);
const encode = (value) => new Encoder({ useBuffers: false }).encode(value);
const ndarrayJSON = (buffer, dtype, shape, order = "little") => ({ type: "ndarray", buffer, dtype, shape, order });

describe("Decoder", () => {
  it("decodes special numbers, maps, sets and nested plain values", () => {
    assert.deepEqual(decode([1, "a", null, true, { type: "number", value: "-inf" }]), [1, "a", null, true, -Infinity]);
    assert.ok(Number.isNaN(decode({ type: "number", value: "nan" })));
    const map = decode({ type: "map", entries: [[[1, 2], "tuple"], [[1, 2], "again"], [null, 0]] });
    assert.ok(map instanceof Map);
    assert.equal(map.size, 2, "tuple keys compare by value, as in Python");
    assert.deepEqual([...map.values()], ["again", 0]);
    const set = decode({ type: "set", entries: [1, 1, [2], [2]] });
    assert.equal(set.size, 2);
    assert.deepEqual(decode({ a: { b: [] } }), { a: { b: [] } });
  });

  it("keeps a '__proto__' key as an entry, never as the prototype", () => {
    const value = decode(JSON.parse('{"__proto__": {"polluted": 1}}'));
    assert.equal(Object.getPrototypeOf(value), Object.prototype);
    assert.deepEqual(Object.keys(value), ["__proto__"]);
    assert.equal({}.polluted, undefined);
  });

  it("decodes an aligned float64 array as a view of the received bytes", () => {
    const frame = new ArrayBuffer(8 * 4);
    new Float64Array(frame).set([0, 1.5, 2.5, 3.5]);
    const view = new Uint8Array(frame, 8, 24); // a buffer that starts inside a larger one
    const array = decode(ndarrayJSON("0", "float64", [3]), new Map([["0", view]]));
    assert.ok(array instanceof Float64Array);
    assert.equal(array.buffer, frame, "no copy");
    assert.equal(array.byteOffset, 8);
    assert.deepEqual([...array], [1.5, 2.5, 3.5]);
  });

  it("copies only when a typed array cannot start at the bytes", () => {
    const frame = new ArrayBuffer(17);
    new Uint8Array(frame, 1).set(new Uint8Array(new Float64Array([4.25, -1]).buffer));
    const array = decode(ndarrayJSON("0", "float64", [2]), new Map([["0", new Uint8Array(frame, 1, 16)]]));
    assert.notEqual(array.buffer, frame);
    assert.deepEqual([...array], [4.25, -1]);
  });

  it("swaps big-endian arrays into the host's order", () => {
    assert.equal(NATIVE_ORDER, "little");
    const bytes = new Uint8Array([0, 0, 0, 1, 0, 0, 1, 0]);
    const array = decode(ndarrayJSON("0", "int32", [2], "big"), new Map([["0", bytes]]));
    assert.deepEqual([...array], [1, 256]);
    assert.deepEqual([...bytes], [0, 0, 0, 1, 0, 0, 1, 0], "the received bytes stay as they were");
  });

  it("decodes int64 and uint64 as BigInt arrays, bool as a Uint8Array that stays bool", () => {
    const int64 = decode({ type: "ndarray", base64: encodeBase64(new BigInt64Array([-(2n ** 63n), 5n])), dtype: "int64", shape: [2], order: "little" });
    assert.ok(int64 instanceof BigInt64Array);
    assert.deepEqual([...int64], [-(2n ** 63n), 5n]);
    const uint64 = decode({ type: "ndarray", base64: encodeBase64(new BigUint64Array([2n ** 64n - 1n])), dtype: "uint64", shape: [1], order: "little" });
    assert.deepEqual([...uint64], [2n ** 64n - 1n]);
    const flags = decode({ type: "ndarray", base64: "AQAB", dtype: "bool", shape: [3], order: "little" });
    assert.ok(flags instanceof Uint8Array);
    assert.equal(dtypeOf(flags), "bool");
    assert.equal(encode(flags).dtype, "bool");
  });

  it("keeps the shape of multi-dimensional arrays", () => {
    const matrix = decode({ type: "ndarray", base64: encodeBase64(new Int16Array(6)), dtype: "int16", shape: [2, 3], order: "little" });
    assert.deepEqual(shapeOf(matrix), [2, 3]);
    assert.deepEqual(encode(matrix).shape, [2, 3]);
  });

  it("decodes bytes as an ArrayBuffer: the frame itself when it is the whole frame", () => {
    const frame = new Uint8Array([1, 2, 3]).buffer;
    assert.equal(decode({ type: "bytes", buffer: "0" }, new Map([["0", frame]])), frame);
    const part = decode({ type: "bytes", buffer: "0" }, new Map([["0", new Uint8Array(frame, 1)]]));
    assert.deepEqual([...new Uint8Array(part)], [2, 3]);
  });

  it("keeps dates and datetimes exactly, microseconds and offsets included", () => {
    const date = decode({ type: "date", iso: "2024-02-29" });
    assert.ok(date instanceof IsoDate);
    assert.equal(date.toDate().toISOString(), "2024-02-29T00:00:00.000Z");
    const stamp = decode({ type: "datetime", iso: "2024-01-02T03:04:05.123456-05:00" });
    assert.ok(stamp instanceof IsoDateTime);
    assert.equal(stamp.toDate().toISOString(), "2024-01-02T08:04:05.123Z");
    assert.deepEqual(encode([date, stamp]), [{ type: "date", iso: "2024-02-29" }, { type: "datetime", iso: stamp.iso }]);
    assert.deepEqual(encode(new Date(Date.UTC(2020, 0, 1))), { type: "datetime", iso: "2020-01-01T00:00:00.000Z" });
  });

  it("keeps times of day exactly and refuses impossible ones", () => {
    const time = decode({ type: "time", iso: "23:59:59.500000+05:30" });
    assert.ok(time instanceof IsoTime);
    assert.deepEqual(encode(time), { type: "time", iso: "23:59:59.500000+05:30" });
    for (const good of ["13:05", "13:05:07", "00:00:00Z"]) assert.ok(isIsoTime(good), good);
    for (const bad of ["24:00", "12:60", "12:00:61", "13", "1pm", 1305]) assert.ok(!isIsoTime(bad), String(bad));
    assert.throws(() => decode({ type: "time", iso: "24:00" }), /invalid time '24:00'/);
  });

  it("resolves references through resolveRef", () => {
    const model = { id: "m1", [MODEL_REF]: true };
    const decoder = new Decoder(new Map(), { resolveRef: (id) => (id === "m1" ? model : null) });
    assert.equal(decoder.decode([{ id: "m1" }])[0], model);
    assert.throws(() => decode({ id: "nope" }), { name: "DeserializationError", message: "reference to unknown model id 'nope'" });
  });

  it("refuses arrays too large, nested too deep and shapes that hide a huge size", () => {
    const decoder = new Decoder(new Map(), { maxArrayElements: 10, maxDepth: 3 });
    assert.throws(() => decoder.decode({ type: "ndarray", base64: "", dtype: "uint8", shape: [11], order: "little" }), {
      message: "ndarray too large: 11 > 10 elements",
    });
    assert.throws(() => decoder.decode({ type: "ndarray", base64: "", dtype: "uint8", shape: [0, 1e9], order: "little" }), {
      message: "ndarray too large: 1000000000 > 10 elements",
    });
    assert.throws(() => decoder.decode([[[[1]]]]), { message: "value nested deeper than 3 levels" });
    // Depth counts JSON levels, as in Python: a map's value is three below it, a set's item two.
    assert.throws(() => decoder.decode({ type: "map", entries: [[1, [1]]] }), { message: "value nested deeper than 3 levels" });
    assert.deepEqual(decoder.decode({ type: "map", entries: [[1, 2]] }), new Map([[1, 2]]));
    assert.deepEqual([...decoder.decode({ type: "set", entries: [[1]] })], [[1]]);
    assert.throws(() => decoder.decode({ type: "set", entries: [[[1]]] }), { message: "value nested deeper than 3 levels" });
  });
});

describe("Encoder", () => {
  it("writes dicts as JSON objects unless they could be mistaken for a typed value or a reference", () => {
    assert.deepEqual(encode({ a: 1 }), { a: 1 });
    assert.deepEqual(encode({ type: "x" }), { type: "map", entries: [["type", "x"]] });
    assert.deepEqual(encode({ id: "x" }), { type: "map", entries: [["id", "x"]] });
    assert.deepEqual(encode(new Map([["a", 1]])), { a: 1 });
    assert.deepEqual(encode(new Map([[1, [2, 3]]])), { type: "map", entries: [[1, [2, 3]]] });
    assert.deepEqual(encode(new Set(["a"])), { type: "set", entries: ["a"] });
    assert.deepEqual(encode([NaN, Infinity]), [{ type: "number", value: "nan" }, { type: "number", value: "+inf" }]);
  });

  it("sends arrays and bytes as buffers that are views of their memory", () => {
    const encoder = new Encoder({ bufferPrefix: "p" });
    const array = new Float32Array([1, 2]);
    const json = encoder.encode({ a: array, b: new Uint8Array([9]).buffer });
    assert.deepEqual(json.a, { type: "ndarray", buffer: "p0", dtype: "float32", shape: [2], order: "little" });
    assert.deepEqual(json.b, { type: "bytes", buffer: "p1" });
    const [, payload] = encoder.buffers[0];
    assert.equal(payload.buffer, array.buffer, "no copy");
  });

  it("collects the models it meets", () => {
    const encoder = new Encoder();
    const model = { id: "m", [MODEL_REF]: true };
    assert.deepEqual(encoder.encode([model, { k: model }]), [{ id: "m" }, { k: { id: "m" } }]);
    assert.deepEqual([...encoder.referenced.keys()], ["m"]);
  });

  it("refuses what cannot travel", () => {
    assert.throws(() => encode(undefined), SerializationError);
    assert.throws(() => encode(() => 1), SerializationError);
    assert.throws(() => encode(2n ** 60n), SerializationError);
    assert.equal(encode(2n ** 40n), 2 ** 40);
  });
});

describe("arrays", () => {
  it("tag typed arrays with what their class cannot say", () => {
    const flags = ndarray(new Uint8Array(4), { dtype: "bool", shape: [2, 2] });
    assert.equal(dtypeOf(flags), "bool");
    assert.deepEqual(shapeOf(flags), [2, 2]);
    assert.throws(() => ndarray(new Float32Array(3), { dtype: "float64" }), TypeError);
    assert.throws(() => ndarray(new Float32Array(3), { shape: [2, 2] }), TypeError);
    assert.deepEqual(shapeOf(new Int8Array(3)), [3]);
  });

  it("check buffers against dtype, shape and byte order", () => {
    const bytes = new Uint8Array(8);
    assert.throws(() => arrayFromBuffer(bytes, "float64", [2], "little", 100), {
      name: "DeserializationError",
      message: "buffer length 8 does not match float64[2] (16 bytes)",
    });
    assert.throws(() => arrayFromBuffer(bytes, "object", [1], "little", 100), { message: "dtype not allowed: 'object'" });
    assert.throws(() => arrayFromBuffer(bytes, "uint8", "8", "little", 100), { message: "invalid ndarray shape '8'" });
    assert.throws(() => arrayFromBuffer(bytes, "uint8", [8], null, 100), { message: "invalid byte order None" });
    assert.deepEqual(shapeOf(arrayFromBuffer(new Uint8Array(8), "float64", [], "little", 100)), []);
  });

  it("decode only strict base64", () => {
    assert.deepEqual([...new Uint8Array(decodeBase64("AAEC"))], [0, 1, 2]);
    for (const bad of ["AAE", "AA E", "A===", "AA=A", 5]) assert.throws(() => decodeBase64(bad), DeserializationError);
    const large = new Uint8Array(200_000).map((_, i) => i % 251);
    assert.deepEqual(new Uint8Array(decodeBase64(encodeBase64(large))), large);
  });
});

describe("epochMillis", () => {
  it("is a date's or datetime's milliseconds since 1970 UTC, as Bokeh stores it in a column", () => {
    const at = Date.UTC(2026, 11, 3, 13, 5, 16);
    assert.equal(new IsoDateTime("2026-12-03T13:05:16").epochMillis(), at, "naive: UTC, whatever the browser's zone");
    assert.equal(new IsoDateTime("2026-12-03 13:05:16").epochMillis(), at);
    assert.equal(new IsoDateTime("2026-12-03T13:05:16.250999").epochMillis(), at + 250, "microseconds dropped");
    assert.equal(new IsoDateTime("2026-12-03T13:05:16Z").epochMillis(), at);
    assert.equal(new IsoDateTime("2026-12-03T14:05:16+01:00").epochMillis(), at);
    assert.equal(new IsoDateTime("2026-12-03T08:05:16-0500").epochMillis(), at);
    assert.equal(new IsoDateTime("2026-12-03T13:05").epochMillis(), at - 16_000);
    assert.equal(new IsoDateTime("2026-12-03").epochMillis(), Date.UTC(2026, 11, 3));
    assert.equal(new IsoDate("2026-12-03").epochMillis(), Date.UTC(2026, 11, 3));
  });
});
