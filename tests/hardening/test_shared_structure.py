"""A stranger in a shared room may not replace its document: roots, title and new models.

A client could change a session's structure by default (``RootRemoved``, ``RootAdded``,
``TitleChanged``, models defined in ``references``), in every app. In a shared room or a
shareable session that is every other user's document: an anonymous visitor from another
address removed the demo board's root, added a Div of its own in its place and set the
title, and every tab of the room showed the stranger's page (the notes were gone). Now,
unless the application says ``allow_client_structure=True``, the sessions other users may
join refuse it (ERROR ``patch-refused``, the document byte-identical); a session of one
tab still takes it, and an app that opts in still does. Against real daphne and uvicorn.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest

from docsync.protocol import ACK, ERROR, OK, PULL_DOC_REPLY, new_message, pull_doc_req

from .harness import RawSocket, Site, open_raw, site_on_each_server

pytestmark = pytest.mark.asyncio

#: The test site's default limits, under both servers.
site = site_on_each_server("shared-structure")

#: A fresh source address per use: the stranger is another client than the room's maker.
_addresses = (f"127.0.{n // 250 + 60}.{n % 250 + 2}" for n in itertools.count(1))


def _div(model_id: str) -> dict[str, Any]:
    return {"type": "object", "name": "Div", "id": model_id, "attributes": {"text": "This room moved elsewhere."}}


def _takeovers(root: str) -> dict[str, dict[str, Any]]:
    """Each structure change a stranger tries, as a PATCH-DOC's content."""
    return {
        "remove the root": {"events": [{"kind": "RootRemoved", "model": {"id": root}}]},
        "add a root": {"events": [{"kind": "RootAdded", "model": {"id": "mine1"}}], "references": [_div("mine1")]},
        "set the title": {"events": [{"kind": "TitleChanged", "title": "defaced"}]},
        "replace the root": {
            "events": [
                {"kind": "RootRemoved", "model": {"id": root}},
                {"kind": "RootAdded", "model": {"id": "mine2"}},
                {"kind": "TitleChanged", "title": "defaced"},
            ],
            "references": [_div("mine2")],
        },
    }


async def _pull(sock: RawSocket) -> dict[str, Any]:
    reply = await sock.request(pull_doc_req())
    assert reply.msgtype == PULL_DOC_REPLY, reply.content
    doc: dict[str, Any] = reply.content["doc"]
    return doc


async def _room(site: Site, app: str, query: str) -> tuple[RawSocket, RawSocket]:
    """The session's maker and a stranger (another browser, another address), both connected.

    ``query``: the room's (``?room=``); none: the stranger joins by the session's id, as a
    shareable session's link is passed around.
    """
    made = await asyncio.to_thread(site.browser().page_config, app, query)
    maker = await open_raw(made["wsUrl"], made["token"], source_address=next(_addresses))
    assert maker.messages[0].msgtype == ACK, maker.errors()
    join = query or f"?session_id={made['sessionId']}"
    other = await asyncio.to_thread(site.browser().page_config, app, join)
    assert other["sessionId"] == made["sessionId"], "the stranger's page should name the same session"
    stranger = await open_raw(other["wsUrl"], other["token"], source_address=next(_addresses))
    assert stranger.messages[0].msgtype == ACK, stranger.errors()
    return maker, stranger


@pytest.mark.parametrize(("app", "query"), [("hostile_room", "?room=r1"), ("hostile_link", "")])
async def test_a_stranger_may_not_change_the_structure_of_a_session_others_see(
    site: Site, app: str, query: str
) -> None:
    maker, stranger = await _room(site, app, query)
    try:
        before = await _pull(maker)
        for what, content in _takeovers(before["roots"][0]["id"]).items():
            answer = await stranger.request(new_message("PATCH-DOC", content))
            assert answer.msgtype == ERROR, f"{what}: {answer.msgtype} {answer.content}"
            assert answer.content["code"] == "patch-refused", (what, answer.content)
            assert "not allowed from the client" in answer.content["text"], (what, answer.content)
            assert await _pull(maker) == before, f"{what}: the room's document changed"
        # The stranger's allowed changes still go through: it is refused its structure only.
        slider = next(m["id"] for m in before["models"] if m["attributes"].get("name") == "slider")
        set_value = {"events": [{"kind": "ModelChanged", "model": {"id": slider}, "attr": "value", "new": 5}]}
        assert (await stranger.request(new_message("PATCH-DOC", set_value))).msgtype == OK
    finally:
        await stranger.close()
        await maker.close()


@pytest.mark.parametrize("app", ["hostile", "hostile_open_room"])
async def test_a_session_of_one_tab_or_an_app_that_allows_it_takes_structure_changes(site: Site, app: str) -> None:
    query = "?room=r2" if app == "hostile_open_room" else ""
    made = await asyncio.to_thread(site.browser().page_config, app, query)
    sock = await open_raw(made["wsUrl"], made["token"], source_address=next(_addresses))
    try:
        assert sock.messages[0].msgtype == ACK, sock.errors()
        root = (await _pull(sock))["roots"][0]["id"]
        answer = await sock.request(new_message("PATCH-DOC", _takeovers(root)["replace the root"]))
        assert answer.msgtype == OK, answer.content
        after = await _pull(sock)
        assert after["title"] == "defaced" and after["roots"] == [{"id": "mine2"}]
    finally:
        await sock.close()
