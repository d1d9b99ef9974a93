"""The Python client's ``sync()`` on a closed connection: an answer at once, not a wait until its timeout.

Changes made while the connection is down, or in flight when it drops, can only be
answered after ``reconnect()``: ``sync()`` raises ServerError saying so, keeps them, and
``reconnect()`` sends them. A timeout of EVENT_WAIT (60 s) makes the difference plain:
before, ``sync()`` polled until it and raised TimeoutError.
"""

from __future__ import annotations

import asyncio

import pytest

from docsync.client import ServerError
from docsync.testing import EVENT_WAIT

from .clients import ServerUnderTest, open_session, page_config, wait_until
from .conftest import StartServer

pytestmark = pytest.mark.asyncio


async def test_a_change_made_while_disconnected_raises_at_once_and_is_sent_by_reconnect(
    server: ServerUnderTest,
) -> None:
    config = await page_config(server, "sliders")
    session = await open_session(config)
    watcher = await open_session(config)
    try:
        await session.disconnect()
        session.document.get_model_by_name("amplitude").value = 3.25
        with pytest.raises(ServerError, match=r"reconnect\(\) sends them again"):
            await session.sync(EVENT_WAIT)
        assert session.pending == 1  # kept
        assert watcher.document.get_model_by_name("amplitude").value == 1.0
        assert session.close_code is not None  # the dropped connection's
        await session.reconnect()
        assert session.close_code is None and session.close_reason is None  # the new one is open
        await session.sync(EVENT_WAIT)
        assert session.pending == 0
        amplitude = watcher.document.get_model_by_name("amplitude")
        await wait_until(lambda: amplitude.value == 3.25, EVENT_WAIT, "the change at the other connection")
    finally:
        await session.close()
        await watcher.close()


async def test_a_server_killed_under_a_waiting_sync_makes_it_raise(start_server: StartServer) -> None:
    server = start_server("killed-under-sync")
    config = await page_config(server, "sliders")
    session = await open_session(config)
    try:
        server.server.kill()  # kill -9: the socket drops with no close frame
        await wait_until(lambda: not session.connected.is_set(), EVENT_WAIT, "the drop")
        session.document.get_model_by_name("frequency").value = 2.5
        with pytest.raises(ServerError, match=r"connection closed \(1006"):
            await session.sync(EVENT_WAIT)
        assert session.pending == 1
    finally:
        await session.close()
        server.stop()


async def test_a_sync_waiting_beside_a_reconnect_gets_its_answer(server: ServerUnderTest) -> None:
    """A reconnect() under way (still dropping the old socket) is not a closed connection for sync()."""
    config = await page_config(server, "sliders")
    session = await open_session(config)
    try:
        session.document.get_model_by_name("amplitude").value = 2.5
        reconnecting = asyncio.ensure_future(session.reconnect())
        await asyncio.sleep(0)  # reconnect() has begun: the old socket is being closed
        await session.sync(EVENT_WAIT)
        await reconnecting
        assert session.pending == 0
    finally:
        await session.close()
