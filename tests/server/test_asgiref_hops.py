"""compat/asgiref_hops.in_thread does what a thread-sensitive sync_to_async call does in the request's context."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from asgiref.local import Local
from asgiref.sync import ThreadSensitiveContext, async_to_sync, sync_to_async

from docsync.server.compat.asgiref_hops import LEAN_HOPS, in_thread

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.skipif(not LEAN_HOPS, reason="an asgiref release in_thread was not read from"),
]

_VAR: contextvars.ContextVar[str] = contextvars.ContextVar("test_asgiref_hops")
_LOCAL = Local()


def _work(log: list[Any]) -> str:
    log.append(("thread", threading.get_ident()))
    log.append(("var", _VAR.get("unset")))
    log.append(("local", getattr(_LOCAL, "value", "unset")))
    _VAR.set("from the thread")
    _LOCAL.value = "set in the thread"

    async def on_the_loop() -> int:
        return threading.get_ident()

    log.append(("async_to_sync", async_to_sync(on_the_loop)()))
    return "done"


async def _run(hop: str) -> tuple[list[Any], str, str, str, int]:
    executor = ThreadPoolExecutor(max_workers=1)
    log: list[Any] = []
    try:
        async with ThreadSensitiveContext(executor=executor):
            _VAR.set("from the loop")
            _LOCAL.value = "set on the loop"
            if hop == "in_thread":
                result = await in_thread(executor, _work, log)
            else:
                result = await sync_to_async(_work, thread_sensitive=True)(log)
            worker = executor.submit(threading.get_ident).result()
            return log, result, _VAR.get(), getattr(_LOCAL, "value", "unset"), worker
    finally:
        executor.shutdown()


async def test_the_same_thread_context_and_results_as_sync_to_async() -> None:
    context = contextvars.copy_context()
    ours = await asyncio.create_task(_run("in_thread"), context=context.copy())
    theirs = await asyncio.create_task(_run("sync_to_async"), context=context.copy())
    for log, result, _, _, worker in (ours, theirs):
        loop_thread = threading.get_ident()
        assert dict(log)["thread"] == worker != loop_thread  # on the executor's thread
        assert dict(log)["async_to_sync"] == loop_thread  # async_to_sync inside comes back to this loop
        assert result == "done"
    # What the thread saw and what it left to the loop: the same both ways.
    assert [entry for entry in ours[0] if entry[0] in ("var", "local")] == [
        entry for entry in theirs[0] if entry[0] in ("var", "local")
    ]
    assert ours[2:4] == theirs[2:4] == ("from the thread", "set in the thread")


async def test_an_exception_in_the_thread_is_raised_on_the_loop() -> None:
    def fail() -> None:
        raise KeyError("in the thread")

    with ThreadPoolExecutor(max_workers=1) as executor:
        async with ThreadSensitiveContext(executor=executor):
            with pytest.raises(KeyError, match="in the thread"):
                await in_thread(executor, fail)


async def test_cancelled_while_it_runs_it_raises_at_once_and_the_call_ends_in_its_thread() -> None:
    started, release, ended = threading.Event(), threading.Event(), threading.Event()

    def slow() -> None:
        started.set()
        release.wait(10)
        ended.set()

    with ThreadPoolExecutor(max_workers=1) as executor:
        async with ThreadSensitiveContext(executor=executor):
            task = asyncio.create_task(in_thread(executor, slow))
            while not started.is_set():
                await asyncio.sleep(0.001)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert not ended.is_set()
            release.set()
    assert ended.is_set()


async def test_a_call_cancelled_before_it_starts_never_runs() -> None:
    started, release = threading.Event(), threading.Event()
    ran: list[str] = []

    def blocker() -> None:
        started.set()
        release.wait(10)

    with ThreadPoolExecutor(max_workers=1) as executor:
        async with ThreadSensitiveContext(executor=executor):
            first = asyncio.create_task(in_thread(executor, blocker))
            while not started.is_set():
                await asyncio.sleep(0.001)
            second = asyncio.create_task(in_thread(executor, ran.append, "ran"))
            await asyncio.sleep(0.01)  # queued behind the first
            second.cancel()
            with pytest.raises(asyncio.CancelledError):
                await second
            release.set()
            await first
    assert ran == []


async def test_exceptions_come_as_sync_to_async_brings_them() -> None:
    import concurrent.futures

    def cancelled() -> None:
        raise concurrent.futures.CancelledError("in the thread")

    with ThreadPoolExecutor(max_workers=1) as executor:
        async with ThreadSensitiveContext(executor=executor):
            for hop in (in_thread(executor, cancelled), sync_to_async(cancelled)()):
                with pytest.raises(BaseException) as caught:
                    await hop
                assert type(caught.value) is asyncio.CancelledError
