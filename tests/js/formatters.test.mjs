// Table cell formatters and the page's own upload checks: what docs/widgets.md promises.

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { IsoDate, IsoDateTime } from "../../docsync/static/docsync/serialization.js";
import { formatDate, formatNumber, safeUrl } from "../../docsync/static/docsync/views/formatters.js";
import { accepted, megabytes } from "../../docsync/static/docsync/views/upload.js";

describe("NumberFormatter patterns", () => {
  it("formats as docs/widgets.md says", () => {
    assert.equal(formatNumber(1234.567, "0,0"), "1,235");
    assert.equal(formatNumber(1234.567, "0.00"), "1234.57");
    assert.equal(formatNumber(1234.5, "0,0.[00]"), "1,234.5");
    assert.equal(formatNumber(1234, "0,0.[00]"), "1,234");
    assert.equal(formatNumber(0.125, "0.0%"), "12.5%");
    assert.equal(formatNumber(1234.567, "$0,0.00"), "$1,234.57");
    assert.equal(formatNumber(-1234.567, "$0,0.00"), "-$1,234.57");
    assert.equal(formatNumber(12n, "0,0"), "12");
    assert.equal(formatNumber(NaN, "0,0", "n/a"), "n/a");
    assert.equal(formatNumber("text", "0,0"), "text");
    assert.equal(formatNumber(null, "0,0"), "");
  });
});

describe("DateFormatter patterns", () => {
  it("takes dates, datetimes and milliseconds, in UTC", () => {
    const may = new IsoDate("2024-05-01");
    assert.equal(formatDate(may), "2024-05-01");
    assert.equal(formatDate(may, "%d %b %Y"), "01 May 2024");
    assert.equal(formatDate(new IsoDateTime("2024-05-01T13:05:07-02:00"), "%Y-%m-%d %H:%M:%S"), "2024-05-01 15:05:07");
    assert.equal(formatDate(Date.UTC(2024, 11, 31, 23, 0), "%A %e %B %y, %I %p, day %j"), "Tuesday 31 December 24, 11 PM, day 366");
    assert.equal(formatDate(NaN, "ISO", "-"), "-");
    assert.equal(formatDate(null, "ISO", "none"), "none");
    assert.equal(formatDate(may, "100%% on %d"), "100% on 01");
  });
});

describe("template links", () => {
  it("keep http(s), mailto and relative addresses, drop the rest", () => {
    for (const url of ["https://example.com/x", "http://a", "mailto:a@b.c", "/fruit/3", "fruit?id=3", "#top"]) {
      assert.ok(safeUrl(url), url);
    }
    for (const url of ["javascript:alert(1)", "JavaScript:x", " java\tscript:x", "data:text/html,x", "vbscript:x"]) {
      assert.ok(!safeUrl(url), url);
    }
  });
});

describe("the page's upload checks", () => {
  it("match files against accept as the HTML attribute does", () => {
    assert.ok(accepted("", "any.bin", ""));
    assert.ok(accepted(".csv,text/*", "Data.CSV", ""));
    assert.ok(accepted([".csv", "text/*"], "notes", "text/plain"));
    assert.ok(accepted("image/png", "x", "image/png"));
    assert.ok(!accepted(".csv,text/*", "photo.png", "image/png"));
  });

  it("say sizes in kB and MB", () => {
    assert.equal(megabytes(0), "0 bytes");
    assert.equal(megabytes(1), "1 byte");
    assert.equal(megabytes(13), "13 bytes");
    assert.equal(megabytes(999), "999 bytes");
    assert.equal(megabytes(1000), "1 kB");
    assert.equal(megabytes(1499), "1 kB");
    assert.equal(megabytes(1_500_000), "1.5 MB");
    assert.equal(megabytes(20 * 1024 * 1024), "21.0 MB");
  });
});
