"""An application's write of a value deeper than any client decodes fails at once; its session lives on.

Clients' values were bounded (64 JSON levels, docs/protocol.md §6), the application's
were not: a callback that set a column item of 63 nested lists (65 levels as the data's
value) was taken, and every tab was then sent a PATCH-DOC it could not decode, and no
new tab could pull the session (the Python client's and the browser's decoders alike
refuse it). Against a real daphne: the write raises ValueTooDeepError (a ValueError)
naming the property and the bound, the document stays as it was, the tab open sees the next change and a new
tab pulls the session; a value at the bound is taken, and decoded by both.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from docsync.client import ClientSession
from docsync.protocol import OK
from docsync.testing import EVENT_WAIT

from .apps import nested_lists
from .harness import Site, find_model, open_client, open_raw, pull_json, wait_until
from .hostile import patch

pytestmark = pytest.mark.asyncio

#: What each kind of write of ``deep_writes`` sets, and how its refusal begins.
KINDS = {
    "data": "ColumnDataSource.data",
    "column": "ColumnDataSource.data",
    "stream": "ColumnDataSource.data: streamed column 's'",
    "patch": "ColumnDataSource.data: patch of column 's'",
    "factors": "FactorRange.factors",
    "message": "message 'echo'",
}


class Session:
    """A session of ``deep_writes`` and a tab open on it."""

    def __init__(self, config: dict[str, Any], tab: ClientSession) -> None:
        self.config = config
        self.tab = tab

    async def write(self, kind: str, levels: int) -> str:
        """Have the application write a value ``levels`` deep; return what it said of it."""
        before = await self.said()
        sock = await open_raw(self.config["wsUrl"], self.config["token"])
        try:
            event = {"kind": "MessageSent", "msg_type": "write", "msg_data": [kind, levels]}
            reply = await sock.request(patch([event]))
            assert reply.msgtype == OK, reply.content
        finally:
            await sock.close()
        deadline = time.monotonic() + EVENT_WAIT
        said = await self.said()
        while said == before and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            said = await self.said()
        return said

    async def said(self) -> str:
        """What the application last said, pulled (read as JSON, not decoded) over a new connection."""
        return str(find_model(await pull_json(self.config), "said")["attributes"].get("text", ""))

    async def tab_sees(self, said: str) -> None:
        """The tab open all along sees what the application said (it decodes the session's patches)."""
        text = self.tab.document.get_model_by_name("said")
        await self.tab.wait_for(lambda: text.text == said, 10)  # type: ignore[union-attr]
        assert not self.tab.errors and self.tab.close_code is None

    async def values(self) -> dict[str, Any]:
        """The source's and the factors' definitions, pulled over a new connection."""
        doc = await pull_json(self.config)
        return {name: find_model(doc, name) for name in ("source", "factors")}


@pytest_asyncio.fixture
async def session(site: Site) -> AsyncIterator[Session]:
    config = site.browser().page_config("deep_writes")
    tab = await open_client(config)
    try:
        yield Session(config, tab)
    finally:
        await tab.close()


@pytest.mark.parametrize("kind", list(KINDS))
async def test_a_write_past_the_bound_raises_and_one_at_it_is_taken(session: Session, kind: str) -> None:
    received: list[Any] = []
    session.tab.document.on_message("echo", lambda event: received.append(event.msg_data))
    before = await session.values()
    said = await session.write(kind, 65)
    assert said == f"refused: {KINDS[kind]} nested deeper than 64 JSON levels", said
    assert await session.values() == before, "a refused write changed the document"
    await session.tab_sees(said)
    await new_tab_pulls(session, lambda tab: tab.document.get_model_by_name("source").data["s"][:2] == [[1], [2]])

    said = await session.write(kind, 64)
    assert said == f"took {kind} 64"
    await session.tab_sees(said)
    if kind == "message":
        await wait_until(lambda: bool(received), 5, "the message")
        assert received == [nested_lists(64)]
        return
    deepest = {
        "data": lambda doc: doc.get_model_by_name("source").data["s"][0],
        "column": lambda doc: doc.get_model_by_name("source").data["s"][0],
        "stream": lambda doc: doc.get_model_by_name("source").data["s"][-1],
        "patch": lambda doc: doc.get_model_by_name("source").data["s"][0],
        "factors": lambda doc: doc.get_model_by_name("factors").factors[-1],
    }[kind]
    expected = nested_lists(63 if kind == "factors" else 62)
    assert deepest(session.tab.document) == expected
    await new_tab_pulls(session, lambda tab: deepest(tab.document) == expected)


async def new_tab_pulls(session: Session, holds: Any) -> None:
    """A new tab of the session decodes its document, which ``holds``."""
    fresh = await open_client(session.config)
    try:
        assert not fresh.errors and fresh.close_code is None
        assert holds(fresh)
    finally:
        await fresh.close()
