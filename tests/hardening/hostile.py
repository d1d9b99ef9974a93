"""A session under attack: raw sockets that send what an attacker would, byte-exact pulls.

``Victim`` holds a fresh session of a test app with an observer connection (a tab that
must be unharmed). ``document_bytes`` is the session's document exactly as a pull
carries it: the document's JSON text as the server wrote it, then every buffer.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from typing import Any

import orjson
import websockets

from docsync.client import ClientSession
from docsync.protocol import ACK, ERROR, OK, PATCH_DOC, PULL_DOC_REPLY, Message, new_message, pull_doc_req
from docsync.testing import EVENT_WAIT, RawSocket

from .harness import Site, find_model, open_client, open_raw, set_value_patch

_values = itertools.count(1)


async def raw_pull(url: str, token: str) -> tuple[Message, list[str | bytes]]:
    """Pull over a new connection; return the reply and the frames it came in."""
    socket = await websockets.connect(url, subprotocols=["docsync", token], max_size=None, compression=None)  # type: ignore[list-item]
    sock = RawSocket(socket)
    try:
        ack = await sock.read_message()
        assert ack.msgtype == ACK, ack.content
        request = pull_doc_req()
        await sock.send_message(request)
        frames: list[str | bytes] = []
        while True:
            frame = await asyncio.wait_for(socket.recv(), EVENT_WAIT)
            frames.append(frame)
            message = sock.receiver.receive(frame)
            if message is not None and message.reqid == request.msgid:
                assert message.msgtype == PULL_DOC_REPLY, message.content
                return message, frames[-(3 + 2 * len(message.buffers)) :]
            if message is not None:
                frames.clear()
    finally:
        await socket.close()


def doc_text(content_frame: str) -> str:
    """The document's JSON inside a PULL-DOC-REPLY content frame, as written by the server."""
    assert content_frame.startswith('{"doc":'), content_frame[:40]
    end = content_frame.rindex(',"seq":')
    return content_frame[len('{"doc":') : end]


@dataclass
class Victim:
    """A session of ``app``, watched by an observer tab."""

    site: Site
    config: dict[str, Any]
    observer: ClientSession
    before: bytes = b""

    @classmethod
    async def open(cls, site: Site, app: str = "hostile") -> Victim:
        config = site.browser().page_config(app)
        victim = cls(site, config, await open_client(config))
        victim.before = await victim.document_bytes()
        return victim

    @property
    def url(self) -> str:
        return str(self.config["wsUrl"])

    async def document_bytes(self) -> bytes:
        """The document exactly as a pull carries it (JSON text, then each buffer)."""
        reply, frames = await raw_pull(self.url, self.config["token"])
        text = doc_text(str(frames[2]))
        assert orjson.loads(text) == reply.content["doc"]
        payloads = [bytes(f) if not isinstance(f, str) else f.encode() for f in frames[3:]]
        return text.encode() + b"".join(payloads)

    def model_id(self, name: str) -> str:
        """The id of the model called ``name`` (as the observer's document holds it)."""
        data, _ = self.observer.document.to_json()
        return str(find_model(data, name)["id"])

    async def raw(self) -> RawSocket:
        sock = await open_raw(self.url, self.config["token"])
        assert sock.messages and sock.messages[0].msgtype == ACK, sock.errors()
        return sock

    async def refused(self, message: Message, *, code: str) -> str:
        """Send ``message``; expect an ERROR of ``code`` answering it; return its text."""
        sock = await self.raw()
        try:
            reply = await sock.request(message)
        finally:
            await sock.close()
        assert reply.msgtype == ERROR, f"accepted: {reply.content}"
        assert reply.content["code"] == code, reply.content
        return str(reply.content["text"])

    async def assert_unharmed(self) -> None:
        """The document is byte-identical, and a valid patch that follows is applied and seen."""
        assert await self.document_bytes() == self.before, "a refused input changed the document"
        value = float(next(_values))
        sock = await self.raw()
        try:
            reply = await sock.request(set_value_patch(self.model_id("slider"), "value", value))
            assert reply.msgtype == OK, reply.content
        finally:
            await sock.close()
        slider = self.observer.document.get_model_by_name("slider")
        await self.observer.wait_for(lambda: slider.value == value, EVENT_WAIT)  # type: ignore[union-attr]
        assert not self.observer.errors and self.observer.close_code is None
        self.before = await self.document_bytes()

    async def close(self) -> None:
        await self.observer.close()


def patch(events: list[dict[str, Any]], references: list[dict[str, Any]] | None = None, **fields: Any) -> Message:
    """A PATCH-DOC carrying ``events`` (and the definitions of the models they attach)."""
    return new_message(PATCH_DOC, {"events": events, "references": references or [], **fields})


def definition(model_id: str, name: str = "Div", **attributes: Any) -> dict[str, Any]:
    return {"type": "object", "name": name, "id": model_id, "attributes": attributes}
