"""A token bucket: at most N events per second, with a burst of N."""

from __future__ import annotations

import time

from ..message_rates import DOCUMENT_REQUESTS_PER_SECOND

__all__ = ["DOCUMENT_REQUESTS_PER_SECOND", "RateLimiter"]


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
