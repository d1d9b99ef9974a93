"""A session's scheduled callbacks as tasks on its loop, for both dialects' sessions.

What the two sessions share: a callback may be scheduled or dropped from any thread (a
sync callback's worker thread adds another), each runs as a task on the session's loop,
an invocation once started runs to its end, and ``stop`` ends them all for good. What a
callback's task does between invocations (periodic, timeout, next tick) and how one is
invoked (under the session's lock or not, what is sent afterwards) stays each session's.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Hashable
from typing import Any

__all__ = ["CallbackTasks"]


class CallbackTasks:
    """The tasks of one session's scheduled callbacks, keyed by callback id."""

    # Slots, and no set of invocations until the first: most sessions never run a
    # scheduled callback, and an empty set is 216 bytes per session.
    __slots__ = ("_loop", "_running", "_tasks", "_thread", "stopped")

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        self._tasks: dict[Hashable, asyncio.Task[None]] = {}
        self._running: set[asyncio.Task[None]] | None = None
        #: Set by ``stop``: nothing is scheduled or invoked any more.
        self.stopped = False

    def schedule(self, key: Hashable, run: Callable[[Any], Coroutine[Any, Any, None]], callback: Any) -> None:
        """Start ``run(callback)`` as the task of ``key``, unless it has one or all are stopped."""
        if threading.get_ident() != self._thread:
            self._loop.call_soon_threadsafe(self.schedule, key, run, callback)
            return
        if self.stopped or key in self._tasks:
            return
        self._tasks[key] = self._loop.create_task(run(callback))

    def unschedule(self, key: Hashable) -> None:
        """Cancel the task of ``key`` (not an invocation it has started, nor the caller's own task)."""
        if threading.get_ident() != self._thread:
            self._loop.call_soon_threadsafe(self.unschedule, key)
            return
        task = self._tasks.pop(key, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    def fired(self, key: Hashable) -> None:
        """Forget the task of a one-shot callback that is about to run (it may be scheduled again)."""
        self._tasks.pop(key, None)

    @property
    def running(self) -> bool:
        """Whether an invocation runs now (``stop`` waits for it to end)."""
        return bool(self._running)

    async def invoke(self, call: Callable[[Any], Coroutine[Any, Any, None]], callback: Any) -> None:
        """Run ``call(callback)`` to its end, even if the awaiting task is cancelled meanwhile."""
        if self.stopped:
            return
        # A sync callback cannot be stopped in its worker thread, and cancelling the task
        # awaiting it would release the session's lock while the callback still runs.
        invocation = self._loop.create_task(call(callback))
        running = self._running
        if running is None:
            running = self._running = set()
        running.add(invocation)
        invocation.add_done_callback(running.discard)
        await asyncio.shield(invocation)

    async def stop(self) -> None:
        """Stop every callback for good; return once the invocations already running have ended."""
        self.stopped = True
        current = asyncio.current_task()
        for task in list(self._tasks.values()):
            if task is not current:
                task.cancel()
        self._tasks.clear()
        running = [task for task in self._running or () if task is not current]
        if running:
            await asyncio.gather(*running, return_exceptions=True)
