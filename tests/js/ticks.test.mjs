// Axis arithmetic of the plot view: nice ticks, their labels, padded ranges.
import assert from "node:assert/strict";
import { test } from "node:test";

import { formatTick, niceStep, niceTicks, paddedRange, stepDecimals } from "../../docsync/static/docsync/views/ticks.js";

test("nice steps are 1, 2 or 5 times a power of ten", () => {
  for (const span of [0.003, 0.7, 1, 9.99, 12.566, 360, 98765, 1e9]) {
    for (const count of [2, 5, 10]) {
      const step = niceStep(span, count);
      const mantissa = step / 10 ** Math.floor(Math.log10(step) + 1e-12);
      assert.ok([1, 2, 5, 10].some((m) => Math.abs(mantissa - m) < 1e-9), `${span}/${count} -> ${step}`);
    }
  }
});

test("ticks fall inside the range, evenly, about as many as asked", () => {
  const { ticks, step } = niceTicks(0, 12.566, 6);
  assert.equal(step, 2);
  assert.deepEqual(ticks, [0, 2, 4, 6, 8, 10, 12]);
  assert.deepEqual(niceTicks(-1.05, 1.05, 4).ticks, [-1, -0.5, 0, 0.5, 1]);
  // Multiples of 0.1 are exact: no 0.30000000000000004.
  assert.deepEqual(niceTicks(0.1, 0.55, 4).ticks, [0.1, 0.2, 0.3, 0.4, 0.5]);
});

test("an empty or non-finite range has no ticks", () => {
  assert.deepEqual(niceTicks(1, 1).ticks, []);
  assert.deepEqual(niceTicks(2, 1).ticks, []);
  assert.deepEqual(niceTicks(0, Infinity).ticks, []);
  assert.deepEqual(niceTicks(NaN, 1).ticks, []);
});

test("labels have the step's decimals, a true minus sign, exponents when huge or tiny", () => {
  assert.equal(stepDecimals(0.05), 2);
  assert.equal(stepDecimals(20), 0);
  assert.equal(formatTick(0.5, 0.5), "0.5");
  assert.equal(formatTick(1, 0.5), "1.0");
  assert.equal(formatTick(-2, 1), "\u22122");
  assert.equal(formatTick(0, 0.1), "0");
  assert.equal(formatTick(3e6, 1e6), "3e6");
  assert.equal(formatTick(2.5e-7, 5e-8), "2.5e-7");
});

test("padded ranges are never empty", () => {
  assert.deepEqual(paddedRange(0, 10, 0.05), [-0.5, 10.5]);
  assert.deepEqual(paddedRange(3, 3), [2.7, 3.3]);
  assert.deepEqual(paddedRange(0, 0), [-1, 1]);
  assert.deepEqual(paddedRange(Infinity, -Infinity), [0, 1]);
});
