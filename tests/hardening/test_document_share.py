"""One client's documents together are bounded (``MAX_DOCUMENT_BYTES_PER_CLIENT``), in both dialects.

A real server process; clients are told apart by the address they connect from (on
Linux every 127.x.y.z reaches a server on 127.0.0.1). One address makes three sessions
and grows each document to about 40% of its budget: the third growth is refused with
the ERROR naming the setting and that document stays as it was, while another address's
session still grows; once one of the first sessions expires, the budget is free again.
Before the bound every growth was accepted (each document under ``MAX_DOCUMENT_BYTES``).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import websockets

from docsync.protocol import ACK, ERROR, OK, PULL_DOC_REPLY, pull_doc_req
from docsync.testing import RawSocket

from .bokeh_tabs import Tab, named, page_token, tab_from
from .harness import Database, Site, find_model, open_raw, running_site, site_on_each_server, wait_until
from .hostile import doc_text
from .test_hostile_documents import REFUSED, array_message

pytestmark = pytest.mark.asyncio

#: The site's MAX_DOCUMENT_BYTES_PER_CLIENT: a grown document (a 56,000-byte column) takes about 40% of it.
BUDGET = 150_000
#: The Bokeh site's: a Div of 600 KiB of text takes about 40% of it.
BOKEH_BUDGET = 1_500_000
KIB = 1024
METRICS_TOKEN = "document-share-metrics-token"
#: A fresh source address per test, so that no test sees another's counts.
_addresses = (f"127.1.{n // 250}.{n % 250 + 2}" for n in itertools.count(1))


def _site_env(budget: int) -> dict[str, str]:
    return {
        "DOCSYNC_MAX_DOCUMENT_BYTES_PER_CLIENT": str(budget),
        "DOCSYNC_UNUSED_SESSION_LIFETIME": "0.5",
        "DOCSYNC_CHECK_UNUSED_SESSIONS": "0.2",
        "DOCSYNC_METRICS_TOKEN": METRICS_TOKEN,
    }


site = site_on_each_server("document-share", **_site_env(BUDGET))


@pytest.fixture(scope="module")
def bokeh_site(tmp_path_factory: pytest.TempPathFactory, database: Database) -> Iterator[Site]:
    pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")
    env = {"DJANGO_SETTINGS_MODULE": "tests.hardening.bokeh_settings", **_site_env(BOKEH_BUDGET)}
    yield from running_site(tmp_path_factory, database, "document-share-bokeh", **env)


@pytest.fixture(scope="module")
def unbounded_site(tmp_path_factory: pytest.TempPathFactory, database: Database) -> Iterator[Site]:
    yield from running_site(
        tmp_path_factory, database, "document-share-off", DOCSYNC_MAX_DOCUMENT_BYTES_PER_CLIENT="none"
    )


def _sessions(site: Site, app: str) -> int:
    return int(site.metrics().get(f'docsync_sessions{{app="{app}"}}', 0))


def _assert_refused_past(reply: Any, budget: int) -> None:
    """``reply`` is the ERROR that refuses a patch growing the client's documents past ``budget``."""
    assert reply.msgtype == ERROR and reply.content["code"] == REFUSED, reply.content
    text = reply.content["text"]
    assert re.fullmatch(
        rf"this client's documents too large: \d+ > {budget} bytes \(MAX_DOCUMENT_BYTES_PER_CLIENT\)", text
    ), text


class Made:
    """A session of the ``hostile`` app made by a client at ``source``, and its socket."""

    def __init__(self, site: Site, config: dict[str, Any], sock: RawSocket) -> None:
        self.site, self.config, self.sock = site, config, sock

    @classmethod
    async def open(cls, site: Site, source: str) -> Made:
        browser = site.browser()
        config = browser.page_config("hostile")
        sock = await open_raw(config["wsUrl"], config["token"], source_address=source, headers=browser.cookie_header())
        assert sock.messages and sock.messages[0].msgtype == ACK, (sock.errors(), sock.close_code)
        return cls(site, config, sock)

    async def grow(self, column: str) -> Any:
        """Send a patch adding a 56,000-byte column to the source; return its reply."""
        reply = await self.sock.request(pull_doc_req())
        source = find_model(reply.content["doc"], "source")["id"]
        event = {
            "kind": "ColumnDataChanged",
            "model": {"id": source},
            "attr": "data",
            "columns": {column: {"array": "c"}},
        }
        return await self.sock.request(array_message([event], {"c": np.zeros((4, 1750))}))

    async def document_bytes(self) -> bytes:
        """The document as a pull carries it: its JSON text as the server wrote it, then each buffer."""
        socket = await websockets.connect(
            self.config["wsUrl"], subprotocols=["docsync", self.config["token"]], max_size=None, compression=None
        )  # type: ignore[list-item]
        sock = RawSocket(socket)
        try:
            assert (await sock.read_message()).msgtype == ACK
            request = pull_doc_req()
            await sock.send_message(request)
            frames: list[str | bytes] = []
            while True:
                frame = await socket.recv()
                frames.append(frame)
                message = sock.receiver.receive(frame)
                if message is not None and message.reqid == request.msgid:
                    assert message.msgtype == PULL_DOC_REPLY, message.content
                    frames = frames[-(3 + 2 * len(message.buffers)) :]
                    payloads = [f.encode() if isinstance(f, str) else bytes(f) for f in frames[3:]]
                    return doc_text(str(frames[2])).encode() + b"".join(payloads)
                if message is not None:
                    frames.clear()
        finally:
            await socket.close()

    async def close(self) -> None:
        await self.sock.close()


async def test_a_clients_documents_together_are_bounded(site: Site) -> None:
    source, other = next(_addresses), next(_addresses)
    made = [await Made.open(site, source) for _ in range(3)]
    stranger = await Made.open(site, other)
    try:
        for session in made[:2]:
            reply = await session.grow("a")
            assert reply.msgtype == OK, reply.content
        third = made[2]
        before = await third.document_bytes()
        _assert_refused_past(await third.grow("a"), BUDGET)
        assert await third.document_bytes() == before, "a refused patch changed the document"
        # Another address's session grows, with the process holding more than the budget.
        reply = await stranger.grow("a")
        assert reply.msgtype == OK, reply.content
        # One of the client's sessions ends (its tab closes, it expires): its bytes are free again.
        await made[0].close()
        await wait_until(lambda: _sessions(site, "hostile") <= 3, 20, "the closed session to expire")
        reply = await third.grow("a")
        assert reply.msgtype == OK, reply.content
        assert await third.document_bytes() != before
    finally:
        for session in [*made, stranger]:
            await session.close()


async def test_with_the_setting_off_a_client_grows_every_session(unbounded_site: Site) -> None:
    source = next(_addresses)
    made = [await Made.open(unbounded_site, source) for _ in range(3)]
    try:
        for session in made:
            reply = await session.grow("a")
            assert reply.msgtype == OK, reply.content
    finally:
        for session in made:
            await session.close()


async def _bokeh_tab(site: Site, source: str) -> Tab:
    """A tab of a new session of ``bk_grow``, whose page (it makes the session) and socket come from ``source``."""
    tab = await tab_from(site, "bk_grow", page_token(site, "bk_grow", source), source)
    assert tab.messages[0].msgtype == ACK
    return tab


async def _bokeh_grow(tab: Tab) -> Any:
    first = named(await tab.document(), "first")
    return await tab.patch([{"kind": "ModelChanged", "model": {"id": first}, "attr": "text", "new": "y" * (600 * KIB)}])


async def test_a_clients_bokeh_documents_together_are_bounded(bokeh_site: Site) -> None:
    source, other = next(_addresses), next(_addresses)
    tabs = [await _bokeh_tab(bokeh_site, source) for _ in range(3)]
    stranger = await _bokeh_tab(bokeh_site, other)
    try:
        for tab in tabs[:2]:
            reply = await _bokeh_grow(tab)
            assert reply.msgtype == OK, reply.content
        third = tabs[2]
        before = await third.document()
        _assert_refused_past(await _bokeh_grow(third), BOKEH_BUDGET)
        assert await third.document() == before, "a refused patch changed the document"
        reply = await _bokeh_grow(stranger)
        assert reply.msgtype == OK, reply.content
        await tabs[0].close()
        await wait_until(lambda: _sessions(bokeh_site, "bk_grow") <= 3, 20, "the closed session to expire")
        reply = await _bokeh_grow(third)
        assert reply.msgtype == OK, reply.content
    finally:
        for tab in [*tabs, stranger]:
            await tab.close()
