"""A restore after a callback replaced a named model: the models after it still match by creation order.

A real daphne process (SQLite store), killed -9 and started again, and docsync's Python
client. A room's callback drawing its named plot again (a new model, the same name) is
common; the restore used to pair the application's unnamed models with the saved ids
shifted by one from there on: a model of another type stood in the next place, and the
room was refused as "the application changed" (1011) at every restore, for everyone,
until its snapshot expired (or, were the types equal, a model came back without its
callbacks).

Restored from its snapshot, or from its first snapshot and the journal alone (snapshots
an hour apart): the log says the position the session is at (it said the snapshot's, 0
for the second).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

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


@pytest.fixture(params=["snapshot", "journal"])
def room_site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Site]:
    """daphne and SQLite; "journal": no snapshot after the session's first one (the restore replays the journal)."""
    running = Site(tmp_path, DOCSYNC_SNAPSHOT_INTERVAL="3600" if request.param == "journal" else "0.2")
    try:
        yield running
    finally:
        running.stop()


async def test_a_room_whose_callback_replaced_its_named_plot_is_restored_with_its_callbacks(room_site: Site) -> None:
    site = room_site
    from_journal = site.env["DOCSYNC_SNAPSHOT_INTERVAL"] == "3600"
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
        assert seq is not None and seq > 0
        if not from_journal:
            await wait_until(lambda: (site.saved_seq(client.id) or -1) >= seq, "the snapshot of the last change")
        assert site.saved_seq(client.id) == (0 if from_journal else seq)

        site.server.kill()
        await wait_until(lambda: not client.connected.is_set(), "the client to see its socket drop")
        second = site.start().server
        await client.reconnect()  # refused 1011 (ServerError) before: "the application changed"

        assert not client.resumed_fresh
        assert client.incarnation == incarnation
        assert f"snapshot of session {client.id} refused" not in site.log()
        restored = re.findall(rf"session {client.id} of board_redraw restored at position (\d+)", site.log())
        assert restored and {int(position) for position in restored} == {seq}, (restored, seq)
        assert document.get_model_by_name("plot").text == "drawn 1"  # type: ignore[union-attr]
        # The application's callbacks are wired to the restored models, the unnamed slider's too.
        _unnamed_slider(client).value = 9
        document.get_model_by_name("redraws").value = 2
        await client.sync(EVENT_WAIT)
        await client.wait_for(lambda: echo.text == f"value=9 pid={second.pid}", EVENT_WAIT)  # type: ignore[union-attr]
        await client.wait_for(lambda: document.get_model_by_name("plot").text == "drawn 2", EVENT_WAIT)  # type: ignore[union-attr]
    finally:
        await client.close()
