"""Bokeh dialect in a cluster: a PUSH-DOC through a relayed websocket is refused as on the session's own process.

Two daphne processes joined by a private redis-server serve the Bokeh gallery. The page
of process 0 makes the session there; BokehJS-protocol websockets (the page's token) reach
it through process 1 (relayed) and directly. A push, whether the relayed connection's first
message or after its pull, is answered ERROR ``push-not-allowed`` (docs/bokeh.md), changes
nothing, reaches neither tab, and the relayed connection's next patch is applied.
"""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import websockets

from docsync.protocol import ERROR, OK, PATCH_DOC, PULL_DOC_REPLY, SERVER_INFO_REPLY, new_message
from tests.hardening.bokeh_tabs import Tab, named

from .conftest import Cluster

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")
pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def bokeh_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    running = Cluster(tmp_path_factory.mktemp("bokeh-push-cluster"), 2, settings="tests.bokeh.settings")
    try:
        yield running
    finally:
        running.stop()


def _token(cluster: Cluster, app: str) -> str:
    """The token of a new session of ``app``, made by process 0's page."""
    with urllib.request.urlopen(f"{cluster.servers[0].url}{app}/", timeout=300) as response:
        html = response.read().decode()
    found = re.search(r'"token":\s*"([^"]+)"', html)
    assert found, "no Bokeh token in the page"
    return found.group(1)


async def _tab(cluster: Cluster, index: int, app: str, token: str) -> Tab:
    url = f"ws://127.0.0.1:{cluster.servers[index].port}/{app}/ws"
    socket = await websockets.connect(url, subprotocols=["bokeh", token], max_size=None)  # type: ignore[list-item]
    tab = Tab(socket)
    assert (await tab.read_message()).msgtype == "ACK"
    return tab


async def _nothing_pending(tab: Tab) -> None:
    """Everything the server sent ``tab`` before a barrier is a reply to the barrier: no patch, no push."""
    reply = await tab.request(new_message("SERVER-INFO-REQ", {}))
    assert reply.msgtype == SERVER_INFO_REPLY
    unsolicited = [m for m in tab.messages if m.reqid is None and m.msgtype != "ACK"]
    assert not unsolicited, [(m.msgtype, m.content) for m in unsolicited]


@pytest.mark.asyncio
async def test_a_relayed_push_is_refused_changes_nothing_and_reaches_nobody(bokeh_cluster: Cluster) -> None:
    token = _token(bokeh_cluster, "bk_sliders")
    refusal = {"text": "PUSH-DOC not allowed: a Bokeh app's document is made by its code; no client replaces it"}
    refusal["code"] = "push-not-allowed"
    relayed = await _tab(bokeh_cluster, 1, "bk_sliders", token)
    local = await _tab(bokeh_cluster, 0, "bk_sliders", token)
    try:
        # The relayed connection's first message is a push (of a document of its own).
        first = {"title": "mine", "roots": [{"id": "x1"}], "defs": [], "version": "3"}
        reply = await relayed.request(new_message("PUSH-DOC", {"doc": first}))
        assert (reply.msgtype, reply.content) == (ERROR, refusal)
        before = await local.document()
        assert await relayed.document() == before
        # After its pull, the session's own document retitled: refused alike.
        pushed: dict[str, Any] = {**before, "title": "pushed"}
        for _ in range(2):
            reply = await relayed.request(new_message("PUSH-DOC", {"doc": pushed}))
            assert (reply.msgtype, reply.content) == (ERROR, refusal)
        assert await relayed.document() == before and await local.document() == before
        await _nothing_pending(local)
        await _nothing_pending(relayed)
        # The relayed connection goes on: its patch is applied and reaches the other tab.
        event = {"kind": "ModelChanged", "model": {"id": named(before, "phase")}, "attr": "value", "new": 0.5}
        assert (await relayed.patch([event])).msgtype == OK
        seen: list[dict[str, Any]] = []
        while event not in seen:
            message = await local.read_message()
            assert message.msgtype == PATCH_DOC, message.content
            seen.extend(message.content["events"])
        after = await local.document()
        assert after["title"] == before["title"]
        assert (await relayed.ask_pull()).msgtype == PULL_DOC_REPLY
    finally:
        await relayed.close()
        await local.close()
