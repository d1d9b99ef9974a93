"""CallbackTasks: the scheduling both dialects' sessions share (from any thread, run to the end, stopped for good)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest

from docsync.server.session.callback_tasks import CallbackTasks

pytestmark = pytest.mark.asyncio


async def test_a_callback_scheduled_from_another_thread_runs_on_the_loop_once() -> None:
    tasks = CallbackTasks()
    ran: list[tuple[str, int]] = []
    done = asyncio.Event()

    async def run(name: str) -> None:
        ran.append((name, threading.get_ident()))
        done.set()

    worker = threading.Thread(target=lambda: [tasks.schedule("a", run, "a") for _ in range(3)])
    worker.start()
    worker.join()
    await asyncio.wait_for(done.wait(), 10)
    await asyncio.sleep(0)
    # Three schedules of one key while its task is live make one task, on the loop's thread.
    assert ran == [("a", threading.get_ident())]


async def test_unscheduled_before_it_fires_it_never_runs_and_a_fired_key_may_come_again() -> None:
    tasks = CallbackTasks()
    ran: list[str] = []
    ended = asyncio.Queue[str]()

    async def later(name: str) -> None:
        await asyncio.sleep(0.01)
        tasks.fired(name)
        ran.append(name)
        ended.put_nowait(name)

    tasks.schedule("x", later, "x")
    tasks.unschedule("x")  # cancelled before it started: it never runs
    tasks.schedule("y", later, "y")
    assert await asyncio.wait_for(ended.get(), 10) == "y"
    tasks.schedule("y", later, "y")  # fired: its key is free again
    assert await asyncio.wait_for(ended.get(), 10) == "y"
    assert ran == ["y", "y"]


async def test_an_invocation_runs_to_its_end_when_its_awaiter_is_cancelled() -> None:
    tasks = CallbackTasks()
    started, release = asyncio.Event(), asyncio.Event()
    finished: list[str] = []

    async def call(name: str) -> None:
        started.set()
        await release.wait()
        finished.append(name)

    awaiter = asyncio.create_task(tasks.invoke(call, "slow"))
    await started.wait()
    awaiter.cancel()
    await asyncio.sleep(0)
    assert awaiter.cancelled() or awaiter.done()
    release.set()
    for _ in range(10):
        await asyncio.sleep(0)
    assert finished == ["slow"]


async def until(predicate: Callable[[], bool]) -> None:
    """Let the loop turn until ``predicate`` holds."""
    while not predicate():
        await asyncio.sleep(0)


async def test_stop_waits_for_running_invocations_and_nothing_runs_after() -> None:
    tasks = CallbackTasks()
    started, release = asyncio.Event(), asyncio.Event()
    calls: list[str] = []

    async def call(name: str) -> None:
        started.set()
        await release.wait()
        calls.append(name)

    async def periodic(name: str) -> None:
        while not tasks.stopped:
            await tasks.invoke(call, name)

    tasks.schedule("p", periodic, "p")
    await started.wait()
    stopping = asyncio.create_task(tasks.stop())
    await asyncio.wait_for(until(lambda: tasks.stopped), 60)  # stop ran up to its wait
    assert not stopping.done() and tasks.running  # the invocation in progress is awaited
    release.set()
    await asyncio.wait_for(stopping, 10)
    assert calls == ["p"]
    tasks.schedule("q", periodic, "q")
    await tasks.invoke(call, "r")
    # Nothing was started that could run later: no task, no invocation.
    assert not tasks._tasks and not tasks.running
    assert calls == ["p"] and tasks.stopped
