"""A token bucket: at most N events per second, with a burst of N."""

from __future__ import annotations

import time

__all__ = ["DOCUMENT_REQUESTS_PER_SECOND", "RateLimiter"]

#: PULL-DOC-REQ, RESUME-REQ and PUSH-DOC per second (and at once) on one connection,
#: together: a pull or a resume is answered with the whole document. (SERVER-INFO-REQ
#: counts with the patches, ``MAX_PATCHES_PER_SECOND``: clients send it as a barrier.)
DOCUMENT_REQUESTS_PER_SECOND = 10.0


class RateLimiter:
    """Allow ``rate`` events per second on average, ``rate`` at once."""

    __slots__ = ("_allowance", "_last", "_rate")

    def __init__(self, rate: float) -> None:
        self._rate = rate
        self._allowance = rate
        self._last = time.monotonic()

    def allow(self) -> bool:
        """Take one event; tell whether it is within the rate."""
        now = time.monotonic()
        self._allowance = min(self._rate, self._allowance + (now - self._last) * self._rate)
        self._last = now
        if self._allowance < 1.0:
            return False
        self._allowance -= 1.0
        return True
