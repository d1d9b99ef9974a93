"""SerialCalls: async calls made one after another, in the order queued, by one task; bounded.

Broadcast queues its work here instead of awaiting it: the work takes session locks
(one of which the caller may hold: a callback broadcasting) or publishes to Redis (which
nothing may await under a lock), and the caller must never wait for either.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["SerialCalls"]

logger = logging.getLogger("docsync.server")

Call = Callable[[], Awaitable[Any]]


class SerialCalls:
    """A bounded FIFO of async calls, made by one task that lives only while calls wait.

    ``on_idle`` is told when the queue has emptied (its owner may forget it then).
    """

    def __init__(self, name: str, *, max_calls: int, on_idle: Callable[[], None] | None = None) -> None:
        self.name = name
        self.max_calls = max_calls
        self._on_idle = on_idle
        self._calls: deque[Call] = deque()
        self._task: asyncio.Task[None] | None = None
        self.refused = 0

    def __len__(self) -> int:
        return len(self._calls)

    def put(self, call: Call) -> bool:
        """Queue ``call``; return False (and log) if ``max_calls`` already wait."""
        if len(self._calls) >= self.max_calls:
            self.refused += 1
            logger.warning("%s: %d calls already wait; one more dropped", self.name, len(self._calls))
            return False
        self._calls.append(call)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        return True

    def clear(self) -> None:
        """Drop the calls that wait (the one being made, if any, runs to its end)."""
        self._calls.clear()

    async def _run(self) -> None:
        while self._calls:
            call = self._calls.popleft()
            try:
                await call()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("%s: a queued call failed", self.name)
        self._task = None
        if self._on_idle is not None:
            self._on_idle()
