"""Raw BokehJS-protocol connections (Bokeh's subprotocol, its token) to one session of a Bokeh-dialect app."""

from __future__ import annotations

import contextlib
import http.client
import re
from collections.abc import Iterator
from typing import Any

import websockets

from docsync.protocol import PULL_DOC_REPLY, Message, new_message, pull_doc_req
from docsync.testing import RawSocket

from .harness import Site


class Session:
    """One session of a Bokeh app on ``site``: its websocket URL and the token a page of it carries."""

    def __init__(self, site: Site, app: str) -> None:
        page = site.browser().get(f"{app}/")
        assert page.status == 200, page.body[:300]
        token = re.search(r'"token":\s*"([^"]+)"', page.body)
        assert token, "no Bokeh token in the page"
        self.url, self.token = f"ws://{site.host}/{app}/ws", token.group(1)

    async def tab(self) -> Tab:
        """A new connection to the session, past its ACK."""
        socket = await websockets.connect(self.url, subprotocols=["bokeh", self.token], max_size=None)  # type: ignore[list-item]
        tab = Tab(socket)
        assert (await tab.read_message()).msgtype == "ACK"
        return tab


class Tab(RawSocket):
    """A connection that speaks as BokehJS does."""

    async def document(self) -> dict[str, Any]:
        """The document's JSON, as a pull carries it."""
        reply = await self.pull()
        assert reply.msgtype == PULL_DOC_REPLY, reply.content
        return reply.content["doc"]  # type: ignore[no-any-return]

    async def patch(self, events: list[dict[str, Any]]) -> Message:
        """Send one PATCH-DOC of ``events``; return its reply (OK or ERROR)."""
        return await self.request(new_message("PATCH-DOC", {"events": events}))

    async def ask_pull(self) -> Message:
        """Pull (the reply, OK or ERROR)."""
        return await self.request(pull_doc_req())


def definitions(node: Any) -> Iterator[dict[str, Any]]:
    """Every model definition (``{"type": "object", "name", "id", ...}``) in Bokeh's JSON."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("type") == "object" and "id" in item:
                yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def named(doc: Any, name: str) -> str:
    """The id of the model named ``name`` in the document's JSON."""
    for definition in definitions(doc):
        if definition.get("attributes", {}).get("name") == name:
            return str(definition["id"])
    raise KeyError(name)


def page_token(site: Site, app: str, source: str) -> str:
    """The Bokeh token of the page of ``app`` served to a client at ``source`` (the page makes its session)."""
    host, port = site.host.rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=30, source_address=(source, 0))
    try:
        connection.request("GET", f"/{app}/")
        page = connection.getresponse()
        body = page.read().decode()
    finally:
        connection.close()
    assert page.status == 200, body[:300]
    token = re.search(r'"token":\s*"([^"]+)"', body)
    assert token, "no Bokeh token in the page"
    return token.group(1)


async def tab_from(site: Site, app: str, token: str, source: str) -> Tab:
    """A connection to ``token``'s session from ``source``, past its first message (ACK, or a refusal's ERROR)."""
    socket = await websockets.connect(
        f"ws://{site.host}/{app}/ws",
        subprotocols=["bokeh", token],  # type: ignore[list-item]
        max_size=None,
        local_addr=(source, 0),
    )
    tab = Tab(socket)
    with contextlib.suppress(websockets.ConnectionClosed):
        await tab.read_message()
    return tab
