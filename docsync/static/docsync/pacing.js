/**
 * A client's own token bucket: it never sends faster than the server takes its messages.
 *
 * The server closes a connection whose client sends more than ``MAX_PATCHES_PER_SECOND``
 * messages (PATCH-DOC, SERVER-INFO-REQ, ACK, OK, ERROR) per second (protocol.md §11, 4029):
 * a token bucket with a burst of the rate. A client pacing itself with the same bucket
 * could still be refused, because the server counts a message when it handles it, later
 * than it was sent, and by a varying delay. This bucket holds a little less than the
 * server's (``burst``): one patch in flight at a time, sent after the previous one's answer
 * (so after the server counted it), is never over the server's bucket with one token less,
 * whatever the delays; the rest of the margin takes up messages sent without waiting.
 * The mirror of docsync/sync/pacing.py (its clock in milliseconds, as timers are).
 */

/** The server's ``MAX_PATCHES_PER_SECOND`` when its page does not say (docsync's default). */
export const DEFAULT_MESSAGES_PER_SECOND = 200;

const defaultClock = () => globalThis.performance.now();

/**
 * The rate a page's ``sendLimits`` announce (``maxPatchesPerSecond``), or the default when
 * it does not say (a page from an older server) or says something that is not a rate.
 */
export function announcedRate(sendLimits) {
  const rate = sendLimits?.maxPatchesPerSecond;
  return typeof rate === "number" && Number.isFinite(rate) && rate > 0 ? rate : DEFAULT_MESSAGES_PER_SECOND;
}

/** Allow at most ``rate`` messages per second, a little less than ``rate`` at once. */
export class Pacer {
  /** ``rate``: messages per second; ``clock``: the time in milliseconds. */
  constructor(rate, clock = defaultClock) {
    if (typeof rate !== "number" || !Number.isFinite(rate) || rate <= 0) {
      throw new RangeError(`rate must be a positive number of messages per second, got ${String(rate).slice(0, 80)}`);
    }
    this.rate = rate;
    // One token less than the server's (see above), and a tenth less past 20; at least
    // one, or nothing could be sent.
    this.burst = Math.max(1, rate - Math.max(1, rate / 10));
    this._clock = clock;
    this._allowance = this.burst;
    this._last = clock();
  }

  /** A new connection: the server's bucket for it is full. */
  reset() {
    this._allowance = this.burst;
    this._last = this._clock();
  }

  _refill() {
    const now = this._clock();
    this._allowance = Math.min(this.burst, this._allowance + ((now - this._last) / 1000) * this.rate);
    this._last = now;
    return this._allowance;
  }

  /** Tell whether a message may be sent now. */
  ready() {
    return this._refill() >= 1;
  }

  /** Take one message's token if there is one; tell whether there was. */
  take() {
    if (this._refill() < 1) return false;
    this._allowance -= 1;
    return true;
  }

  /** Return how many milliseconds until a message may be sent (0: now). */
  delay() {
    const missing = 1 - this._refill();
    // A millisecond more, rounded up: timers fire on whole milliseconds, and a timer
    // that fired a hair early would find no token and have to wait again.
    return missing <= 0 ? 0 : Math.ceil((missing / this.rate) * 1000) + 1;
  }
}
