"""At exit, websockets a stopped server left suspended are closed while the interpreter is whole (docs/upstream.md)."""

from __future__ import annotations

import asyncio

from docsync.server.connection import consumer


def test_suspended_websocket_coroutines_are_closed_at_exit() -> None:
    loop = asyncio.new_event_loop()
    queue: asyncio.Queue[object] = asyncio.Queue()
    cleaned: list[str] = []

    async def websocket() -> None:  # as a consumer awaiting daphne's input queue
        try:
            await queue.get()
        finally:
            cleaned.append("ran its cleanup")

    async def start() -> asyncio.Task[None]:
        task = loop.create_task(websocket())
        consumer._running.add(task)
        await asyncio.sleep(0)  # now suspended in Queue.get
        return task

    task = loop.run_until_complete(start())
    loop.stop()  # as daphne does on SIGTERM: the task never runs again
    try:
        assert not task.done() and task.get_coro().cr_frame is not None
        assert consumer.close_abandoned_websockets() == 1
        assert task.get_coro().cr_frame is None, "the coroutine is closed, nothing left for finalization"
        assert cleaned == ["ran its cleanup"]
    finally:
        loop.close()
