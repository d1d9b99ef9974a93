"""A restore after a callback replaced a named model: the models after it still match by creation order.

A real daphne process (SQLite store), killed -9 and started again, and docsync's Python
client. A room's callback drawing its named plot again (a new model, the same name) is
common; the restore used to pair the application's unnamed models with the saved ids
shifted by one from there on: a model of another type stood in the next place, and the
room was refused as "the application changed" (1011) at every restore, for everyone,
until its snapshot expired (or, were the types equal, a model came back without its
callbacks).
"""

from __future__ import annotations

import asyncio

import pytest

from docsync.client import ClientSession, fetch_page_config
from docsync.document.models import Slider
from docsync.testing import EVENT_WAIT

from .conftest import Site
from .test_kill_and_drain import wait_until

pytestmark = pytest.mark.asyncio


def _unnamed_slider(client: ClientSession) -> Slider:
    (slider,) = [m for m in client.document.models.values() if isinstance(m, Slider) and m.name is None]
    return slider


async def test_a_room_whose_callback_replaced_its_named_plot_is_restored_with_its_callbacks(site: Site) -> None:
    site.start()
    config = await asyncio.to_thread(fetch_page_config, site.url + "board_redraw/")
    client = ClientSession(config)
    await client.connect()
    try:
        document = client.document
        document.get_model_by_name("redraws").value = 1  # its callback puts a new model named "plot" in place
        _unnamed_slider(client).value = 7
        await client.sync(EVENT_WAIT)
        echo = document.get_model_by_name("echo")
        await client.wait_for(lambda: echo.text.startswith("value=7 "), EVENT_WAIT)  # type: ignore[union-attr]
        await client.wait_for(lambda: document.get_model_by_name("plot").text == "drawn 1", EVENT_WAIT)  # type: ignore[union-attr]
        seq, incarnation = client.last_seq, client.incarnation
        await wait_until(lambda: (site.saved_seq(client.id) or -1) >= seq, "the snapshot of the last change")

        site.server.kill()
        await wait_until(lambda: not client.connected.is_set(), "the client to see its socket drop")
        second = site.start().server
        await client.reconnect()  # refused 1011 (ServerError) before: "the application changed"

        assert not client.resumed_fresh
        assert client.incarnation == incarnation
        assert f"snapshot of session {client.id} refused" not in site.log()
        assert document.get_model_by_name("plot").text == "drawn 1"  # type: ignore[union-attr]
        # The application's callbacks are wired to the restored models, the unnamed slider's too.
        _unnamed_slider(client).value = 9
        document.get_model_by_name("redraws").value = 2
        await client.sync(EVENT_WAIT)
        await client.wait_for(lambda: echo.text == f"value=9 pid={second.pid}", EVENT_WAIT)  # type: ignore[union-attr]
        await client.wait_for(lambda: document.get_model_by_name("plot").text == "drawn 2", EVENT_WAIT)  # type: ignore[union-attr]
    finally:
        await client.close()
