"""Bokeh dialect in a cluster: a PUSH-DOC through a relayed websocket is refused as on the session's own process.

Two daphne processes joined by a private redis-server serve the Bokeh gallery. The page
of process 0 makes the session there; BokehJS-protocol websockets (the page's token) reach
it through process 1 (relayed) and directly. A push, whether the relayed connection's first
message or after its pull, is answered ERROR ``push-not-allowed`` (docs/bokeh.md), changes
nothing, reaches neither tab, and the relayed connection's next patch is applied. A page of
process 1 naming the session by ``?session_id=`` joins it for its own browser only.
"""

from __future__ import annotations

import base64
import http.cookiejar
import json
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


async def _tab(cluster: Cluster, index: int, app: str, token: str, cookie: str | None = None) -> Tab:
    """A BokehJS-protocol websocket to process ``index`` (``cookie``: the ``Cookie`` header its browser sends)."""
    url = f"ws://127.0.0.1:{cluster.servers[index].port}/{app}/ws"
    headers = {"Cookie": cookie} if cookie else None
    socket = await websockets.connect(url, subprotocols=["bokeh", token], max_size=None, additional_headers=headers)  # type: ignore[list-item]
    tab = Tab(socket)
    first = await tab.read_message()
    assert first.msgtype == "ACK", first.content
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


def _page_session(cluster: Cluster, index: int, opener: Any, query: str = "") -> tuple[str, str]:
    """The token and session id of the ``bk_sliders`` page process ``index`` serves to ``opener``'s browser."""
    with opener.open(f"{cluster.servers[index].url}bk_sliders/{query}", timeout=300) as response:
        html = response.read().decode()
    found = re.search(r'"token":\s*"([^"]+)"', html)
    assert found, "no Bokeh token in the page"
    token = found.group(1)
    payload = token.split(".")[0]
    return token, str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["session_id"])


@pytest.mark.asyncio
async def test_a_bokeh_page_on_another_process_rejoins_its_visitors_session_by_session_id(
    bokeh_cluster: Cluster,
) -> None:
    # docs/bokeh.md: ?session_id= rejoins a live session of the same browser, whichever
    # process serves the page; another browser gets a session of its own.
    jar = http.cookiejar.CookieJar()
    visitor = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    stranger = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    token, session_id = _page_session(bokeh_cluster, 0, visitor)
    local = await _tab(bokeh_cluster, 0, "bk_sliders", token)  # process 0 holds the session
    try:
        doc = await local.document()
        event = {"kind": "ModelChanged", "model": {"id": named(doc, "phase")}, "attr": "value", "new": 0.25}
        assert (await local.patch([event])).msgtype == OK
        again, rejoined = _page_session(bokeh_cluster, 1, visitor, f"?session_id={session_id}")
        assert rejoined == session_id
        cookie = "; ".join(f"{c.name}={c.value}" for c in jar)  # the visitor's, which its token is bound to
        relayed = await _tab(bokeh_cluster, 1, "bk_sliders", again, cookie)  # relayed to process 0
        try:
            assert await relayed.document() == await local.document()  # the same session, with the change
        finally:
            await relayed.close()
        _, other = _page_session(bokeh_cluster, 1, stranger, f"?session_id={session_id}")
        assert other != session_id
    finally:
        await local.close()
