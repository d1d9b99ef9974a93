"""A Python client: pull or push a session over a real websocket, and keep it in sync.

Used by tests, by scripts that drive a running app, and by the benchmarks::

    session = await pull_session("http://127.0.0.1:8000/sliders/")
    session.document.get_model_by_name("frequency").value = 2
    await session.sync()
    await session.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import secrets
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import websockets
from websockets.http11 import USER_AGENT

from .document import DecodedPatch, Document, DocumentEvent, encode_events
from .exceptions import DocsyncError, PatchError
from .protocol import Message, Receiver, new_message, pull_doc_req, push_doc, server_info_req
from .protocol.msgtypes import (
    ACK,
    ERROR,
    OK,
    PATCH_DOC,
    PULL_DOC_REPLY,
    PUSH_DOC,
    RESUME_REPLY,
    RESUME_REQ,
    SERVER_INFO_REPLY,
)
from .serialization import Encoder

__all__ = ["ClientSession", "ServerError", "fetch_page_config", "pull_session", "push_session"]

logger = logging.getLogger("docsync.client")

SERVER = "server"  # the setter of changes that came from the server
_CONFIG = re.compile(r'<script id="docsync-config" type="application/json">(.*?)</script>', re.S)


class ServerError(DocsyncError):
    """The server answered a request with ERROR, or closed the connection."""

    def __init__(self, text: str, code: str | None = None) -> None:
        super().__init__(text)
        self.code = code


def fetch_page_config(url: str, *, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """GET an app page and return the client configuration it embeds (token, ws URL)."""
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=30) as response:
        html = response.read().decode("utf-8")
    match = _CONFIG.search(html)
    if match is None:
        raise DocsyncError(f"no docsync configuration in the page at {url}")
    config: dict[str, Any] = json.loads(match.group(1))
    return config


class ClientSession:
    """A connection to one server session, with a local document kept in sync."""

    def __init__(
        self, config: dict[str, Any], *, origin: str | None = None, headers: Mapping[str, str] | None = None
    ) -> None:
        self.config = config
        self.id: str = config["sessionId"]
        self.client_id = secrets.token_hex(8)
        self.document = Document()
        self.last_seq = 0
        self.incarnation: str | None = None
        self.resumed_fresh = False
        self.errors: list[Message] = []
        self.notices: list[Any] = []
        self.received: list[Message] = []
        self._origin = origin
        # Sent with the websocket handshake: a logged-in page's token only opens a
        # websocket that carries the same Django login (its session cookie).
        self._headers = dict(headers or {})
        self._socket: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._pending: dict[str, Message] = {}
        self._replies: dict[str, asyncio.Future[Message]] = {}
        # Local changes not sent yet, encoded as they happen: a model definition or a
        # list read later would already hold the batch's later edits, applied twice.
        self._outgoing: list[dict[str, Any]] = []
        self._outgoing_references: list[dict[str, Any]] = []
        self._encoder = Encoder()
        # The last server position applied when the first of ``_outgoing`` was made:
        # the patch is based on it even if server patches are applied before it is sent.
        self._outgoing_base = 0
        self._flush_scheduled = False
        # The msgid of the PULL-DOC-REQ or RESUME-REQ being answered. Patches broadcast
        # before its reply are already in it: they are skipped, not applied to a
        # document about to be replaced. The reply is applied as it is read, so that
        # the patches right behind it apply to what it brought.
        self._handshake: str | None = None
        self._closed = False
        self.connected = asyncio.Event()
        self.close_code: int | None = None
        self.close_reason: str | None = None
        self._watch_document()

    # -- connection -----------------------------------------------------------------

    async def connect(self, *, resume: bool = False) -> None:
        """Open the websocket, wait for ACK, then pull (or resume) the document."""
        url = self.config["wsUrl"]
        origin = self._origin or "http://" + urlsplit(url).netloc
        headers = {k: v for k, v in self._headers.items() if k.lower() != "user-agent"}
        agent = next((v for k, v in self._headers.items() if k.lower() == "user-agent"), USER_AGENT)
        self._socket = await websockets.connect(
            url,
            subprotocols=["docsync", self.config["token"]],  # type: ignore[list-item]
            origin=origin,  # type: ignore[arg-type]
            max_size=None,
            compression=None,
            additional_headers=headers,
            user_agent_header=agent,
        )
        self._receiver = Receiver(max_frame_bytes=1 << 31, max_message_bytes=1 << 33, max_buffers=1 << 20)
        first = await self._read_message()
        self.received.append(first)
        if first.msgtype == ERROR:
            await self._socket.close()
            raise ServerError(first.content.get("text", "refused"), first.content.get("code"))
        if first.msgtype != ACK:
            raise ServerError(f"expected ACK, got {first.msgtype}")
        if resume:
            content = {"last_seq": self.last_seq, "client_id": self.client_id}
            if self.incarnation is not None:
                content["incarnation"] = self.incarnation
            request = new_message(RESUME_REQ, content)
        else:
            request = pull_doc_req()
            request.content["client_id"] = self.client_id
        self._handshake = request.msgid
        self._reader = asyncio.get_running_loop().create_task(self._read_forever())
        reply = await self._request(request)
        if reply.msgtype not in (PULL_DOC_REPLY, RESUME_REPLY):
            raise ServerError(reply.content.get("text", f"unexpected {reply.msgtype}"), reply.content.get("code"))
        if resume:
            # Unanswered changes, once each (the server knows them by msgid); changes
            # made while this loop awaits join it, so none waits for the next resume.
            resent: set[str] = set()
            while unsent := [m for k, m in self._pending.items() if k not in resent]:
                for message in unsent:
                    resent.add(message.msgid)
                    await self._send(message)
        self.connected.set()

    async def reconnect(self) -> None:
        """Reconnect to the same session and receive only the changes missed."""
        await self._drop_socket()
        await self.connect(resume=True)

    async def _drop_socket(self) -> None:
        self.connected.clear()
        # Close while the reader still reads: a socket nobody reads stops reading the
        # transport once its queue fills (a stream keeps coming), the server's close
        # frame is never seen, and the close waits for its whole timeout.
        if self._socket is not None:
            await self._socket.close()
        if self._reader is not None:
            self._reader.cancel()
            self._reader = None

    async def close(self) -> None:
        """Close the connection."""
        self._closed = True
        await self._drop_socket()

    async def __aenter__(self) -> ClientSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- messages -------------------------------------------------------------------

    async def _read_message(self) -> Message:
        while True:
            frame = await self._socket.recv()
            message = self._receiver.receive(frame)
            if message is not None:
                return message

    async def _read_forever(self) -> None:
        try:
            while True:
                self._dispatch(await self._read_message())
        except websockets.ConnectionClosed as exc:
            # 1006: the connection dropped without a close frame (the peer died).
            self.close_code = exc.rcvd.code if exc.rcvd else 1006
            self.close_reason = exc.rcvd.reason if exc.rcvd else "connection lost"
            self.connected.clear()
            failure = ServerError(f"connection closed ({self.close_code}: {self.close_reason})")
            for future in self._replies.values():
                if not future.done():
                    future.set_exception(failure)

    def _dispatch(self, message: Message) -> None:
        self.received.append(message)
        reqid = message.reqid
        if reqid is not None and reqid in self._replies:
            future = self._replies.pop(reqid)
            if not future.done():
                future.set_result(message)
        msgtype = message.msgtype
        if reqid is not None and reqid == self._handshake:
            self._handshake = None
            if msgtype == PULL_DOC_REPLY:
                self.incarnation = message.content.get("incarnation")
                self._replace(message.content["doc"], message, message.content.get("seq", 0))
            elif msgtype == RESUME_REPLY:
                self._apply_resume(message)
        elif msgtype == PATCH_DOC:
            if self._handshake is None:
                self._apply_patch(message.content, message)
        elif msgtype == PUSH_DOC:
            self._replace(message.content["doc"], message, message.content.get("seq", self.last_seq))
        elif msgtype == OK and reqid in self._pending:
            self._pending.pop(reqid)
            seq = message.content.get("seq")
            if isinstance(seq, int):
                # Every change up to ``seq`` meant for us was sent before this OK.
                self.last_seq = max(self.last_seq, seq)
        elif msgtype == ERROR:
            self.errors.append(message)
            if reqid is not None:
                self._pending.pop(reqid, None)

    def _apply_patch(self, content: dict[str, Any], message: Message) -> None:
        seq = content.get("seq")
        if isinstance(seq, int) and seq <= self.last_seq:
            return  # already reflected in the document we pulled
        buffers = dict(message.buffers)
        try:
            patch = self.document.decode_patch(content, buffers, setter=SERVER)
            self.document.apply_patch(patch, setter=SERVER)
        except (PatchError, ValueError):
            patch = self._apply_leniently(content, buffers)
        for event in patch.events:
            if getattr(event, "msg_type", None) == "docsync.notice":
                self.notices.append(event.msg_data)  # type: ignore[attr-defined]
        if isinstance(seq, int):
            self.last_seq = seq

    def _apply_leniently(self, content: dict[str, Any], buffers: dict[str, Any]) -> DecodedPatch:
        """Apply what can be applied of a server patch that does not fit the local document.

        It does not fit because it conflicts with local changes the server has not
        answered yet (or with a change that lost before them): those lose, and the
        server sends the winning value of everything they touched, so the events
        skipped here are corrected by a later patch.
        """
        patch = self.document.decode_patch(content, buffers, setter=SERVER, skip_unknown=True)
        for event in patch.events:
            try:
                self.document.apply_patch(DecodedPatch([event], patch.new_models), setter=SERVER)
            except (PatchError, ValueError):
                logger.debug("skipped %s from the server: it conflicts with a local change", event.kind)
        return patch

    def _replace(self, doc_json: dict[str, Any], message: Message, seq: int) -> None:
        self._unwatch_document()
        self.document.replace_with_json(doc_json, dict(message.buffers))
        self._outgoing.clear()
        self._outgoing_references.clear()
        self._watch_document()
        self.last_seq = seq

    def _apply_resume(self, reply: Message) -> None:
        content = reply.content
        self.incarnation = content.get("incarnation", self.incarnation)
        if content.get("mode") == "full":
            self.resumed_fresh = bool(content.get("fresh"))
            self._replace(content["doc"], reply, content.get("seq", 0))
            return
        self.resumed_fresh = False
        for patch in content.get("patches", []):
            self._apply_patch(patch, reply)
        self.last_seq = max(self.last_seq, content.get("seq", self.last_seq))

    async def _send(self, message: Message) -> None:
        for frame in message.to_frames():
            await self._socket.send(frame if isinstance(frame, str | bytes) else bytes(frame))

    async def _request(self, message: Message, timeout: float = 30) -> Message:
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._replies[message.msgid] = future
        await self._send(message)
        if self._reader is None:  # before the reader runs (handshake), read inline
            while not future.done():
                self._dispatch(await self._read_message())
        return await asyncio.wait_for(future, timeout)

    async def send_message(self, message: Message) -> None:
        """Send a raw message (for tests of bad input)."""
        await self._send(message)

    async def request(self, message: Message, timeout: float = 30) -> Message:
        """Send a message and wait for the reply naming it."""
        return await self._request(message, timeout)

    async def request_server_info(self) -> dict[str, Any]:
        """Ask the server who it is."""
        reply = await self._request(server_info_req())
        if reply.msgtype != SERVER_INFO_REPLY:
            raise ServerError(f"expected SERVER-INFO-REPLY, got {reply.msgtype}")
        return dict(reply.content)

    # -- local changes ----------------------------------------------------------------

    def _watch_document(self) -> None:
        self.document.on_change(self._local_change)

    def _unwatch_document(self) -> None:
        self.document.remove_on_change(self._local_change)

    def _local_change(self, event: DocumentEvent) -> None:
        if event.setter == SERVER:
            return
        if not self._outgoing:
            self._outgoing_base = self.last_seq
            self._encoder = Encoder()
        encoded = encode_events([event], self._encoder, self.document.models)
        self._outgoing.extend(encoded["events"])
        self._outgoing_references.extend(encoded["references"])
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(lambda: asyncio.ensure_future(self._flush()))

    async def _flush(self) -> None:
        self._flush_scheduled = False
        if not self._outgoing or self._socket is None:
            return
        content = {"events": self._outgoing, "references": self._outgoing_references, "base": self._outgoing_base}
        self._outgoing, self._outgoing_references = [], []
        message = new_message(PATCH_DOC, content, buffers=self._encoder.buffers)
        self._pending[message.msgid] = message
        if not self.connected.is_set():
            return  # sent when the connection is resumed
        with contextlib.suppress(websockets.ConnectionClosed):  # then still pending: sent on resume
            await self._send(message)

    async def sync(self, timeout: float = 30) -> None:
        """Send local changes now and wait until the server has answered every one."""
        await self._flush()
        deadline = asyncio.get_running_loop().time() + timeout
        while self._pending:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("server did not answer every patch")
            await asyncio.sleep(0.002)

    def on_change(self, callback: Callable[[DocumentEvent], None]) -> None:
        """Call ``callback(event)`` for every change of the local document."""
        self.document.on_change(callback)

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10) -> None:
        """Wait until ``predicate()`` is true (checked as messages arrive)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not predicate():
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("condition not reached in time")
            await asyncio.sleep(0.005)


async def pull_session(url: str, *, headers: dict[str, str] | None = None, origin: str | None = None) -> ClientSession:
    """Open the app page at ``url``, connect its session and pull the document."""
    config = await asyncio.to_thread(fetch_page_config, url, headers=headers)
    session = ClientSession(config, origin=origin, headers=headers)
    await session.connect()
    return session


async def push_session(document: Document, url: str, *, headers: dict[str, str] | None = None) -> ClientSession:
    """Open a new session of the app at ``url`` and replace its document with ``document``."""
    session = await pull_session(url, headers=headers)
    doc_json, buffers = document.to_json()
    reply = await session.request(push_doc(doc_json, buffers))
    if reply.msgtype != OK:
        raise ServerError(reply.content.get("text", "push refused"), reply.content.get("code"))
    session._replace(doc_json, Message({}, {}, {}, list(buffers)), reply.content.get("seq", 0))
    return session
