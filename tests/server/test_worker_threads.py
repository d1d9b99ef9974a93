"""Where sync user code runs: docsync's worker threads (docsync/server/worker_threads.py, executor.py).

Real threads, real event loops; every wait is bounded (a thread that never answers
fails the test instead of hanging it).
"""

from __future__ import annotations

import asyncio
import threading

import pytest
from django.db import connection, connections

from docsync.exceptions import ServerBusyError
from docsync.server import executor
from docsync.server.worker_threads import WorkerThreads

WAIT_S = 30  # far above what any of these calls takes: only a hang reaches it


def _held(started: threading.Barrier, release: threading.Event) -> int:
    started.wait(WAIT_S)
    release.wait(WAIT_S)
    return threading.get_ident()


@pytest.mark.asyncio
async def test_sequential_calls_after_a_burst_stay_on_one_thread() -> None:
    # A burst starts several worker threads; the calls after it come one at a time, as a
    # session's round trips do. An executor's idle threads wait on one queue and take
    # those calls in turn (each on a colder thread, with more switches); here the thread
    # that went idle last takes the next, so they all run on one.
    burst = 4
    started, release = threading.Barrier(burst + 1), threading.Event()
    held = [asyncio.ensure_future(executor.run_sync(_held, started, release)) for _ in range(burst)]
    await asyncio.to_thread(started.wait, WAIT_S)  # all four run at once: four threads
    release.set()
    assert len(set(await asyncio.wait_for(asyncio.gather(*held), WAIT_S))) == burst
    ran_on = [await asyncio.wait_for(executor.run_sync(threading.get_ident), WAIT_S) for _ in range(20)]
    assert len(set(ran_on)) == 1
    assert ran_on[0] != threading.get_ident()  # not the loop's thread


@pytest.mark.asyncio
async def test_results_exceptions_and_the_wrapper() -> None:
    wrapped: list[str] = []

    def around(func: object, args: tuple[object, ...]) -> object:
        wrapped.append(threading.current_thread().name)
        return func(*args)  # type: ignore[operator]

    threads = WorkerThreads("test-results", 2, around=around)
    try:
        assert await asyncio.wait_for(threads.submit(divmod, 7, 2), WAIT_S) == (3, 1)
        with pytest.raises(ZeroDivisionError):
            await asyncio.wait_for(threads.submit(divmod, 1, 0), WAIT_S)
        assert wrapped == ["test-results_0", "test-results_0"]
    finally:
        threads.shutdown()


@pytest.mark.asyncio
async def test_at_most_max_threads_and_waiting_calls_all_run() -> None:
    threads = WorkerThreads("test-bound", 2)
    running, most = [0], [0]
    lock = threading.Lock()
    gate = threading.Event()

    def call(n: int) -> int:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        gate.wait(WAIT_S)
        with lock:
            running[0] -= 1
        return n

    try:
        calls = [threads.submit(call, n) for n in range(6)]
        gate.set()
        assert await asyncio.wait_for(asyncio.gather(*calls), WAIT_S) == list(range(6))
        assert most[0] == 2
        assert len({thread.name for thread in threading.enumerate() if thread.name.startswith("test-bound")}) == 2
    finally:
        threads.shutdown()


@pytest.mark.asyncio
async def test_shutdown_cancels_waiting_calls_and_refuses_new_ones() -> None:
    threads = WorkerThreads("test-shutdown", 1)
    started, release = threading.Barrier(2), threading.Event()
    running = threads.submit(_held, started, release)
    ran: list[int] = []
    waiting = threads.submit(ran.append, 1)
    await asyncio.to_thread(started.wait, WAIT_S)
    threads.shutdown()
    with pytest.raises(RuntimeError, match="after shutdown"):
        threads.submit(ran.append, 2)
    release.set()
    assert await asyncio.wait_for(running, WAIT_S) > 0  # the running call ends
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(waiting, WAIT_S)
    assert ran == []


@pytest.mark.asyncio
async def test_a_call_cancelled_before_it_starts_does_not_run() -> None:
    threads = WorkerThreads("test-cancel", 1)
    started, release = threading.Barrier(2), threading.Event()
    try:
        running = threads.submit(_held, started, release)
        ran: list[int] = []
        waiting = threads.submit(ran.append, 1)
        await asyncio.to_thread(started.wait, WAIT_S)
        waiting.cancel()
        release.set()
        await asyncio.wait_for(running, WAIT_S)
        assert await asyncio.wait_for(threads.submit(len, ran), WAIT_S) == 0  # after the cancelled one's turn
    finally:
        threads.shutdown()


@pytest.mark.asyncio
async def test_run_sync_after_shutdown_is_server_busy() -> None:
    pool = executor._get_executor()
    try:
        pool.shutdown()
        with pytest.raises(ServerBusyError):
            await executor.run_sync(len, [])
    finally:
        executor.shutdown_executor()  # the next run_sync starts a fresh pool
    assert await asyncio.wait_for(executor.run_sync(len, [1]), WAIT_S) == 1


def _query() -> int:
    """Open this thread's database connection (a query); return the thread."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return threading.get_ident()


def _held_open() -> tuple[int, bool]:
    """This thread, and whether it holds an open database connection as a call starts."""
    return threading.get_ident(), connection.connection is not None


def _close() -> None:
    connection.close()


@pytest.mark.asyncio
async def test_a_sync_calls_database_connection_is_closed_as_a_requests_would_be(database: str) -> None:
    # CONN_MAX_AGE 0 (Django's default): a call that opened a connection leaves none open
    # after it, as a request does; with 60 the connection stays for the thread's next call,
    # unless it went past its age meanwhile: then it is closed before that call runs.
    # (executor._call_in_worker checks only threads that hold an open connection.)
    settings_dict = connections.settings["default"]  # shared by every thread's connection
    max_age = settings_dict["CONN_MAX_AGE"]
    try:
        for age, stays in ((0, False), (60, True)):
            settings_dict["CONN_MAX_AGE"] = age
            ran_on = await asyncio.wait_for(executor.run_sync(_query), WAIT_S)
            assert await asyncio.wait_for(executor.run_sync(_held_open), WAIT_S) == (ran_on, stays), age
        # Past its age while the thread idled: the next call's check closes it before it runs.
        await asyncio.wait_for(executor.run_sync(_close), WAIT_S)  # the one of 60 s
        settings_dict["CONN_MAX_AGE"] = 1
        assert await asyncio.wait_for(executor.run_sync(_query), WAIT_S) == ran_on
        await asyncio.sleep(1.5)
        assert await asyncio.wait_for(executor.run_sync(_held_open), WAIT_S) == (ran_on, False)
        # Again after it was closed: a connection opened anew is checked as before.
        settings_dict["CONN_MAX_AGE"] = 0
        assert await asyncio.wait_for(executor.run_sync(_query), WAIT_S) == ran_on
        assert await asyncio.wait_for(executor.run_sync(_held_open), WAIT_S) == (ran_on, False)
    finally:
        settings_dict["CONN_MAX_AGE"] = max_age
        await asyncio.wait_for(executor.run_sync(_close), WAIT_S)
