"""Pulls of a document nobody changed: one encoding, however many connections ask.

A PULL-DOC-REQ (or a full resume) answers a 50-byte request with the whole document. Its
rate is bounded per connection (10 a second), but connections are cheap: an anonymous
client that grew a session's client-writable data source to the document bounds (a list
column of 500,000 numbers: about 75 ms to encode; 400,000 here, within the values a
client frame may hold) and then opened connection after
connection, each asking for the document, had the server encode it again for every
request, under the session's lock: about 15 requests a second kept a core busy.

Against a real daphne with docsync's default limits, the server's CPU time (its
/proc/<pid>/stat) for the first pull after a change, then for PULLS more on fresh
connections: at HEAD they cost each as much as the first. The Bokeh dialect likewise
(its documents bounded at 2 MiB on the test site: 80,000 rows).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from docsync.protocol import ACK, OK, PULL_DOC_REPLY, new_message, pull_doc_req

from .bokeh_tabs import Session, named
from .harness import Database, RawSocket, Site, open_raw, running_site

pytestmark = pytest.mark.asyncio

#: Within MAX_FRAME_VALUES (1,100,000 JSON values a client frame): 400,000 x (a NaN object
#: counts 3 more) and 400,000 s, 1,000,012 values; at 500,000 rows the grow was refused.
ROWS = 400_000
PULLS = 20
PER_CONNECTION = 5  # under the per-connection burst of document requests (10)
#: Every NAN_EVERY-th row of the grown column is NaN: fewer JSON objects than MAX_FRAME_CONTAINERS (100,000).
NAN_EVERY = 6
_NAN = {"type": "number", "value": "nan"}


def _cpu_ticks(pid: int) -> int:
    """The process's user + system CPU time, in clock ticks."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


async def _pull(sock: RawSocket) -> dict[str, Any]:
    reply = await sock.request(pull_doc_req(), timeout=60)
    assert reply.msgtype == PULL_DOC_REPLY, (reply.msgtype, reply.content)
    return reply.content


async def test_pulls_of_an_unchanged_document_share_one_encoding(default_site: Site) -> None:
    config = await asyncio.to_thread(default_site.browser().page_config, "hostile")
    url, token = config["wsUrl"], config["token"]
    pid = default_site.server.serving_pid
    sockets: list[RawSocket] = []

    async def connect() -> RawSocket:
        sock = await open_raw(url, token)
        sockets.append(sock)
        assert sock.messages[0].msgtype == ACK, sock.errors()
        return sock

    try:
        sock = await connect()
        doc = (await _pull(sock))["doc"]
        source = next(m["id"] for m in doc["models"] if m.get("attributes", {}).get("name") == "source")
        grow = {
            "kind": "ColumnDataChanged",
            "model": {"id": source},
            "attr": "data",
            # A NaN every NAN_EVERY rows: a list of plain numbers is encoded in one pass
            # (951a4b7), too fast beside sending it for CPU ticks to tell the two apart;
            # with NaNs in it, each item is encoded on its own, as any list once was.
            "columns": {"x": [_NAN if i % NAN_EVERY == 0 else i * 1.5 for i in range(ROWS)], "s": ["a"] * ROWS},
        }
        reply = await sock.request(new_message("PATCH-DOC", {"events": [grow]}), timeout=60)
        assert reply.msgtype == OK, reply.content
        before = _cpu_ticks(pid)
        first = await _pull(sock)
        one = _cpu_ticks(pid) - before
        assert len(first["doc"]["models"]) == len(doc["models"])
        before = _cpu_ticks(pid)
        for _ in range(PULLS // PER_CONNECTION):
            other = await connect()
            for _ in range(PER_CONNECTION):
                assert (await _pull(other))["seq"] == first["seq"]
        more = _cpu_ticks(pid) - before
        # Each pull encoded the document again at HEAD: PULLS pulls cost PULLS first pulls
        # (199 ticks against 10). Now each costs what sending it does (a quarter of the first).
        assert 2 * more < PULLS * one, f"{PULLS} pulls of an unchanged document cost {more} ticks, the first {one}"
    finally:
        for sock in sockets:
            await sock.close()


BOKEH_ROWS = 80_000  # within the Bokeh test site's MAX_DOCUMENT_BYTES (2 MiB)


@pytest.fixture(scope="module")
def bokeh_site(tmp_path_factory: pytest.TempPathFactory, database: Database) -> Iterator[Site]:
    pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")
    yield from running_site(
        tmp_path_factory, database, "bokeh-pulls", DJANGO_SETTINGS_MODULE="tests.hardening.bokeh_settings"
    )


async def test_bokeh_pulls_of_an_unchanged_document_share_one_encoding(bokeh_site: Site) -> None:
    session = Session(bokeh_site, "bk_offered")
    pid = bokeh_site.server.serving_pid
    tabs = [await session.tab()]
    try:
        doc = await tabs[0].document()
        grow = {
            "kind": "ModelChanged",
            "model": {"id": named(doc, "source")},
            "attr": "data",
            "new": {"type": "map", "entries": [["x", [i * 1.5 for i in range(BOKEH_ROWS)]], ["y", [0.5] * BOKEH_ROWS]]},
        }
        reply = await tabs[0].patch([grow])
        assert reply.msgtype == OK, reply.content
        tabs.append(await session.tab())  # every later connection's pull: BokehJS's reconnection form (inline)
        before = _cpu_ticks(pid)
        first = await _pull(tabs[-1])
        one = _cpu_ticks(pid) - before
        before = _cpu_ticks(pid)
        for _ in range(PULLS // PER_CONNECTION):
            tabs.append(await session.tab())
            for _ in range(PER_CONNECTION):
                assert (await _pull(tabs[-1]))["doc"] == first["doc"]
        more = _cpu_ticks(pid) - before
        assert 2 * more < PULLS * one, f"{PULLS} pulls of an unchanged document cost {more} ticks, the first {one}"
    finally:
        for tab in tabs:
            await tab.close()
