"""A Bokeh room whose ids are uuids (``BOKEH_SIMPLE_IDS=no``): no visitor can make its restore fail.

A real daphne process (SQLite store), killed -9 and started again, and a client speaking
Bokeh's protocol. Any visitor of a Bokeh room may remove its roots and add models of its
own, as in Bokeh. Bokeh's simple ids (``p1234``) are the server's by their shape; uuids
are not, so a visitor removed the room's layout and defined a Div under the layout's id,
and every restore then found a Div where the application builds a Row: the room's page
answered 500, for everyone, until its snapshot expired. Now a new model may take an id
the application built only with the type built there (ERROR ``patch-refused``).
"""

from __future__ import annotations

import asyncio
import urllib.error
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")

from .conftest import Site
from .test_bokeh_sessions import SETTINGS, BokehWire, open_page

APP = "bk_sliders_room"


@pytest.fixture
def uuid_site(tmp_path: Path) -> Iterator[Site]:
    """daphne and SQLite; Bokeh's model ids are uuids."""
    running = Site(tmp_path, kind="daphne", DJANGO_SETTINGS_MODULE=SETTINGS, BOKEH_SIMPLE_IDS="no")
    try:
        yield running
    finally:
        running.stop()


async def _patch(wire: BokehWire, *events: dict[str, object]) -> tuple[str, dict[str, object]]:
    header, content = await wire.reply_to(await wire.send("PATCH-DOC", {"events": list(events)}))
    return str(header["msgtype"]), content


def test_no_visitor_of_a_bokeh_room_can_put_a_model_of_another_type_under_an_id_of_the_application(
    uuid_site: Site,
) -> None:
    site = uuid_site.start()
    token, _ = open_page(site, APP + "/?room=r1")

    async def visit() -> str:
        wire = await BokehWire.open(site, APP, token)
        try:
            doc = await wire.pull()
            layout = doc["roots"][0]["id"]
            assert not layout.startswith("p")  # a uuid: not the server's by its shape
            assert await _patch(wire, {"kind": "RootRemoved", "model": {"id": layout}}) == ("OK", {})
            div = {"type": "object", "name": "Div", "id": layout, "attributes": {"text": "mine"}}
            answer = await _patch(wire, {"kind": "RootAdded", "model": div})
            assert answer == (
                "ERROR",
                {"text": f"model id {layout!r} is reserved for the application's Row", "code": "patch-refused"},
            )
            assert (await wire.pull())["roots"] == []  # nothing changed by the refusal
            # A model of its own, under an id of its own, is the visitor's to add.
            mine = {"type": "object", "name": "Div", "id": "mine-1", "attributes": {"text": "mine"}}
            assert await _patch(wire, {"kind": "RootAdded", "model": mine}) == ("OK", {})
            return layout
        finally:
            await wire.socket.close()

    layout = asyncio.run(visit())
    site.server.kill()
    site.start()
    try:  # another visitor's page restores the room (it answered 500 at every restore)
        token, _ = open_page(site, APP + "/?room=r1")
    except urllib.error.HTTPError as exc:
        raise AssertionError(f"the room's page answered {exc.code}") from exc

    async def again() -> dict[str, object]:
        wire = await BokehWire.open(site, APP, token)
        try:
            return await wire.pull()
        finally:
            await wire.socket.close()

    doc = asyncio.run(again())
    assert [root["id"] for root in doc["roots"]] == ["mine-1"]  # type: ignore[index]
    assert layout not in str(doc["roots"])
