"""A lean client of the Bokeh/docsync wire protocol: raw frames over ``websockets``.

No document model: a session is a socket, the slider's id and the server position.
The same code speaks to docsync, to Bokeh's server and to the echo floor; a
``Flavour`` holds what differs (token, subprotocols, the shape of a patch).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import socket
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from websockets.asyncio.client import ClientConnection, connect

ACK = "ACK"
OK = "OK"
ERROR = "ERROR"
PULL_DOC_REQ = "PULL-DOC-REQ"
PULL_DOC_REPLY = "PULL-DOC-REPLY"
PATCH_DOC = "PATCH-DOC"

_msgids = itertools.count(1)


class BenchError(Exception):
    """The server answered something the benchmark did not expect."""


@dataclass(slots=True)
class Received:
    """One message as it came off the wire."""

    header: dict[str, Any]
    metadata: dict[str, Any]
    content: dict[str, Any]
    buffers: list[bytes]
    nbytes: int
    frames: list[str | bytes] | None = None

    @property
    def msgtype(self) -> str:
        return str(self.header.get("msgtype"))


class Flavour:
    """What differs between servers: credentials, subprotocols, patch content."""

    name = "abstract"
    checks_replies = True

    def credentials(self, app: str) -> tuple[str, str]:
        """Return (session id, token) for a new session of ``app``."""
        raise NotImplementedError

    def subprotocols(self, token: str) -> list[str]:
        raise NotImplementedError

    def page_path(self, app: str) -> str:
        """The path of ``app``'s page (as a browser opens it)."""
        raise NotImplementedError

    def token_from_page(self, html: str) -> str:
        """The session token the page hands its client (Bokeh's embed: ``"token":"..."``)."""
        match = _EMBED_TOKEN.search(html)
        if match is None:
            raise BenchError("no token in the page")
        return match.group(1)

    def patch_content(self, slider_id: str, value: float, seq: int) -> dict[str, Any]:
        event = {"kind": "ModelChanged", "model": {"id": slider_id}, "attr": "value", "new": value}
        return {"events": [event]}


_EMBED_TOKEN = re.compile(r'"token":\s*"([\w.\-]+)"')
_DOCSYNC_CONFIG = re.compile(r'<script id="docsync-config" type="application/json">(.*?)</script>', re.S)


class DocsyncFlavour(Flavour):
    """docsync: tokens signed with the Django SECRET_KEY the server was given."""

    name = "docsync"

    def __init__(self) -> None:
        from django.conf import settings

        if not settings.configured:
            settings.configure(SECRET_KEY=os.environ["DJANGO_SECRET_KEY"])
        from docsync.server.admission.tokens import generate_session_id, issue_token

        self._generate, self._issue = generate_session_id, issue_token

    def credentials(self, app: str) -> tuple[str, str]:
        session_id = self._generate()
        return session_id, self._issue(session_id, app, None)

    def subprotocols(self, token: str) -> list[str]:
        return ["docsync", token]

    def page_path(self, app: str) -> str:
        return f"/{app}/"

    def token_from_page(self, html: str) -> str:
        match = _DOCSYNC_CONFIG.search(html)
        if match is None:
            raise BenchError("no docsync configuration in the page")
        return str(json.loads(match.group(1))["token"])

    def patch_content(self, slider_id: str, value: float, seq: int) -> dict[str, Any]:
        content = super().patch_content(slider_id, value, seq)
        content["references"] = []
        content["base"] = seq
        return content


class BokehFlavour(Flavour):
    """Bokeh: unsigned session ids and tokens, as ``bokeh serve`` accepts by default."""

    name = "bokeh"

    def __init__(self) -> None:
        from bokeh.util.token import generate_jwt_token, generate_session_id

        self._generate, self._token = generate_session_id, generate_jwt_token

    def credentials(self, app: str) -> tuple[str, str]:
        session_id = self._generate(signed=False)
        return session_id, self._token(session_id, signed=False, expiration=3600)

    def subprotocols(self, token: str) -> list[str]:
        return ["bokeh", token]

    def page_path(self, app: str) -> str:
        return f"/{app}"


class DocsyncBokehFlavour(DocsyncFlavour):
    """docsync serving the Bokeh app to Bokeh's protocol: docsync's signed token, which
    names ``session_id`` in its payload as BokehJS expects; Bokeh's subprotocol and patches."""

    name = "docsync-bokeh"

    def credentials(self, app: str) -> tuple[str, str]:
        session_id = self._generate()
        return session_id, self._issue(session_id, app, None, extra={"session_id": session_id})

    def subprotocols(self, token: str) -> list[str]:
        return ["bokeh", token]

    def page_path(self, app: str) -> str:
        return f"/{app}/"

    def token_from_page(self, html: str) -> str:
        return Flavour.token_from_page(self, html)

    def patch_content(self, slider_id: str, value: float, seq: int) -> dict[str, Any]:
        return Flavour.patch_content(self, slider_id, value, seq)


class EchoFlavour(Flavour):
    """The echo floor: no token; its replies are canned, so they are not checked."""

    name = "echo"
    checks_replies = False

    def credentials(self, app: str) -> tuple[str, str]:
        return "echo", "echo"

    def subprotocols(self, token: str) -> list[str]:
        return []


def make_flavour(name: str) -> Flavour:
    """Return the flavour called ``name``."""
    flavours = {"docsync": DocsyncFlavour, "docsync-bokeh": DocsyncBokehFlavour, "bokeh": BokehFlavour}
    return {**flavours, "echo": EchoFlavour}[name]()


class Connection:
    """One websocket speaking the multi-frame protocol."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    @classmethod
    async def open(cls, url: str, subprotocols: list[str]) -> Connection:
        ws = await connect(
            url,
            subprotocols=subprotocols or None,  # type: ignore[arg-type]
            max_size=None,
            compression=None,
            ping_interval=None,
            open_timeout=60,
            close_timeout=10,
        )
        # asyncio sets this on TCP sockets already; said here so that no client-side
        # Nagle delay can hide in any result.
        sock = ws.transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(ws)

    async def send(self, msgtype: str, content: dict[str, Any] | None = None) -> str:
        """Send a buffer-less message; return its msgid."""
        msgid = str(next(_msgids))
        await self.ws.send(json.dumps({"msgid": msgid, "msgtype": msgtype}))
        await self.ws.send("{}")
        await self.ws.send(json.dumps(content or {}))
        return msgid

    async def receive(self, *, keep_frames: bool = False) -> Received:
        """Receive the frames of one message."""
        frames: list[str | bytes] = []
        header_frame = await self.ws.recv()
        metadata_frame = await self.ws.recv()
        content_frame = await self.ws.recv()
        frames += [header_frame, metadata_frame, content_frame]
        header = json.loads(header_frame)
        buffers = []
        for _ in range(int(header.get("num_buffers", 0))):
            buffer_header = await self.ws.recv()
            payload = await self.ws.recv()
            if isinstance(payload, str):
                raise BenchError("text frame where a buffer payload belongs")
            frames += [buffer_header, payload]
            buffers.append(payload)
        nbytes = sum(len(f.encode()) if isinstance(f, str) else len(f) for f in frames)
        return Received(
            header,
            json.loads(metadata_frame),
            json.loads(content_frame),
            buffers,
            nbytes,
            frames if keep_frames else None,
        )

    async def close(self) -> None:
        await self.ws.close()


def find_model(doc: Any, name: str) -> dict[str, Any] | None:
    """Find the model named ``name`` in a document's JSON (docsync's or Bokeh's form)."""
    stack = [doc]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            attributes = value.get("attributes")
            if "id" in value and isinstance(attributes, dict) and attributes.get("name") == name:
                return value
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return None


@dataclass
class Session:
    """An open, pulled session."""

    flavour: Flavour
    conn: Connection
    token: str
    slider_id: str
    points: int
    seq: int = 0
    value: float = 1.0
    open_seconds: float = 0.0
    pull_seconds: float = 0.0
    pull_bytes: int = 0
    checked: int = 0
    greet: Received | None = None
    pulled: Received | None = None
    x: Any = field(default=None, repr=False)

    async def round_trip(self, value: float, *, check: bool = False) -> float:
        """Set the slider; return seconds until the PATCH-DOC with the new ``y`` arrived.

        Returns after the OK too, so that round trips never overlap.
        """
        conn = self.conn
        start = time.perf_counter()
        msgid = await conn.send(PATCH_DOC, self.flavour.patch_content(self.slider_id, value, self.seq))
        patched_at = 0.0
        patch: Received | None = None
        answered = False
        while patch is None or not answered:
            message = await conn.receive()
            msgtype = message.msgtype
            if msgtype == PATCH_DOC and message.buffers:
                patched_at = time.perf_counter()
                patch = message
            elif msgtype == OK and (message.header.get("reqid") == msgid or not self.flavour.checks_replies):
                answered = True
            elif msgtype == ERROR:
                raise BenchError(f"server refused the patch: {message.content}")
            seq = message.content.get("seq")
            if isinstance(seq, int):
                self.seq = max(self.seq, seq)
        self.value = value
        if check and self.flavour.checks_replies:
            self._check_y(patch, value)
        return patched_at - start

    def _check_y(self, patch: Received, value: float) -> None:
        expected = np.sin(self.x * value / 10)
        for buffer in patch.buffers:
            if len(buffer) == expected.nbytes and np.allclose(np.frombuffer(buffer, dtype=np.float64), expected):
                self.checked += 1
                return
        raise BenchError(f"no buffer in the PATCH-DOC holds sin(x * {value} / 10)")

    async def close(self) -> None:
        await self.conn.close()


async def open_session(
    flavour: Flavour, base_url: str, app: str, points: int, *, keep_frames: bool = False, token: str | None = None
) -> Session:
    """Connect, receive ACK, pull the whole document; time both parts.

    With ``token``, connect to that token's session again (or its successor, if the
    server destroyed it meanwhile).
    """
    if token is None:
        _, token = flavour.credentials(app)
    start = time.perf_counter()
    conn = await Connection.open(f"{base_url}/{app}/ws", flavour.subprotocols(token))
    try:
        greet = await conn.receive(keep_frames=keep_frames)
        if greet.msgtype != ACK:
            raise BenchError(f"expected ACK, got {greet.msgtype}: {greet.content}")
        pull_start = time.perf_counter()
        await conn.send(PULL_DOC_REQ, {})
        reply = await conn.receive(keep_frames=keep_frames)
        end = time.perf_counter()
        if reply.msgtype != PULL_DOC_REPLY:
            raise BenchError(f"expected PULL-DOC-REPLY, got {reply.msgtype}: {reply.content}")
    except BaseException:
        await conn.close()
        raise
    slider = find_model(reply.content.get("doc"), "slider")
    if slider is None:
        await conn.close()
        raise BenchError("no model named 'slider' in the pulled document")
    session = Session(flavour, conn, token, str(slider["id"]), points, seq=int(reply.content.get("seq", 0) or 0))
    session.value = float(slider["attributes"].get("value", 1.0))
    session.open_seconds = end - start
    session.pull_seconds = end - pull_start
    session.pull_bytes = reply.nbytes
    session.x = np.linspace(0, 10, points)
    if keep_frames:
        session.greet, session.pulled = greet, reply
    return session


async def fetch_page(base_url: str, path: str, *, limit: int = 4 << 20) -> str:
    """GET ``path`` over a new connection as HTTP/1.0 (no chunking, closed at the end); return the body.

    A new connection per page, as a browser's first visit makes one.
    """
    host, port = base_url.removeprefix("ws://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(f"GET {path} HTTP/1.0\r\nHost: {host}:{port}\r\nAccept: text/html\r\n\r\n".encode())
        data = await reader.read(limit)
        while True:
            more = await reader.read(limit)
            if not more:
                break
            data += more
            if len(data) > limit:
                raise BenchError(f"page {path} over {limit} bytes")
    finally:
        writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0]
    if b" 200 " not in status + b" ":
        raise BenchError(f"GET {path}: {status.decode(errors='replace')}")
    return body.decode("utf-8")
