"""A token bucket of bytes: what a session may send every connection, refilled with time.

A session's corrections and the models its clients put back are sent to every other
connection (protocol.md §13, *Corrections have a bounded size*): the Sequencer (docsync's
dialect) and a Bokeh-dialect session each keep one such bucket.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

__all__ = ["ByteBucket"]


class ByteBucket:
    """At most ``burst`` bytes at once, then ``rate`` a second; ``owe`` may leave it below zero."""

    __slots__ = ("_clock", "_full", "_level", "_time", "burst", "rate")

    def __init__(self, rate: int, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst = rate, burst
        self._clock = clock
        self._full = self._level = float(burst)
        self._time = clock()

    def level(self) -> float:
        """The bytes it holds now (negative: owed)."""
        now = self._clock()
        level = min(self._full, self._level + (now - self._time) * self.rate)
        self._time, self._level = now, level
        return level

    def take(self, size: int) -> bool:
        """Take ``size`` bytes if it holds them; tell whether it did (nothing taken otherwise)."""
        level = self.level()
        if size > level:
            return False
        self._level = level - size
        return True

    def owe(self, size: int, *, at_most_a_burst: bool = False) -> None:
        """Take ``size`` bytes, whatever it holds (what was sent already).

        ``at_most_a_burst``: it is left owing a burst at most, what passes that forgiven
        (a charge ``room`` allowed while it was full: a put-back of any size).
        """
        level = self.level() - size
        self._level = max(level, -float(self.burst)) if at_most_a_burst else level

    def room(self) -> float:
        """The most one charge asked ahead (a put-back's estimate) may take now: any size when full.

        Full, it takes any size, and owes a burst at most after (``owe(at_most_a_burst=True)``):
        a plot whose source is over twice the burst must still move between layouts, and
        the bucket is full again (2 x burst) / rate later, so that such a charge comes once
        a refill. Not full, what it holds and a burst more owed: a 20 MB put-back taken
        whenever nothing was owed left it owing 80 s, every correction meanwhile a reset.
        """
        level = self.level()
        return math.inf if level >= self._full else level + self.burst

    def room_seconds(self, size: int) -> float:
        """How long until ``room`` allows ``size`` bytes (0: it does now); at most until it is full."""
        level = self.level()
        if level >= self._full:
            return 0.0
        needed = min(size - self.burst, self._full)  # (full, it takes any size)
        return max(0.0, (needed - level) / self.rate)

    def owed_seconds(self) -> float:
        """How long until it holds nothing owed (0 when nothing is)."""
        level = self.level()
        return -level / self.rate if level < 0 else 0.0
