// columns.js: streaming and patching column data with Python's rules.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { dtypeOf, ndarray, shapeOf } from "../../docsync/static/docsync/arrays.js";
import {
  ColumnShape, Slice, applyPatches, checkPatches, checkStream, joinColumn, rowCount, rowsAfterStream,
} from "../../docsync/static/docsync/columns.js";
import { ValidationError } from "../../docsync/static/docsync/exceptions.js";

describe("streaming", () => {
  it("appends rows and keeps the last `rollover` rows", () => {
    assert.deepEqual([...joinColumn(new Float64Array([1, 2, 3]), new Float64Array([4, 5]), null)], [1, 2, 3, 4, 5]);
    assert.deepEqual([...joinColumn(new Float64Array([1, 2, 3]), new Float64Array([4, 5]), 3)], [3, 4, 5]);
    assert.deepEqual([...joinColumn(new Float64Array([1]), new Float64Array([4, 5, 6]), 2)], [5, 6]);
    assert.deepEqual(joinColumn(["a"], ["b", "c"], 0), []);
    assert.deepEqual(joinColumn(["a", "b"], ["c"], 2), ["b", "c"]);
  });

  it("grows a streamed column in place, never changing a column someone kept", () => {
    // 300 streams of 7 rows into a rolling window of 100, against plain arrays.
    let column = new Float64Array([0, 1, 2]);
    let reference = [0, 1, 2];
    const kept = [];
    let inPlace = 0;
    for (let k = 0; k < 300; k++) {
      const rows = Float64Array.from({ length: 7 }, (_, i) => 1000 + 7 * k + i);
      const next = joinColumn(column, rows, 100);
      if (next.buffer === column.buffer) inPlace += 1;
      reference = [...reference, ...rows].slice(-100);
      assert.deepEqual([...next], reference);
      kept.push([next, [...next]]);
      column = next;
    }
    for (const [view, values] of kept) assert.deepEqual([...view], values);
    assert.ok(inPlace > 250, `only ${inPlace} of 300 streams appended in place`);
    // A column that is not the newest of its buffer is copied, not grown over.
    const [older, values] = kept.findLast(([view]) => view.buffer === column.buffer && view !== column);
    const branched = joinColumn(older, new Float64Array([-1]), null);
    assert.notEqual(branched.buffer, older.buffer);
    assert.deepEqual([...branched], [...values, -1]);
    assert.deepEqual([...column], kept[kept.length - 1][1]);
  });

  it("counts rows the way joining makes them", () => {
    for (const [old, added, rollover] of [[3, 2, null], [3, 2, 3], [1, 3, 2], [5, 0, 2], [0, 4, 0]]) {
      const joined = joinColumn(new Float64Array(old), new Float64Array(added), rollover);
      assert.equal(rowsAfterStream(old, added, rollover), joined.length);
    }
  });

  it("streams rows of 2-D columns and keeps their shape", () => {
    const matrix = ndarray(new Float64Array([0, 1, 2, 3]), { shape: [2, 2] });
    const rows = checkStream({ m: matrix }, { m: [[4, 5]] }, null);
    const joined = joinColumn(matrix, rows.m, 2);
    assert.deepEqual([...joined], [2, 3, 4, 5]);
    assert.deepEqual(shapeOf(joined), [2, 2]);
  });

  it("casts rows to the column's dtype, bool and int64 included", () => {
    const flags = ndarray(new Uint8Array([1]), { dtype: "bool" });
    const rows = checkStream({ f: flags, i: new BigInt64Array([1n]), u: new Uint8Array(1) }, { f: [false], i: [7], u: [255] }, null);
    assert.equal(dtypeOf(rows.f), "bool");
    assert.deepEqual([...rows.i], [7n]);
    assert.deepEqual([...rows.u], [255]);
  });

  it("turns typed rows into plain values for list columns", () => {
    const rows = checkStream({ a: [1], b: [true] }, { a: new BigInt64Array([2n]), b: ndarray(new Uint8Array([0]), { dtype: "bool" }) }, null);
    assert.deepEqual(rows, { a: [2], b: [false] });
  });

  it("refuses rows that would change meaning", () => {
    const columns = { i: new Int8Array(1), f: new Float32Array(1) };
    const cases = [
      [{ i: [1.5], f: [1] }, "streamed column 'i' of float64 cannot join int8"],
      [{ i: [200], f: [1] }, "streamed column 'i' has values out of range of int8"],
      [{ i: [1], f: ["x"] }, "streamed column 'f' of text cannot join float32"],
      [{ i: [1], f: [1, 2] }, "streamed columns have different lengths: [1, 2]"],
      [{ i: [[1]], f: [1] }, "streamed column 'i' has shape (1, 1)"],
    ];
    for (const [data, message] of cases) assert.throws(() => checkStream(columns, data, null), { message });
  });

  it("checks against a ColumnShape as against the column it stands for", () => {
    const shape = new ColumnShape(new Float64Array(2), 5);
    assert.equal(rowCount(shape), 5);
    assert.throws(() => checkPatches({ x: shape }, { x: [[5, 1]] }), { message: "patch index 5 out of range for column 'x'" });
    checkPatches({ x: shape }, { x: [[4, 1]] });
  });
});

describe("patching", () => {
  it("writes cells by index and by slice, in place", () => {
    const data = { x: new Float64Array([0, 1, 2, 3, 4]), s: ["a", "b", "c"] };
    const x = data.x;
    const patches = checkPatches(data, { x: [[0, 9], [new Slice(1, null, 2), [7, 8]]], s: [[new Slice(0, 2), ["p", "q"]]] });
    applyPatches(data, patches);
    assert.equal(data.x, x);
    assert.deepEqual([...data.x], [9, 7, 2, 8, 4]);
    assert.deepEqual(data.s, ["p", "q", "c"]);
  });

  it("writes whole rows of 2-D columns, and BigInt cells", () => {
    const data = { m: ndarray(new Float64Array(4), { shape: [2, 2] }), i: new BigInt64Array(2) };
    applyPatches(data, checkPatches(data, { m: [[1, [5, 6]]], i: [[new Slice(0, 2), [3, 4]]] }));
    assert.deepEqual([...data.m], [0, 0, 5, 6]);
    assert.deepEqual([...data.i], [3n, 4n]);
  });

  it("shows slices as Python does", () => {
    assert.equal(String(new Slice(null, 5, -1)), "slice(None, 5, -1)");
    assert.deepEqual(new Slice(2, 100).indices(5), [2, 5, 1]);
    assert.equal(new Slice(0, 5, 2).count(5), 3);
  });

  it("refuses what does not fit, without writing anything", () => {
    const data = { u: new Uint8Array(2), f: ndarray(new Uint8Array(2), { dtype: "bool" }) };
    assert.throws(() => checkPatches(data, { u: [[0, 256]] }), ValidationError);
    assert.throws(() => checkPatches(data, { f: [[0, 1]] }), { message: "patch value 1 does not fit column 'f'" });
    assert.throws(() => checkPatches(data, {}), { message: "patch needs a dict of column name to [(index, value), ...]" });
    assert.deepEqual([...data.u], [0, 0]);
  });
});
