"""WorkerThreads: long-lived threads that run sync calls for event loops, handed to them one by one.

What ``loop.run_in_executor`` with a ThreadPoolExecutor does, with less on the way and
warmer threads. A call goes straight to one idle thread (its slot, and a lock it sleeps
on) and its result back as one ``call_soon_threadsafe``: no concurrent Future chained
to an asyncio Future, no idle-semaphore check per call. The thread that went idle last
takes the next call: an executor's idle threads all wait on one queue, which hands
sequential calls to each in turn, and each call then ran on a colder thread (measured
on a Bokeh round trip: fewer context switches and less CPU per call with one warm
thread, bench/README.md). A thread is back on the idle stack before it wakes its
caller's loop, so the loop's next call (often the same session's) finds it there.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

from .compat import at_interpreter_exit

__all__ = ["WorkerThreads"]

# A queued call: the loop to answer on, the future it waits on, what to call, with what.
_Call = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[..., Any], tuple[Any, ...]]


def _settle(future: asyncio.Future[Any], result: Any, failure: BaseException | None) -> None:
    if future.cancelled():  # its awaiter was cancelled meanwhile: nobody wants the result
        return
    if failure is not None:
        future.set_exception(failure)
    else:
        future.set_result(result)


class _Thread:
    """One worker thread's mailbox: the call handed to it, and the lock it sleeps on until then."""

    __slots__ = ("call", "wake")

    def __init__(self, call: _Call | None) -> None:
        self.call = call
        self.wake = threading.Lock()
        self.wake.acquire()  # held: the thread waits on it until a call is handed over


class WorkerThreads:
    """Up to ``max_threads`` threads, started as calls need them, that run sync calls for event loops.

    A call goes to the thread that went idle last (its stack and caches are the warmest;
    one queue that all idle threads wait on hands calls round-robin to every one of them,
    which costs each call more CPU and context switches); with none idle, a new thread
    starts, or past ``max_threads`` the call waits for the first thread to finish.
    ``around(func, args)``, if given, makes every call in its thread instead of ``func(*args)``
    (say, to drop stale database connections before and after).
    Threads stay until ``shutdown`` or interpreter exit.
    """

    def __init__(
        self, name: str, max_threads: int, around: Callable[[Callable[..., Any], tuple[Any, ...]], Any] | None = None
    ) -> None:
        if max_threads < 1:
            raise ValueError("max_threads must be at least 1")
        self.name = name
        self.max_threads = max_threads
        self._around = around
        self._lock = threading.Lock()
        self._idle: list[_Thread] = []  # a stack: the last to go idle is woken first
        # Calls for which no thread was free: one per caller awaiting it, as in an executor's queue.
        self._waiting: deque[_Call] = deque()
        self._threads: list[threading.Thread] = []
        self._closed: str | None = None  # why calls are refused ("shutdown", "interpreter shutdown")
        # Weakly: a pool shut down and dropped (tests make many) is not kept for the exit.
        at_interpreter_exit(_at_exit, weakref.ref(self))

    def submit(self, func: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        """Hand ``func(*args)`` to a thread: the returned future of the running loop gets its result or exception."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        call = (loop, future, func, args)
        with self._lock:
            if self._closed is not None:
                raise RuntimeError(f"cannot schedule new calls after {self._closed}")
            if self._idle:
                worker = self._idle.pop()
                worker.call = call
                worker.wake.release()
            elif len(self._threads) < self.max_threads:
                thread = threading.Thread(
                    target=self._work, args=(_Thread(call),), name=f"{self.name}_{len(self._threads)}", daemon=True
                )
                thread.start()
                self._threads.append(thread)
            else:
                self._waiting.append(call)
        return future

    def _work(self, me: _Thread) -> None:
        around = self._around
        while True:
            call = me.call
            if call is None:  # shut down
                return
            me.call = None
            loop, future, func, args = call
            del call
            result: Any = None
            failure: BaseException | None = None
            if not future.cancelled():  # a benign race: at worst a cancelled call still runs
                try:
                    result = func(*args) if around is None else around(func, args)
                except BaseException as exc:  # handed to the awaiter, as an executor does
                    failure = exc
            # Back on the idle stack before its caller's loop is woken: the loop's next
            # call (often this caller's next) then comes to this thread, not another.
            with self._lock:
                closed = self._closed is not None
                idle = not closed and not self._waiting
                if idle:
                    self._idle.append(me)  # _close wakes it with no call: it returns
                elif not closed:
                    me.call = self._waiting.popleft()
            try:  # noqa: SIM105 (per call: a try costs nothing, contextlib.suppress a context manager)
                loop.call_soon_threadsafe(_settle, future, result, failure)
            except RuntimeError:  # that loop is closed: nobody waits any more
                pass
            del loop, future, func, args, result, failure
            if closed:
                return
            if idle:
                me.wake.acquire()  # released by submit with a call, or by _close without

    def shutdown(self) -> None:
        """Refuse new calls, drop the waiting ones (their awaiters are cancelled), let running ones end."""
        self._close("shutdown")

    def _close(self, reason: str) -> list[threading.Thread]:
        with self._lock:
            if self._closed is None:
                self._closed = reason
            waiting, self._waiting = list(self._waiting), deque()
            idle, self._idle = self._idle, []
            threads = list(self._threads)
        for loop, future, _, _ in waiting:
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
                loop.call_soon_threadsafe(future.cancel)
        for worker in idle:
            worker.call = None
            worker.wake.release()
        return threads


def _at_exit(pool_ref: weakref.ref[WorkerThreads]) -> None:
    # As concurrent.futures does for its executors: at interpreter exit the running
    # calls end before the process does, and no new call is taken.
    pool = pool_ref()
    if pool is not None:
        for thread in pool._close("interpreter shutdown"):
            thread.join()
