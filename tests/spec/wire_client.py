"""A docsync client written from docs/protocol.md alone (no docsync import): frames, handshake, patches.

It frames messages by hand (§1, §2), finds its token where §4 says (the page's
configuration, autoload.js), speaks the handshake and the positions of "Convergence
and resume", and keeps every message it receives so that tests can look at them.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import math
import re
import secrets
import struct
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from typing import Any

import websockets

#: How long a read waits for a message that must come: a bound against hanging, not a
#: speed (a loaded machine shared by three test workers stalls for seconds). ``settle``,
#: which checks that nothing more comes, keeps its short window.
EVENT_WAIT = 60.0

# §4: the page carries its configuration as JSON in <script id="docsync-config">.
CONFIG_SCRIPT = re.compile(r'<script id="docsync-config" type="application/json">(.*?)</script>', re.S)
# §4: autoload.js carries the same configuration as the object literal it starts with.
AUTOLOAD_CONFIG = re.compile(r"var c=(\{.*?\});import\(")


def http_get(url: str, headers: dict[str, str] | None = None, jar: CookieJar | None = None) -> tuple[int, str]:
    """GET ``url`` (keeping cookies in ``jar``, as a browser does, if one is given); return (status, body)."""
    request = urllib.request.Request(url, headers=headers or {})
    opener = urllib.request.build_opener(*([urllib.request.HTTPCookieProcessor(jar)] if jar is not None else []))
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def cookie_header(jar: CookieJar) -> dict[str, str]:
    """The Cookie header a browser sends with the websocket handshake (§4: the visitor's Django session)."""
    return {"Cookie": "; ".join(f"{c.name}={c.value}" for c in jar)}


def page_config(page_url: str, jar: CookieJar | None = None, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """The configuration an app's page carries: app, sessionId, token, wsUrl, …"""
    status, html = http_get(page_url, headers, jar)
    assert status == 200, f"{page_url} answered {status}"
    match = CONFIG_SCRIPT.search(html)
    assert match, "the page has no docsync-config script"
    return dict(json.loads(match.group(1)))


def autoload_config(script_url: str) -> dict[str, Any]:
    """The configuration autoload.js carries (the same keys as a page's, plus target)."""
    status, script = http_get(script_url)
    assert status == 200, f"{script_url} answered {status}"
    match = AUTOLOAD_CONFIG.search(script)
    assert match, "autoload.js carries no configuration"
    return dict(json.loads(match.group(1)))


@dataclass
class Received:
    """One message as §2 defines it: header, metadata, content, and its buffers by id."""

    header: dict[str, Any]
    content: dict[str, Any]
    buffers: dict[str, bytes] = field(default_factory=dict)

    @property
    def msgtype(self) -> str:
        return str(self.header["msgtype"])

    @property
    def reqid(self) -> str | None:
        return self.header.get("reqid")


class Closed(Exception):
    """The server closed the websocket."""

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"closed with {code}: {reason}")
        self.code = code
        self.reason = reason


class WireClient:
    """One websocket to a session, speaking docsync messages."""

    def __init__(
        self, socket: Any, config: dict[str, Any], client_id: str, msgids: Iterator[int] | None = None
    ) -> None:
        self.socket = socket
        self.config = config
        self.client_id = client_id
        self.inbox: list[Received] = []  # every message received, in order
        self.last_seq = 0
        self.incarnation: str | None = None
        # §2: a client that names a client_id keeps its msgids unique across its connections.
        self._ids = msgids if msgids is not None else itertools.count(1)

    @classmethod
    async def connect(
        cls,
        config: dict[str, Any],
        *,
        origin: str | None = None,
        client_id: str | None = None,
        subprotocols: list[str] | None = None,
        headers: dict[str, str] | None = None,
        msgids: Iterator[int] | None = None,
    ) -> WireClient:
        """Open the websocket of ``config`` with the subprotocols ["docsync", token] (§4)."""
        url = config["wsUrl"]
        socket = await websockets.connect(
            url,
            subprotocols=subprotocols or ["docsync", config["token"]],  # type: ignore[list-item]
            origin=origin or "http://" + url.split("/")[2],  # type: ignore[arg-type]
            max_size=None,
            open_timeout=10,
            additional_headers=headers,
        )
        return cls(socket, config, client_id or secrets.token_hex(8), msgids)

    # -- framing (§1, §2) -------------------------------------------------------------

    async def send(
        self, msgtype: str, content: dict[str, Any], buffers: dict[str, bytes] | None = None, msgid: str | None = None
    ) -> str:
        """Send a message (a new msgid unless one is given: a resend); return its msgid."""
        msgid = msgid or str(next(self._ids))
        header: dict[str, Any] = {"msgid": msgid, "msgtype": msgtype}
        if buffers:
            header["num_buffers"] = len(buffers)
        await self.socket.send(json.dumps(header))
        await self.socket.send("{}")
        await self.socket.send(json.dumps(content))
        for buffer_id, payload in (buffers or {}).items():
            await self.socket.send(json.dumps({"id": buffer_id}))
            await self.socket.send(payload)
        return msgid

    async def _frame(self, timeout: float) -> str | bytes:
        try:
            return await asyncio.wait_for(self.socket.recv(), timeout)
        except websockets.ConnectionClosed as exc:
            raise Closed(exc.rcvd.code if exc.rcvd else None, exc.rcvd.reason if exc.rcvd else "") from None

    async def receive(self, timeout: float = EVENT_WAIT) -> Received:
        """Read the frames of one message; keep it in ``inbox`` and return it."""
        header = json.loads(await self._frame(timeout))
        await self._frame(timeout)  # metadata
        content = json.loads(await self._frame(timeout))
        buffers = {}
        for _ in range(header.get("num_buffers") or 0):
            buffer_id = json.loads(await self._frame(timeout))["id"]
            payload = await self._frame(timeout)
            assert isinstance(payload, bytes)
            buffers[buffer_id] = payload
        message = Received(header, content, buffers)
        self.inbox.append(message)
        return message

    async def reply_to(self, msgid: str, timeout: float = EVENT_WAIT) -> Received:
        """Read until the reply to ``msgid`` (the messages before it stay in ``inbox``)."""
        while True:
            message = await self.receive(timeout)
            if message.reqid == msgid:
                return message

    async def request(self, msgtype: str, content: dict[str, Any], buffers: dict[str, bytes] | None = None) -> Received:
        """Send a request and return its reply."""
        return await self.reply_to(await self.send(msgtype, content, buffers))

    async def until_closed(self, timeout: float = EVENT_WAIT) -> Closed:
        """Read until the server closes the websocket; return the close."""
        while True:
            try:
                await self.receive(timeout)
            except Closed as closed:
                return closed

    async def close(self) -> None:
        await self.socket.close()

    def drop(self) -> None:
        """Lose the connection without a close frame, as a network failure does."""
        self.socket.transport.abort()

    # -- the session (§4, "Convergence and resume") -------------------------------------

    async def handshake(self) -> dict[str, Any]:
        """Wait for ACK, pull the document (naming this client's id); return the document JSON."""
        ack = await self.receive()
        assert ack.msgtype == "ACK", ack
        reply = await self.request("PULL-DOC-REQ", {"client_id": self.client_id})
        assert reply.msgtype == "PULL-DOC-REPLY", reply
        self.last_seq = reply.content["seq"]
        self.incarnation = reply.content["incarnation"]
        return dict(reply.content["doc"])

    async def patch(self, events: list[dict[str, Any]], *, base: int | None = None, **content: Any) -> Received:
        """Send PATCH-DOC based on ``base`` (default: the last position applied); return the reply."""
        body = {"events": events, "references": [], "base": self.last_seq if base is None else base, **content}
        return await self.request("PATCH-DOC", body)

    def patches(self, since: int = 0) -> list[Received]:
        """The PATCH-DOCs received so far whose seq is after ``since``."""
        return [m for m in self.inbox if m.msgtype == "PATCH-DOC" and m.content.get("seq", 0) > since]

    async def settle(self, timeout: float = 0.5) -> None:
        """Read whatever arrives within ``timeout`` (for checking that nothing more comes)."""
        try:
            while True:
                await self.receive(timeout)
        except TimeoutError:
            return


def model_by(doc: dict[str, Any], **attributes: Any) -> dict[str, Any]:
    """The one model definition of ``doc`` whose attributes include ``attributes``."""
    found = [m for m in doc["models"] if all(m["attributes"].get(k) == v for k, v in attributes.items())]
    assert len(found) == 1, f"{len(found)} models with {attributes}"
    return dict(found[0])


def changed(model_id: str, attr: str, new: Any) -> dict[str, Any]:
    """A ModelChanged event (§8)."""
    return {"kind": "ModelChanged", "model": {"id": model_id}, "attr": attr, "new": new}


# §7: each dtype's item, as the struct module names it.
DTYPE_CODES = {
    "bool": "?",
    "int8": "b",
    "uint8": "B",
    "int16": "h",
    "uint16": "H",
    "int32": "i",
    "uint32": "I",
    "int64": "q",
    "uint64": "Q",
    "float32": "f",
    "float64": "d",
}


def ndarray(values: list[Any], dtype: str, buffer_id: str, order: str = "little") -> tuple[dict[str, Any], bytes]:
    """A one-dimensional array as §7 sends it: its description and its buffer's payload."""
    code = ("<" if order == "little" else ">") + f"{len(values)}{DTYPE_CODES[dtype]}"
    description = {"type": "ndarray", "buffer": buffer_id, "dtype": dtype, "shape": [len(values)], "order": order}
    return description, struct.pack(code, *values)


def ndarray_values(value: dict[str, Any], buffers: dict[str, bytes]) -> list[Any]:
    """The elements of an ndarray value (§7), in C order, from its buffer of ``buffers`` (or its base64)."""
    assert value["type"] == "ndarray" and value["order"] in ("little", "big"), value
    count = math.prod(value["shape"])
    payload = buffers[value["buffer"]] if "buffer" in value else base64.b64decode(value["base64"])
    code = ("<" if value["order"] == "little" else ">") + f"{count}{DTYPE_CODES[value['dtype']]}"
    assert len(payload) == struct.calcsize(code), f"buffer length {len(payload)} does not match {value}"
    return list(struct.unpack(code, payload))


def token_payload(token: str) -> dict[str, Any]:
    """What a token says (§4): the JSON before its first '.', in URL-safe base64 without padding."""
    payload = token.split(".", 1)[0]
    assert "=" not in payload and payload, token
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))
