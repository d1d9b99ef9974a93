// Error texts are compared with the Python side's word for word, so values must be
// shown as Python's repr() shows them (fixture: tests/fixtures/wire/reprs.json).
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { pyRepr, pyReprCut, pyReprShort, pyReprShow } from "../../docsync/static/docsync/pyrepr.js";
import { loadFixtures } from "./helpers.mjs";

const [[, reprs]] = loadFixtures().filter(([, fixture]) => fixture.kind === "reprs");

describe("pyRepr", () => {
  for (const { value, repr, receiver, property } of reprs.cases) {
    it(`shows ${repr.slice(0, 40)} as Python does`, () => {
      assert.equal(pyRepr(value), repr);
      assert.equal(pyReprShort(value), receiver);
      assert.equal(pyReprShow(value), property);
    });
  }

  it("shows special numbers, Maps, Sets and BigInts", () => {
    assert.equal(pyRepr(NaN), "nan");
    assert.equal(pyRepr(-Infinity), "-inf");
    assert.equal(pyRepr(-0), "-0.0");
    assert.equal(pyRepr(12n), "12");
    assert.equal(pyRepr(new Map([[1, "a"], [[2, 3], null]])), "{1: 'a', [2, 3]: None}");
    assert.equal(pyRepr(new Set()), "set()");
    assert.equal(pyRepr(new Set([1])), "{1}");
  });

  it("escapes lone surrogates", () => {
    assert.equal(pyRepr("a\ud800b"), "'a\\ud800b'");
  });

  it("cuts by code points, as {value!r:.N} does", () => {
    assert.equal(pyReprCut("😀".repeat(50), 5), "'😀😀😀😀");
  });
});
