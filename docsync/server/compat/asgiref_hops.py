"""asgiref internals docsync.asgi relies on: a thread-sensitive ``sync_to_async`` call whose executor is known.

Inside ``ThreadSensitiveContext(executor=...)`` (asgiref 3.13+), on the event loop, a
thread-sensitive ``sync_to_async`` call finds that executor: it hides any inherited
``CurrentThreadExecutor`` on entering, and nothing nests in between on the loop. The
executor's lookup (a ``Local`` read, the context variable, a weak dictionary) and the
event loop's checks of the function (``run_in_executor``: is it a coroutine function,
through ``inspect``) were about half the loop's Python calls of a hop, twice a page.
:func:`in_thread` is ``SyncToAsync.__call__`` from there on, for the releases it was read
from: the same context copied in and back, the same thread-locals for ``async_to_sync``
inside, the same shield and cancellation.
"""

from __future__ import annotations

import asyncio
import asyncio.futures
import contextvars
import os
import sys
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any, TypeVar

from asgiref import sync as asgiref_sync

from .versions import checked

__all__ = ["LEAN_HOPS", "in_thread"]

_R = TypeVar("_R")

#: The asgiref releases whose ``SyncToAsync.__call__`` :func:`in_thread` follows.
CHECKED = ((3, 13), (3, 14))
_restore_context: Callable[[contextvars.Context], None] | None = getattr(asgiref_sync, "_restore_context", None)
LEAN_HOPS = checked("asgiref", *CHECKED) and _restore_context is not None


def _as_given(exc: BaseException) -> BaseException:
    return exc


#: What wrap_future makes of a thread's exception (CPython 3.11-3.13 name it so).
_convert_future_exc: Callable[[BaseException], BaseException] = getattr(
    asyncio.futures, "_convert_future_exc", _as_given
)


async def in_thread(executor: Executor, func: Callable[..., _R], *args: Any) -> _R:
    """``await sync_to_async(func, thread_sensitive=True)(*args)`` where that call would run on ``executor``.

    Only inside ``ThreadSensitiveContext(executor=executor)``, on the loop (not in a
    coroutine an ``async_to_sync`` runs), and only where :data:`LEAN_HOPS`.
    """
    restore = _restore_context
    assert restore is not None  # LEAN_HOPS
    loop = asyncio.get_running_loop()
    context = contextvars.copy_context()
    exc_info = sys.exc_info()
    task_context: list[asyncio.Task[Any]] = []

    def run_child() -> _R:
        restore(context)  # re-homes Local storage to the worker thread
        return func(*args)

    def thread_handler() -> _R:
        threadlocal = asgiref_sync.SyncToAsync.threadlocal
        threadlocal.main_event_loop = loop
        threadlocal.main_event_loop_pid = os.getpid()
        threadlocal.task_context = task_context
        if exc_info[1]:
            try:
                raise exc_info[1]
            except BaseException:
                return context.run(run_child)
        return context.run(run_child)

    # ``asyncio.wrap_future(executor.submit(thread_handler))``, without the chain of the two
    # futures (its checks, and the concurrent future's state read under its lock): the
    # thread's outcome goes in ``outcome``, and the submitted future's done callback (run
    # after the executor's own, as the chain's was) hands it to ``exec_future``.
    exec_future: asyncio.Future[_R] = loop.create_future()
    outcome: list[Any] = []

    def deliver() -> None:
        try:
            outcome.append((thread_handler(), None))
        except BaseException as exc:  # an executor's future holds it: so does exec_future
            outcome.append((None, exc))

    def done(_: Any) -> None:
        try:  # noqa: SIM105 (per call: a try costs nothing, contextlib.suppress a context manager)
            loop.call_soon_threadsafe(_settle, exec_future, outcome)
        except RuntimeError:  # that loop is closed: nobody waits any more
            pass

    submitted = executor.submit(deliver)
    submitted.add_done_callback(done)
    try:
        return await asyncio.shield(exec_future)
    except asyncio.CancelledError:
        cancel_parent = True
        try:
            task = task_context[0]
            task.cancel()
            try:
                await task
                cancel_parent = False
            except asyncio.CancelledError:
                pass
        except IndexError:
            pass
        if exec_future.done():
            raise
        if cancel_parent:
            exec_future.cancel()
            submitted.cancel()  # what the chain did: a call not started yet never runs
        try:
            return await exec_future
        except asyncio.CancelledError:
            submitted.cancel()  # the chain's cancellation of exec_future reached the call too
            raise
    finally:
        restore(context)
        asgiref_sync.SyncToAsync.deadlock_context.set(False)


def _settle(future: asyncio.Future[Any], outcome: list[Any]) -> None:
    """Give ``future`` the thread's result or exception, as ``wrap_future`` copies a done future's state."""
    if future.cancelled():
        return
    if not outcome:  # the call was cancelled before it ran
        future.cancel()
        return
    result, exc = outcome.pop()  # (emptied: an exception's traceback holds the list, through the thread's frame)
    if exc is not None:
        future.set_exception(_convert_future_exc(exc))
    else:
        future.set_result(result)
