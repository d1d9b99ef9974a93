"""Where sync user code runs: worker threads, so it may block or use the ORM."""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from typing import Any

from django.db import close_old_connections

from ..exceptions import ServerBusyError
from .worker_threads import WorkerThreads

__all__ = ["call_user_code", "run_sync", "shutdown_executor"]

_executor: WorkerThreads | None = None
_executor_lock = threading.Lock()


def _get_executor() -> WorkerThreads:
    global _executor
    if _executor is None:
        with _executor_lock:
            if _executor is None:
                from ..conf import docsync_settings

                threads = int(docsync_settings().SYNC_CALLBACK_THREADS)
                _executor = WorkerThreads("docsync-sync", threads, around=_call_in_worker)
    return _executor


def _call_in_worker(func: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    # Each worker thread owns its database connections; drop stale ones around calls
    # as Django's request cycle would.
    close_old_connections()
    try:
        return func(*args)
    finally:
        close_old_connections()


_inline = {"on": False}


def run_inline(on: bool = True) -> None:
    """Run sync code on the calling thread from now on (at interpreter exit, when
    worker threads can no longer be started)."""
    _inline["on"] = on


async def run_sync(func: Callable[..., Any], *args: Any) -> Any:
    """Run ``func(*args)`` in a worker thread without blocking the event loop."""
    if _inline["on"]:
        return func(*args)
    try:
        future = _get_executor().submit(func, *args)
    except RuntimeError as exc:
        # The process is stopping (runserver's reload, a deploy): a session asked for now
        # is refused with "try again" (1013), not reported as the application's failure.
        if "after shutdown" in str(exc) or "interpreter shutdown" in str(exc):
            raise ServerBusyError("this process is stopping; connect again") from exc
        raise
    return await future


async def call_user_code(func: Callable[..., Any], *args: Any) -> Any:
    """Run user code: coroutine functions on the loop, anything else in a worker thread."""
    if inspect.iscoroutinefunction(func):
        return await func(*args)
    result = await run_sync(func, *args)
    if inspect.isawaitable(result):
        result = await result
    return result


def shutdown_executor() -> None:
    """Stop the worker threads (at process shutdown)."""
    global _executor
    if _executor is not None:
        _executor.shutdown()
        _executor = None
