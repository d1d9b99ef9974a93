"""A client's own token bucket: it never sends faster than the server takes its messages.

The server closes a connection whose client sends more than ``MAX_PATCHES_PER_SECOND``
messages (PATCH-DOC, SERVER-INFO-REQ, ACK, OK, ERROR) per second (protocol.md §11, 4029):
a token bucket with a burst of the rate. A client pacing itself with the same bucket
could still be refused, because the server counts a message when it handles it, later
than it was sent, and by a varying delay. This bucket holds a little less than the
server's (``burst``): one patch in flight at a time, sent after the previous one's answer
(so after the server counted it), is never over the server's bucket with one token less,
whatever the delays; the rest of the margin takes up messages sent without waiting.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

__all__ = ["DEFAULT_MESSAGES_PER_SECOND", "Pacer"]

#: The server's ``MAX_PATCHES_PER_SECOND`` when it does not say (docsync's default).
DEFAULT_MESSAGES_PER_SECOND = 200.0


class Pacer:
    """Allow at most ``rate`` messages per second, a little less than ``rate`` at once."""

    __slots__ = ("_allowance", "_clock", "_last", "burst", "rate")

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        if not isinstance(rate, int | float) or not math.isfinite(rate) or rate <= 0:
            raise ValueError(f"rate must be a positive number of messages per second, got {rate!r:.80}")
        self.rate = float(rate)
        # One token less than the server's (see the module's docstring), and a tenth less
        # past 20; at least one, or nothing could be sent.
        self.burst = max(1.0, self.rate - max(1.0, self.rate / 10))
        self._clock = clock
        self._allowance = self.burst
        self._last = clock()

    def reset(self) -> None:
        """A new connection: the server's bucket for it is full."""
        self._allowance = self.burst
        self._last = self._clock()

    def _refill(self) -> float:
        now = self._clock()
        self._allowance = min(self.burst, self._allowance + (now - self._last) * self.rate)
        self._last = now
        return self._allowance

    def ready(self) -> bool:
        """Tell whether a message may be sent now."""
        return self._refill() >= 1.0

    def take(self) -> bool:
        """Take one message's token if there is one; tell whether there was."""
        if self._refill() < 1.0:
            return False
        self._allowance -= 1.0
        return True

    def delay(self) -> float:
        """Return how many seconds until a message may be sent (0: now)."""
        missing = 1.0 - self._refill()
        # A microsecond more: the time's floating-point sum would otherwise fall just short.
        return 0.0 if missing <= 0 else missing / self.rate + 1e-6
