/**
 * Where a long line's lowest and highest rows are, per block of rows, kept up to date as
 * rows stream in and roll over. A redraw then finds each pixel column's lowest and
 * highest rows from a few blocks instead of from every row: a 100k-row line 900 pixels
 * wide has about 110 rows a column, and it is redrawn at every stream (its x range
 * follows the data, so the columns move and no per-column result can be kept).
 *
 * Blocks hold 16 rows, and 256 (two levels), numbered from the first row the summary
 * saw (absolute rows: rolled-over rows still count), so that appending rows touches only
 * the last blocks and rolling rows over touches none. Ties go to the earliest row, as a
 * scan of every row in order finds them.
 */

const SIZES = [16, 256];

/** One level: the lowest and highest absolute row of blocks ``base`` ... ``base + length``. */
class Level {
  constructor(size) {
    this.size = size;
    this.base = 0;
    this.lo = new Float64Array(64);
    this.hi = new Float64Array(64);
  }

  /** Return where block ``j`` is stored, making room (dropping blocks before ``firstLive``). */
  slot(j, firstLive) {
    const at = j - this.base;
    if (at < this.lo.length) return at;
    const dead = firstLive - this.base;
    const live = at - dead;
    // Room for as many blocks again as are live: a copy every so many blocks.
    const length = Math.max(64, 2 * (live + 1));
    const lo = length === this.lo.length ? this.lo : new Float64Array(length);
    const hi = length === this.hi.length ? this.hi : new Float64Array(length);
    lo.set(this.lo.subarray(dead, at));
    hi.set(this.hi.subarray(dead, at));
    this.lo = lo;
    this.hi = hi;
    this.base = firstLive;
    return j - this.base;
  }
}

/** Block extrema of a column of numbers (the y of a line), for ``RowExtrema.query``. */
export class RowExtrema {
  /** Summarise every row of ``ys``. */
  constructor(ys) {
    this.origin = 0; // the absolute number of row 0 of the current column
    this.end = 0; // rows [origin, end) are summarised
    this.nan = 0; // NaN rows among them (a query is then not to be trusted: gaps)
    this.levels = SIZES.map((size) => new Level(size));
    this.small = this.levels[0];
    this.large = this.levels[1];
    this.lo = 0; // the result of the last query (rows of the current column)
    this.hi = 0;
    this.build(ys);
  }

  /** Summarise every row of ``ys`` in two tight passes (the first draw after a first paint pays for it). */
  build(ys) {
    const n = ys.length;
    const { small, large } = this;
    const blocks = Math.ceil(n / small.size);
    small.lo = new Float64Array(Math.max(64, 2 * blocks));
    small.hi = new Float64Array(small.lo.length);
    let nan = 0;
    for (let b = 0, start = 0; start < n; b++, start += small.size) {
      const stop = Math.min(n, start + small.size);
      let lo = start;
      let hi = start;
      let low = ys[start];
      let high = low;
      if (low !== low) nan += 1;
      for (let i = start + 1; i < stop; i++) {
        const y = ys[i];
        if (y < low) {
          lo = i;
          low = y;
        } else if (y > high) {
          hi = i;
          high = y;
        } else if (y !== y) nan += 1;
      }
      small.lo[b] = lo;
      small.hi[b] = hi;
    }
    const per = large.size / small.size;
    large.lo = new Float64Array(Math.max(64, 2 * Math.ceil(blocks / per)));
    large.hi = new Float64Array(large.lo.length);
    for (let b = 0, first = 0; first < blocks; b++, first += per) {
      const stop = Math.min(blocks, first + per);
      let lo = small.lo[first];
      let hi = small.hi[first];
      for (let k = first + 1; k < stop; k++) {
        if (ys[small.lo[k]] < ys[lo]) lo = small.lo[k];
        if (ys[small.hi[k]] > ys[hi]) hi = small.hi[k];
      }
      large.lo[b] = lo;
      large.hi[b] = hi;
    }
    this.nan = nan;
    this.end = n;
  }

  /** Summarise rows ``from`` ... end of ``ys`` (the current column), the newest rows. */
  append(ys, from) {
    const origin = this.origin;
    for (const level of this.levels) {
      const size = level.size;
      const firstLive = Math.floor(origin / size);
      let j = -1;
      let at = 0;
      let low = 0;
      let high = 0;
      for (let i = from; i < ys.length; i++) {
        const a = origin + i;
        const y = ys[i];
        const block = Math.floor(a / size);
        if (block !== j) {
          j = block;
          at = level.slot(j, firstLive);
          if (a % size === 0) {
            level.lo[at] = level.hi[at] = a;
            low = high = y;
            continue;
          }
          // A block begun by earlier rows: its extremes so far.
          low = ys[level.lo[at] - origin];
          high = ys[level.hi[at] - origin];
        }
        if (y < low) {
          level.lo[at] = a;
          low = y;
        } else if (y > high) {
          level.hi[at] = a;
          high = y;
        }
      }
    }
    for (let i = from; i < ys.length; i++) if (ys[i] !== ys[i]) this.nan += 1;
    this.end = origin + ys.length;
  }

  /**
   * Follow a stream: ``dropped`` rows of ``oldYs`` rolled over, then ``ys`` is the column.
   * Returns false when ``ys`` is not ``oldYs`` without them plus rows after (rebuild).
   */
  advance(oldYs, dropped, ys) {
    const kept = oldYs.length - dropped;
    if (!(dropped >= 0 && kept >= 0 && ys.length >= kept && this.end === this.origin + oldYs.length)) return false;
    // The last block being extended must still hold its earlier rows: a column of at
    // least two of the largest blocks.
    if (kept < 2 * SIZES[SIZES.length - 1]) return false;
    for (let i = 0; i < dropped; i++) if (oldYs[i] !== oldYs[i]) this.nan -= 1;
    this.origin += dropped;
    this.append(ys, kept);
    return true;
  }

  /** Set ``lo`` and ``hi`` to the first lowest and first highest of rows [start, stop) of ``ys``. */
  query(ys, start, stop) {
    const origin = this.origin;
    const end = origin + stop;
    let a = origin + start;
    let lo = start;
    let hi = start;
    let low = ys[start];
    let high = low;
    a += 1;
    const { small, large } = this;
    const s1 = small.size;
    const s2 = large.size;
    // Single rows up to a small block's start, small blocks up to a large one's, large
    // blocks, then back down: the least reads covering [start, stop) in order.
    for (; a < end && a % s1 !== 0; a++) {
      const y = ys[a - origin];
      if (y < low) {
        lo = a - origin;
        low = y;
      } else if (y > high) {
        hi = a - origin;
        high = y;
      }
    }
    for (; a + s1 <= end && a % s2 !== 0; a += s1) {
      const at = a / s1 - small.base;
      const l = small.lo[at] - origin;
      const h = small.hi[at] - origin;
      if (ys[l] < low) {
        lo = l;
        low = ys[l];
      }
      if (ys[h] > high) {
        hi = h;
        high = ys[h];
      }
    }
    for (; a + s2 <= end; a += s2) {
      const at = a / s2 - large.base;
      const l = large.lo[at] - origin;
      const h = large.hi[at] - origin;
      if (ys[l] < low) {
        lo = l;
        low = ys[l];
      }
      if (ys[h] > high) {
        hi = h;
        high = ys[h];
      }
    }
    for (; a + s1 <= end; a += s1) {
      const at = a / s1 - small.base;
      const l = small.lo[at] - origin;
      const h = small.hi[at] - origin;
      if (ys[l] < low) {
        lo = l;
        low = ys[l];
      }
      if (ys[h] > high) {
        hi = h;
        high = ys[h];
      }
    }
    for (; a < end; a++) {
      const y = ys[a - origin];
      if (y < low) {
        lo = a - origin;
        low = y;
      } else if (y > high) {
        hi = a - origin;
        high = y;
      }
    }
    this.lo = lo;
    this.hi = hi;
  }
}
