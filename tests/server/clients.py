"""Client-side helpers of the server tests: docsync sessions and raw websockets."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from docsync.client import ClientSession, fetch_page_config
from docsync.protocol import PULL_DOC_REPLY
from docsync.testing import ServerProcess


class ServerUnderTest:
    """A running server process with the files its applications write to."""

    def __init__(self, process: ServerProcess, log: Path, tick_log: Path, hook_log: Path) -> None:
        self.process = process
        self.log = log
        self.tick_log = tick_log
        self.hook_log = hook_log

    @property
    def url(self) -> str:
        return self.process.url

    @property
    def ws_base(self) -> str:
        return f"ws://127.0.0.1:{self.process.port}/"

    def get(self, path: str) -> tuple[int, str]:
        return self.process.get(path)


async def page_config(server: ServerUnderTest, app: str) -> dict[str, Any]:
    """GET the app's page and return the client configuration it embeds."""
    return await asyncio.to_thread(fetch_page_config, f"{server.url}{app}/")


async def open_session(config: dict[str, Any], **kwargs: Any) -> ClientSession:
    """Connect a ClientSession (ACK, then PULL-DOC) with ``config``."""
    session = ClientSession(config, **kwargs)
    await asyncio.wait_for(session.connect(), 10)
    return session


async def pulled_document(config: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
    """Pull the session's document over a fresh connection: its JSON and buffers."""
    session = await open_session(config)
    try:
        reply = next(m for m in session.received if m.msgtype == PULL_DOC_REPLY)
        return reply.content["doc"], [(i, bytes(b)) for i, b in reply.buffers]
    finally:
        await session.close()


async def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Wait until ``predicate()`` holds, polling; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.01)
