// A long line's decimation: per pixel column its first, lowest, highest and last rows, by a
// scan of every row and from block extrema kept through streams; both must keep the same rows.
import assert from "node:assert/strict";
import { test } from "node:test";

import { joinColumn } from "../../docsync/static/docsync/columns.js";
import { Model } from "../../docsync/static/docsync/model.js";
import { defaultOf } from "../../docsync/static/docsync/views/defaults.js";
import { glyphBounds, resolveGlyph } from "../../docsync/static/docsync/views/plotting/glyphs.js";
import { RowExtrema } from "../../docsync/static/docsync/views/plotting/extrema.js";
import { columnExtremes, columnExtremesIndexed, columnRows } from "../../docsync/static/docsync/views/plotting/glyphs_lines.js";
import { carryExtrema, carryOver } from "../../docsync/static/docsync/views/plotting/streaming.js";

const prop = (attr, model) => model.get(attr) ?? defaultOf(model.type, attr) ?? null;

let seed = 17;
const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;

// The rows a scan of every row keeps, written the plainest way: the reference.
function reference(xs, ys, first, last, kx, ox) {
  const out = [];
  let columnRowsSeen = [];
  const flush = () => {
    if (!columnRowsSeen.length) return;
    let lo = columnRowsSeen[0];
    let hi = columnRowsSeen[0];
    for (const i of columnRowsSeen) {
      if (ys[i] < ys[lo]) lo = i;
      if (ys[i] > ys[hi]) hi = i;
    }
    const kept = [...new Set([columnRowsSeen[0], lo, hi, columnRowsSeen.at(-1)])].sort((a, b) => a - b);
    out.push(...kept);
    columnRowsSeen = [];
  };
  let column = null;
  for (let i = first; i < last; i++) {
    const c = Math.floor(xs[i] * kx + ox);
    if (c !== column) flush();
    column = c;
    columnRowsSeen.push(i);
  }
  flush();
  return out;
}

function sortedXs(n) {
  const xs = new Float64Array(n);
  for (let i = 1; i < n; i++) xs[i] = xs[i - 1] + (random() < 0.1 ? 0 : random() * 2);
  return xs;
}

test("a column's kept rows come in row order, each once", () => {
  const out = new Uint32Array(4);
  assert.deepEqual([...out.subarray(0, columnRows(out, 0, 3, 7, 5, 9))], [3, 5, 7, 9]);
  assert.deepEqual([...out.subarray(0, columnRows(out, 0, 3, 3, 9, 9))], [3, 9]);
  assert.deepEqual([...out.subarray(0, columnRows(out, 0, 4, 4, 4, 4))], [4]);
});

test("block extrema keep the same rows as a scan of every row, at any zoom, with ties", () => {
  for (const n of [1000, 20000, 70001]) {
    const xs = sortedXs(n);
    // Few distinct values: many ties, which go to the earliest row either way.
    const ys = Float64Array.from({ length: n }, () => Math.floor(random() * 9));
    const extrema = new RowExtrema(ys);
    const out = new Uint32Array(4 * n + 8);
    for (let trial = 0; trial < 30; trial++) {
      const first = Math.floor(random() * n * 0.3);
      const last = n - Math.floor(random() * n * 0.3);
      const perColumn = 1 + random() * 600;
      const kx = (random() < 0.2 ? -1 : 1) / perColumn;
      const ox = random() * 1000;
      const want = reference(xs, ys, first, last, kx, ox);
      const scanned = columnExtremes(xs, ys, first, last, kx, ox, out);
      assert.deepEqual([...out.subarray(0, scanned)], want, `scan, n ${n}, trial ${trial}`);
      const indexed = columnExtremesIndexed(xs, ys, first, last, kx, ox, out, extrema);
      assert.deepEqual([...out.subarray(0, indexed)], want, `blocks, n ${n}, trial ${trial}`);
    }
  }
});

test("a NaN (a gap) or too little room: the decimation says it cannot (-1)", () => {
  const xs = sortedXs(5000);
  const ys = Float64Array.from({ length: 5000 }, () => random());
  assert.equal(columnExtremes(xs, ys, 0, 5000, 0.1, 0, new Uint32Array(8)), -1, "room for two columns only");
  ys[2500] = NaN;
  assert.equal(columnExtremes(xs, ys, 0, 5000, 0.1, 0, new Uint32Array(5000)), -1);
  assert.equal(new RowExtrema(ys).nan, 1, "the summary counts it: callers scan instead");
});

test("block extrema follow streams and rollover as a summary built afresh would", () => {
  // 3,000 streams of 1-40 rows into a rolling window of 1,500 rows: the blocks' storage
  // moves along; each query equals a scan of the rows as they are then.
  let ys = Float64Array.from({ length: 1200 }, () => random());
  let r = { n: ys.length, y: ys, redrawn: true, extrema: new RowExtrema(ys) };
  for (let k = 0; k < 3000; k++) {
    const added = 1 + Math.floor(random() * 40);
    const rows = Float64Array.from({ length: added }, () => (random() < 0.002 ? NaN : Math.floor(random() * 50)));
    ys = joinColumn(ys, rows, 1500);
    const next = { n: ys.length, y: ys };
    carryExtrema(r, next, added);
    assert.equal(next.redrawn, true);
    assert.equal(next.extrema, r.extrema, `carried over at stream ${k}`);
    r = next;
    const fresh = new RowExtrema(ys);
    assert.equal(r.extrema.nan, fresh.nan, `NaN rows at stream ${k}`);
    if (k % 50 === 0) assert.ok(r.extrema.levels[0].lo.length <= 4 * (1500 / 16) + 64, "storage bounded by the window");
    if (fresh.nan) continue;
    for (let q = 0; q < 5; q++) {
      const a = Math.floor(random() * ys.length);
      const b = a + 1 + Math.floor(random() * (ys.length - a));
      r.extrema.query(ys, a, b);
      fresh.query(ys, a, b);
      let lo = a;
      let hi = a;
      for (let i = a; i < b; i++) {
        if (ys[i] < ys[lo]) lo = i;
        if (ys[i] > ys[hi]) hi = i;
      }
      assert.deepEqual([r.extrema.lo, r.extrema.hi], [lo, hi], `rows [${a}, ${b}) after stream ${k}`);
      assert.deepEqual([fresh.lo, fresh.hi], [lo, hi]);
    }
  }
});

test("a stream the summary cannot follow leaves it behind, for a rebuild", () => {
  const ys = Float64Array.from({ length: 600 }, () => random());
  const extrema = new RowExtrema(ys);
  const old = { n: 600, y: ys, redrawn: true, extrema };
  // Rolled over to fewer rows than two large blocks: the last block may have lost rows.
  const short = joinColumn(ys, new Float64Array(10), 300);
  const next = { n: short.length, y: short };
  carryExtrema(old, next, 10);
  assert.equal(next.extrema, undefined);
  assert.equal(next.redrawn, true, "the next draw builds one afresh");
  assert.equal(extrema.origin, 0, "left as it was");
});

test("a line's bounds after a bound rolled over come from its block extrema, as a full scan gives them", () => {
  const glyph = new Model("Line", { attributes: { x: { field: "x" }, y: { field: "y" } } });
  const flags = { xPositive: false, yPositive: false };
  let next = 0;
  let data = { x: Float64Array.from({ length: 1000 }, () => next++), y: Float64Array.from({ length: 1000 }, () => random()) };
  const resolve = () => resolveGlyph(glyph, data, prop, { x: null, y: null });
  let entry = { r: resolve(), boundsFlags: flags };
  entry.r.sorted = true;
  entry.r.redrawn = true;
  entry.r.extrema = new RowExtrema(entry.r.y);
  entry.bounds = glyphBounds(entry.r, flags);
  let rolledBound = 0;
  for (let k = 0; k < 600; k++) {
    const added = 1 + Math.floor(random() * 20);
    // Now and then a spike: a bound that later rolls over.
    const ys = Float64Array.from({ length: added }, () => (random() < 0.003 ? 5 + random() : random()));
    data = { x: joinColumn(data.x, Float64Array.from({ length: added }, () => next++), 1000), y: joinColumn(data.y, ys, 1000) };
    const r = resolve();
    carryExtrema(entry.r, r, added);
    const before = entry.bounds.y;
    const bounds = carryOver(entry, r, added);
    assert.ok(bounds, `bounds carried over at stream ${k}`);
    assert.deepEqual(bounds, glyphBounds(r, flags), `bounds after stream ${k}`);
    if (bounds.y[1] < before[1] || bounds.y[0] > before[0]) rolledBound += 1;
    entry = { r, bounds, boundsFlags: flags };
  }
  assert.ok(rolledBound > 10, `a bound rolled over ${rolledBound} times only`);
});
