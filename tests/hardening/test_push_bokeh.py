"""Bokeh dialect: no client pushes a document (PUSH-DOC) into a Bokeh app's session.

Against a real daphne serving the sliders app over BokehJS's protocol (raw websockets
with the page's token). A push is answered
ERROR ``push-not-allowed`` (docsync's code for a push it does not take, protocol.md §3),
changes nothing, is sent to nobody (neither back to its sender nor to the session's
other tab) and leaves the connection working: its next patch is applied.
"""

from __future__ import annotations

from typing import Any

import pytest

from docsync.bokeh.dialect import PUSH_REFUSAL
from docsync.protocol import ERROR, OK, PATCH_DOC, PULL_DOC_REPLY, new_message

from .bokeh_tabs import Session, named
from .harness import Site

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")


@pytest.fixture(scope="module")
def bokeh_site(shared_bokeh_site: Site) -> Site:
    return shared_bokeh_site  # this worker's, shared with the other modules on it


@pytest.mark.asyncio
async def test_a_push_is_refused_changes_nothing_and_reaches_nobody(bokeh_site: Site) -> None:
    session = Session(bokeh_site, "bk_sliders")
    pusher, other = await session.tab(), await session.tab()
    try:
        before = await pusher.document()
        assert await other.document() == before
        # A well-formed document (the session's own, retitled), pushed twice: each is
        # refused alike, so a refusal takes nothing from the connection either.
        pushed: dict[str, Any] = {**before, "title": "pushed"}
        for _ in range(2):
            reply = await pusher.request(new_message("PUSH-DOC", {"doc": pushed}))
            assert (reply.msgtype, reply.content) == (ERROR, {"text": PUSH_REFUSAL, "code": "push-not-allowed"})
            assert await pusher.document() == before
        # The connection goes on: its next patch is applied, and the other tab gets that
        # patch (and the callback's recomputed curve), nothing of the push.
        event = {"kind": "ModelChanged", "model": {"id": named(before, "phase")}, "attr": "value", "new": 0.5}
        assert (await pusher.patch([event])).msgtype == OK
        seen: list[dict[str, Any]] = []
        while event not in seen:
            message = await other.read_message()
            assert message.msgtype == PATCH_DOC, message.content
            seen.extend(message.content["events"])
        assert {e["kind"] for e in seen} <= {"ModelChanged", "ColumnDataChanged"}, seen
        after = await other.document()
        assert after["title"] == before["title"] and after["roots"] != pushed["roots"]
        assert (await pusher.ask_pull()).msgtype == PULL_DOC_REPLY
    finally:
        await pusher.close()
        await other.close()
