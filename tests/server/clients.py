"""Client-side helpers of the server tests: docsync sessions and raw websockets."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from docsync.client import ClientSession, fetch_page_config
from docsync.protocol import PULL_DOC_REPLY
from docsync.testing import EVENT_WAIT, SiteUnderTest

ROOT = Path(__file__).resolve().parents[2]
#: Short expiry for the servers, so the expiry tests take about a second.
LIFETIME = 1.0
CHECK_INTERVAL = 0.2


class ServerUnderTest(SiteUnderTest):
    """A server process of ``tests.server.settings`` (daphne or ``kind``) and the files its applications write to."""

    def __init__(self, folder: Path, database: str, kind: str = "daphne", **env: str) -> None:
        self.tick_log = folder / "ticks.log"
        self.hook_log = folder / "hooks.log"
        super().__init__(
            folder,
            settings=env.pop("DJANGO_SETTINGS_MODULE", "tests.server.settings"),
            servers=(kind,),
            cwd=ROOT,
            env={
                "DJANGO_DEBUG": "1",
                "DOCSYNC_SQLITE": database,
                "DOCSYNC_TICK_LOG": str(self.tick_log),
                "DOCSYNC_HOOK_LOG": str(self.hook_log),
                "DOCSYNC_UNUSED_SESSION_LIFETIME": str(LIFETIME),
                "DOCSYNC_CHECK_UNUSED_SESSIONS": str(CHECK_INTERVAL),
                **env,
            },
        )
        self.log = self.log_path(0)

    @property
    def ws_base(self) -> str:
        return f"ws://127.0.0.1:{self.server.port}/"

    def get(self, path: str) -> tuple[int, str]:
        return self.server.get(path)


async def page_config(server: ServerUnderTest, app: str) -> dict[str, Any]:
    """GET the app's page and return the client configuration it embeds."""
    return await asyncio.to_thread(fetch_page_config, f"{server.url}{app}/")


async def open_session(config: dict[str, Any], **kwargs: Any) -> ClientSession:
    """Connect a ClientSession (ACK, then PULL-DOC) with ``config``."""
    session = ClientSession(config, **kwargs)
    await asyncio.wait_for(session.connect(), EVENT_WAIT)
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
    """Wait until ``predicate()`` holds, polling; fail after ``timeout`` seconds (at least ``EVENT_WAIT``)."""
    timeout = max(timeout, EVENT_WAIT)
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.01)
