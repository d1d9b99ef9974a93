"""A raw client creating its session, as ``push_session`` does: the only kind that may push a document."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from docsync.protocol import ACK, ERROR, OK, Message, new_message, pull_doc_req
from docsync.protocol.msgtypes import PUSH_DOC
from docsync.testing import RawSocket

from .harness import Browser, Site, find_model, set_value_patch


def push(doc: dict[str, Any], buffers: list[tuple[str, Any]] | None = None) -> Message:
    """A PUSH-DOC carrying ``doc``."""
    return new_message(PUSH_DOC, {"doc": doc}, buffers=buffers or [])


@dataclass
class Creator:
    """The first connection of a new session of ``app``, opened by ``browser``'s user."""

    browser: Browser
    config: dict[str, Any]
    sock: RawSocket

    @classmethod
    async def open(cls, site: Site, app: str, browser: Browser | None = None) -> Creator:
        browser = browser or site.browser()
        config = browser.page_config(app)
        sock = await RawSocket.connect(config["wsUrl"], config["token"], headers=browser.cookie_header())
        assert (await sock.read_message()).msgtype == ACK, sock.errors()
        return cls(browser, config, sock)

    async def document_bytes(self) -> bytes:
        """The session's document as this connection pulls it: its JSON text, then each buffer."""
        reply = await self.sock.request(pull_doc_req())
        return orjson.dumps(reply.content["doc"]) + b"".join(bytes(b) for _, b in reply.buffers)

    async def refused(self, message: Message, *, code: str) -> str:
        """Send ``message``; expect an ERROR of ``code`` and an unchanged document; return its text."""
        before = await self.document_bytes()
        reply = await self.sock.request(message)
        assert reply.msgtype == ERROR, f"accepted: {reply.content}"
        assert reply.content["code"] == code, reply.content
        assert await self.document_bytes() == before, "a refused push changed the document"
        return str(reply.content["text"])

    async def assert_patch_applied(self, value: float) -> None:
        """A valid patch that follows is applied (the slider moves)."""
        reply = await self.sock.request(pull_doc_req())
        slider = find_model(reply.content["doc"], "slider")["id"]
        assert (await self.sock.request(set_value_patch(slider, "value", value))).msgtype == OK
        after = await self.sock.request(pull_doc_req())
        assert find_model(after.content["doc"], "slider")["attributes"]["value"] == value

    async def close(self) -> None:
        await self.sock.close()
