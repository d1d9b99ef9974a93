"""A token bucket of bytes: what a session may send every connection, refilled with time.

A session's corrections and the models its clients put back are sent to every other
connection (protocol.md §13, *Corrections have a bounded size*): the Sequencer (docsync's
dialect) and a Bokeh-dialect session each keep one such bucket.
"""

from __future__ import annotations

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

    def owe(self, size: int) -> None:
        """Take ``size`` bytes, whatever it holds (what was sent already)."""
        self._level = self.level() - size

    def room(self) -> float:
        """The most one charge may ``owe`` now: what it holds, and a burst more owed.

        A charge asked before it is known exactly (a put-back's estimate) is refused past
        it: one charge then leaves the bucket owing at most a burst, a burst's refill away
        (a 20 MB put-back left it owing 80 s, every correction meanwhile a reset).
        """
        return self.level() + self.burst

    def owed_seconds(self) -> float:
        """How long until it holds nothing owed (0 when nothing is)."""
        level = self.level()
        return -level / self.rate if level < 0 else 0.0
