"""A restore after a callback replaced a named model: the models after it still match by creation order.

A real daphne process (SQLite store), killed -9 and started again, and docsync's Python
client. A room's callback drawing its named plot again (a new model, the same name) is
common; the restore used to pair the application's unnamed models with the saved ids
shifted by one from there on: a model of another type stood in the next place, and the
room was refused as "the application changed" (1011) at every restore, for everyone,
until its snapshot expired (or, were the types equal, a model came back without its
callbacks).

A room whose visitors may change its structure: a visitor removed its root and defined
a Div under the root's id, which the restore then found where the application builds
its Column, and refused the room (1011) for everyone. A client may define a model under
an id the application built only with the type it built (ERROR, nothing changed).

Restored from its snapshot, or from its first snapshot and the journal alone (snapshots
an hour apart): the log says the position the session is at (it said the snapshot's, 0
for the second).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from docsync.client import ClientSession, fetch_page_config
from docsync.document.models import Slider, TextInput
from docsync.protocol import ACK, ERROR, OK, PULL_DOC_REPLY, new_message, pull_doc_req
from docsync.testing import EVENT_WAIT, RawSocket

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


def _input(client: ClientSession, title: str) -> TextInput:
    (model,) = [m for m in client.document.models.values() if isinstance(m, TextInput) and m.title == title]
    return model


async def test_an_input_a_callback_renamed_and_the_one_it_gave_its_name_keep_their_callbacks_after_a_kill(
    site: Site,
) -> None:
    # The slider's callback renames input "a" to None and names the unnamed input "a". Matched
    # by the names the snapshot holds, the second input came back running a's callback, and
    # the first none; the snapshot now records the names the application built them with.
    site.start()
    config = await asyncio.to_thread(fetch_page_config, site.url + "board_renamed/")
    client = ClientSession(config)
    await client.connect()
    try:
        document = client.document
        document.get_model_by_name("renames").value = 1
        await client.sync(EVENT_WAIT)
        await client.wait_for(lambda: _input(client, "first").name is None, EVENT_WAIT)
        assert _input(client, "second").name == "a"
        seq = client.last_seq
        assert seq is not None and seq > 0
        await wait_until(lambda: (site.saved_seq(client.id) or -1) >= seq, "the snapshot of the renames")

        site.server.kill()
        await wait_until(lambda: not client.connected.is_set(), "the client to see its socket drop")
        second = site.start().server
        await client.reconnect()
        assert f"session {client.id} of board_renamed restored" in site.log()
        echo = document.get_model_by_name("echo")
        for title in ("second", "first"):
            value = f"{title} after the restore"
            _input(client, title).value = value
            await client.sync(EVENT_WAIT)
            await client.wait_for(lambda v=value: f" saw {v} " in echo.text, EVENT_WAIT)  # type: ignore[misc,union-attr]
            # Before: "first's saw second after ..." (the name's callbacks), then nothing for the first.
            assert echo.text == f"{title}'s saw {value} pid={second.pid}"  # type: ignore[union-attr]
    finally:
        await client.close()


async def _visitor(site: Site) -> tuple[RawSocket, dict[str, Any], str]:
    """A visitor of the open room, connected: its socket, the document it pulled, the session's id."""
    config = await asyncio.to_thread(fetch_page_config, site.url + "board_open_room/?room=r1")
    sock = await RawSocket.connect(config["wsUrl"], config["token"])
    first = await sock.read_message(EVENT_WAIT)
    assert first.msgtype == ACK, first.content
    reply = await sock.request(pull_doc_req())
    assert reply.msgtype == PULL_DOC_REPLY, reply.content
    return sock, reply.content["doc"], config["sessionId"]


async def _define_div_under(sock: RawSocket, model_id: str) -> Any:
    """A RootAdded of a Div defined under ``model_id``: the answer."""
    div = {"type": "object", "name": "Div", "id": model_id, "attributes": {"text": "mine"}}
    content = {"events": [{"kind": "RootAdded", "model": {"id": model_id}}], "references": [div]}
    return await sock.request(new_message("PATCH-DOC", content))


async def test_no_visitor_of_an_open_room_can_define_a_model_of_another_type_under_an_id_of_the_application(
    site: Site,
) -> None:
    site.start()
    sock, before, session_id = await _visitor(site)
    try:
        column = before["roots"][0]["id"]  # the board's layout: no code of the app holds it once removed
        removed = await sock.request(
            new_message("PATCH-DOC", {"events": [{"kind": "RootRemoved", "model": {"id": column}}]})
        )
        assert removed.msgtype == OK, removed.content  # the app lets clients change its structure
        after_removal = (await sock.request(pull_doc_req())).content["doc"]
        refused = await _define_div_under(sock, column)
        assert refused.msgtype == ERROR, refused.content
        assert refused.content == {
            "text": f"model id {column!r} is reserved for the application's Column",
            "code": "patch-refused",
        }
        assert (await sock.request(pull_doc_req())).content["doc"] == after_removal  # nothing changed
        taken = await _define_div_under(sock, "mine1")  # an id of its own is the client's to use
        assert taken.msgtype == OK, taken.content
        seq = taken.content["seq"]
        await wait_until(lambda: (site.saved_seq(session_id) or -1) >= seq, "the snapshot")
    finally:
        await sock.close()

    site.server.kill()
    site.start()
    sock, restored, _ = await _visitor(site)  # another visitor: restored (it was refused 1011 at every restore)
    try:
        assert [root["id"] for root in restored["roots"]][-1] == "mine1"
        assert column not in {model["id"] for model in restored["models"]}
        # The restored session keeps the rule, for the ids it matched: the source's, say.
        source = next(m["id"] for m in restored["models"] if m["attributes"].get("name") == "source")
        content = {"events": [{"kind": "RootRemoved", "model": {"id": source}}]}
        assert (await sock.request(new_message("PATCH-DOC", content))).msgtype == OK
        refused = await _define_div_under(sock, source)
        assert refused.msgtype == ERROR, refused.content
        assert refused.content["text"] == f"model id {source!r} is reserved for the application's ColumnDataSource"
    finally:
        await sock.close()
