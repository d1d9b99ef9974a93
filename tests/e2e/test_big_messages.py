"""Messages over 1 MiB under every documented server: runserver, daphne and uvicorn, as started plainly.

daphne (and so ``manage.py runserver``) limits websocket messages to 1 MiB by default,
in both directions; a larger frame used to hang the connection with nothing logged.
docsync raises the limit of its own websockets to its ``MAX_FRAME_BYTES`` and lets its
outgoing frames through (docsync.server.compat.daphne): these servers are started with
no size flag at all.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import BrowserContext

from docsync.client import ClientSession, fetch_page_config
from docsync.protocol import PULL_DOC_REPLY
from docsync.testing import ServerProcess

from .apps import BIG_FRAME_POINTS
from .browser import open_app
from .conftest import SCREENSHOTS, site

SERVERS = ("runserver", "daphne", "uvicorn")


@pytest.fixture(scope="module")
def servers(workdir: Path, database: str) -> Iterator[dict[str, ServerProcess]]:
    """The demo site under each server, each started with its plain documented command."""
    with site(workdir, database, "big-messages", servers=SERVERS) as running:
        yield dict(zip(SERVERS, running.servers, strict=True))


def _pull(page_url: str) -> list[tuple[str, bytes]]:
    """Open a session of the app page at ``page_url``; return the buffers of its PULL-DOC-REPLY."""

    async def pull() -> list[tuple[str, bytes]]:
        config = await asyncio.to_thread(fetch_page_config, page_url)
        session = ClientSession(config)
        await asyncio.wait_for(session.connect(), 30)
        try:
            reply = next(m for m in session.received if m.msgtype == PULL_DOC_REPLY)
            return [(i, bytes(b)) for i, b in reply.buffers]
        finally:
            await session.close()

    # Playwright's sync API may own this thread's event loop: the client gets its own.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, pull()).result(timeout=90)


@pytest.mark.parametrize("kind", SERVERS)
def test_a_16_mb_frame_and_a_16_mb_message_arrive_whole(servers: dict[str, ServerProcess], kind: str) -> None:
    server = servers[kind]
    # One frame of 16,000,000 bytes.
    (buffer,) = _pull(server.url + "big_frame/")
    np.testing.assert_array_equal(np.frombuffer(buffer[1], dtype=np.float64), np.arange(BIG_FRAME_POINTS))
    # bench_big: a 16 MB message of two 8 MB frames.
    buffers = _pull(server.url + "bench_big/")
    assert sorted(len(data) for _, data in buffers) == [8_000_000, 8_000_000]
    x = np.linspace(0, 10, 1_000_000)
    arrays = [np.frombuffer(data, dtype=np.float64) for _, data in buffers]
    assert any(np.array_equal(a, x) for a in arrays) and any(np.array_equal(a, np.sin(x / 10)) for a in arrays)


def test_bench_big_loads_in_chromium_under_runserver(
    servers: dict[str, ServerProcess], context: BrowserContext
) -> None:
    page = open_app(context, servers["runserver"].url + "bench_big/")
    points = page.evaluate("window.docsync.getModelByName('source').get('data').x.length")
    assert points == 1_000_000
    page.locator('[data-docsync-name="slider"] input').first.wait_for()
    page.screenshot(path=str(SCREENSHOTS / "bench-big-runserver.png"))
    assert page.errors == []  # type: ignore[attr-defined]
