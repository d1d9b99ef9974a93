"""Where sync user code runs: worker threads, so it may block or use the ORM."""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from typing import Any

from django.db import close_old_connections, connections
from django.db.backends.signals import connection_created

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


class _Opened(threading.local):
    """Whether this thread may hold an open database connection (set when it opens one)."""

    open = False


_opened = _Opened()


def _connection_opened(**kwargs: Any) -> None:
    # Sent by Django in the thread that connects (a connection belongs to its thread).
    _opened.open = True


connection_created.connect(_connection_opened, dispatch_uid="docsync.executor.connection_opened")


def _close_old_connections() -> None:
    close_old_connections()
    # What the next call's check would find: none open (CONN_MAX_AGE 0 closed it) skips it.
    _opened.open = any(conn.connection is not None for conn in connections.all(initialized_only=True))


def _call_in_worker(func: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    # Each worker thread owns its database connections; drop stale ones around calls
    # as Django's request cycle would. Only a thread that holds an open connection has
    # any to drop: close_old_connections looks at open ones alone, and costs ~15 Python
    # calls (asgiref's Local) each time, twice per call, a sync callback's round trip.
    if _opened.open:
        _close_old_connections()
    try:
        return func(*args)
    finally:
        if _opened.open:
            _close_old_connections()


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
        future = (_executor or _get_executor()).submit(func, *args)
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
