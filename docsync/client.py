"""A Python client: pull or push a session over a real websocket, and keep it in sync.

Used by tests, by scripts that drive a running app, and by the benchmarks::

    session = await pull_session("http://127.0.0.1:8000/sliders/")
    session.document.get_model_by_name("frequency").value = 2
    await session.sync()
    await session.close()

The session protocol itself (handshake, positions, one patch in flight, answers,
resets, resume) is ``docsync.sync.ClientProtocol``; this module only moves its
messages between it and a websocket.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

try:
    import websockets
    from websockets.http11 import USER_AGENT
except ImportError as missing:  # not one of docsync's own dependencies: the server does not need it
    raise ImportError(
        "docsync.client needs the websockets package: pip install 'docsync[client]' (or websockets)"
    ) from missing

from .document import Document, DocumentEvent
from .exceptions import DocsyncError
from .protocol import Message, Receiver, push_doc, server_info_req
from .protocol.msgtypes import ERROR, OK, SERVER_INFO_REPLY
from .sync import NOTICE, SERVER, ChangesLost, ClientProtocol, ClientState, ErrorReported, Live, Reply
from .sync.pacing import DEFAULT_MESSAGES_PER_SECOND

__all__ = [
    "SERVER",
    "ChangeTooLargeError",
    "ClientSession",
    "ServerError",
    "fetch_page_config",
    "pull_session",
    "push_session",
]

_CONFIG = re.compile(r'<script id="docsync-config" type="application/json">(.*?)</script>', re.S)
#: Seconds ``sync``/``wait_for`` wait at most between checks when nothing wakes them.
WAKE_INTERVAL = 0.05
#: How many of the newest entries ``received``, ``errors``, ``notices`` and ``changes_lost``
#: each keep: a client connected for days would otherwise hold every message it was sent.
KEPT_RECORDS = 1000


class ServerError(DocsyncError):
    """The server answered a request with ERROR, or closed the connection."""

    def __init__(self, text: str, code: str | None = None) -> None:
        super().__init__(text)
        self.code = code


class ChangeTooLargeError(DocsyncError):
    """Local changes were not sent: the server would have refused them for their size (and closed the connection).

    ``lost`` holds what the protocol reported (reason ``"too-large"``, the changes' names,
    and ``text``: ``not sent: <the server's limit>``); the document was pulled again, so it
    holds the server's values.
    """

    def __init__(self, lost: list[ChangesLost]) -> None:
        names = ", ".join(dict.fromkeys(name for event in lost for name in event.changes)) or "a change"
        super().__init__(f"change to {names} {lost[0].text}")
        self.lost = lost


def _send_limits(config: Mapping[str, Any]) -> Receiver | None:
    """The limits the server takes a client's messages within, from its page configuration (None: not given)."""
    limits = config.get("connection", {}).get("sendLimits")
    if not isinstance(limits, dict):
        return None
    return Receiver(
        max_frame_bytes=int(limits["maxFrameBytes"]),
        max_message_bytes=int(limits["maxMessageBytes"]),
        max_buffers=int(limits["maxBuffers"]),
        max_containers=limits.get("maxFrameContainers"),
        max_values=limits.get("maxFrameValues"),
    )


def _send_rate(config: Mapping[str, Any]) -> float:
    """The server's ``MAX_PATCHES_PER_SECOND`` from its page configuration (its default when not given)."""
    limits = config.get("connection", {}).get("sendLimits")
    rate = limits.get("maxPatchesPerSecond") if isinstance(limits, dict) else None
    if isinstance(rate, int | float) and not isinstance(rate, bool) and rate > 0:
        return float(rate)
    return DEFAULT_MESSAGES_PER_SECOND


def fetch_page_config(url: str, *, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """GET an app page and return the client configuration it embeds (token, ws URL)."""
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=30) as response:
        html = response.read().decode("utf-8")
        final = response.geturl()
    match = _CONFIG.search(html)
    if match is None:
        # An app behind a login rule redirects to LOGIN_URL, whose page holds no configuration.
        where = url if final == url else f"{url} (redirected to {final}: does the app need a login?)"
        raise DocsyncError(f"no docsync configuration in the page at {where}")
    config: dict[str, Any] = json.loads(match.group(1))
    return config


def _keep(records: list[Any], entry: Any) -> None:
    """Append ``entry``, dropping the oldest once ``records`` holds ``KEPT_RECORDS``."""
    records.append(entry)
    if len(records) > KEPT_RECORDS:
        del records[0]


class ClientSession:
    """A connection to one server session, with a local document kept in sync."""

    def __init__(
        self, config: dict[str, Any], *, origin: str | None = None, headers: Mapping[str, str] | None = None
    ) -> None:
        self.config = config
        self.id: str = config["sessionId"]
        self.document = Document()
        # Nothing the server would refuse for its size (and close the connection for) is
        # sent, nor faster than the server takes messages (it would close with 4029).
        self.protocol = ClientProtocol(
            self.document,
            client_id=secrets.token_hex(8),
            send_limits=_send_limits(config),
            max_messages_per_second=_send_rate(config),
        )
        #: The ERROR messages received, oldest first (the newest ``KEPT_RECORDS``).
        self.errors: list[Message] = []
        #: Local changes not kept, as the protocol reported them (``ChangesLost``), oldest
        #: first (the newest ``KEPT_RECORDS``).
        self.changes_lost: list[ChangesLost] = []
        # Those too large to send, not raised by ``sync`` yet.
        self._too_large: list[ChangesLost] = []
        #: The NOTICE contents received (``{"text": ...}``), oldest first (the newest ``KEPT_RECORDS``).
        self.notices: list[Any] = []
        #: Every message received, oldest first (the newest ``KEPT_RECORDS``).
        self.received: list[Message] = []
        #: What the protocol reported when the document last went live.
        self.live: Live | None = None
        self._origin = origin
        # Sent with the websocket handshake: a logged-in page's token only opens a
        # websocket that carries the same Django login (its session cookie).
        self._headers = dict(headers or {})
        self._socket: Any = None
        self._receiver = Receiver(max_frame_bytes=1 << 31, max_message_bytes=1 << 33, max_buffers=1 << 20)
        self._reader: asyncio.Task[None] | None = None
        self._replies: dict[str, asyncio.Future[Message]] = {}
        self._flush_scheduled = False
        # A flush waiting for the server's rate (``ClientProtocol.send_delay``).
        self._paced: asyncio.TimerHandle | None = None
        self._paced_flush: asyncio.Future[None] | None = None
        # Frames of one message must not interleave with another's, nor messages reorder.
        self._send_lock = asyncio.Lock()
        self.connected = asyncio.Event()
        # While connect() runs (a first connection or a resume), sync() waits for it.
        self._connecting = False
        self._live = asyncio.Event()
        # Set (and replaced) whenever a message was handled or the connection changed:
        # sync() and wait_for() wake on it instead of polling every few milliseconds.
        self._progress = asyncio.Event()
        #: The close code and reason of the current connection, once it closed (None while open).
        self.close_code: int | None = None
        self.close_reason: str | None = None
        self.document.on_change(self._changed)
        self.document.on_message(NOTICE, lambda event: _keep(self.notices, event.msg_data))

    @property
    def client_id(self) -> str:
        """This client's id, the same on every connection and resume."""
        return self.protocol.client_id

    @property
    def last_seq(self) -> int:
        """The last server position applied to the document (0 before the first pull)."""
        return self.protocol.last_seq or 0

    @property
    def incarnation(self) -> str | None:
        """Which session the document belongs to."""
        return self.protocol.incarnation

    @property
    def resumed_fresh(self) -> bool:
        """Tell whether the last resume found a new session under the same id."""
        return self.live is not None and self.live.fresh

    @property
    def pending(self) -> int:
        """Local changes not answered yet: the patch in flight and those waiting."""
        return len(self.protocol.outbox) + (self.protocol.in_flight is not None)

    # -- connection -----------------------------------------------------------------

    async def connect(self, *, resume: bool = False) -> None:
        """Open the websocket, wait for ACK, then pull (or resume) the document.

        A client that had a document resumes; ``resume`` is kept for callers that say so.
        """
        self._connecting = True
        try:
            await self._connect()
        finally:
            self._connecting = False
            self._wake()

    async def _connect(self) -> None:
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
        # A new connection: the last one's close is no longer this client's state.
        self.close_code = self.close_reason = None
        self._receiver.reset()
        self._live.clear()
        self.protocol.connection_made()
        self._reader = asyncio.get_running_loop().create_task(self._read_forever(self._socket))
        self._unreadable: str | None = None
        live = asyncio.ensure_future(self._live.wait())
        done, _ = await asyncio.wait({live, self._reader}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
        if live not in done:
            live.cancel()
            refusal = next((m for m in reversed(self.errors) if m.reqid is None), None)
            await self._drop_socket()
            if refusal is not None:
                raise ServerError(refusal.content.get("text", "refused"), refusal.content.get("code"))
            raise ServerError(f"no document from the server ({self.close_code}: {self.close_reason})")
        if self._unreadable is not None:
            await self._drop_socket()
            raise DocsyncError(self._unreadable)
        self.connected.set()

    async def reconnect(self) -> None:
        """Reconnect to the same session and receive only the changes missed."""
        # From the start: a sync() waiting meanwhile waits for the new connection.
        self._connecting = True
        try:
            await self._drop_socket()
            await self.connect(resume=True)
        finally:
            self._connecting = False
            self._wake()

    async def disconnect(self) -> None:
        """Drop the connection, keeping the document and its position: ``reconnect`` resumes."""
        await self._drop_socket()

    async def _drop_socket(self) -> None:
        self.connected.clear()
        # Close while the reader still reads: a socket nobody reads stops reading the
        # transport once its queue fills (a stream keeps coming), the server's close
        # frame is never seen, and the close waits for its whole timeout.
        if self._socket is not None:
            await self._socket.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(BaseException):
                await self._reader
            self._reader = None
        self.protocol.connection_lost()
        self._wake()

    async def close(self) -> None:
        """Close the connection for good."""
        if self._paced is not None:
            self._paced.cancel()
            self._paced = None
        await self._drop_socket()
        self.protocol.close()

    async def __aenter__(self) -> ClientSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- messages -------------------------------------------------------------------

    async def _read_message(self, socket: Any) -> Message:
        while True:
            frame = await socket.recv()
            message = self._receiver.receive(frame)
            if message is not None:
                return message

    async def _read_forever(self, socket: Any) -> None:
        try:
            while True:
                message = await self._read_message(socket)
                self._dispatch(message)
                self._wake()
                await self._write()
        except websockets.ConnectionClosed as exc:
            # 1006: the connection dropped without a close frame (the peer died).
            self.close_code = exc.rcvd.code if exc.rcvd else 1006
            self.close_reason = exc.rcvd.reason if exc.rcvd else "connection lost"
            self.connected.clear()
            self.protocol.connection_lost()
            failure = ServerError(f"connection closed ({self.close_code}: {self.close_reason})")
            for future in self._replies.values():
                if not future.done():
                    future.set_exception(failure)
            self._wake()

    def _dispatch(self, message: Message) -> None:
        """Hand one message to the protocol and act on what it reports."""
        _keep(self.received, message)
        if message.msgtype == ERROR:
            _keep(self.errors, message)
        self.protocol.receive_message(message)
        self._handle_events(message)

    def _handle_events(self, message: Message | None) -> None:
        """Act on what the protocol reported (after ``message``, or after a flush: None)."""
        for event in self.protocol.events_received():
            if isinstance(event, Reply):
                future = self._replies.pop(event.message.reqid or "", None)
                if future is not None and not future.done():
                    future.set_result(event.message)
            elif isinstance(event, Live):
                self.live = event
                self._live.set()
            elif isinstance(event, ChangesLost):
                _keep(self.changes_lost, event)
                if event.reason == "too-large":
                    self._too_large.append(event)
            elif isinstance(event, ErrorReported) and event.reqid is not None and message is not None:
                future = self._replies.pop(event.reqid, None)
                if future is not None and not future.done():
                    future.set_result(message)
            elif isinstance(event, ErrorReported) and event.code == "bad-document" and not self._live.is_set():
                # The server's document cannot be read here (a model type this process
                # does not know, say): say so instead of waiting for it.
                self._unreadable = event.text
                self._live.set()

    async def _write(self) -> None:
        """Send what the protocol queued, in order."""
        async with self._send_lock:
            for message in self.protocol.messages_to_send():
                await self._send(message)
        delay = self.protocol.send_delay()
        if delay is not None and self._paced is None and self.protocol.state is not ClientState.CLOSED:
            # Past the server's rate: what waits goes when the bucket has a token again,
            # with the changes made meanwhile (the reader does not wait for it).
            self._paced = asyncio.get_running_loop().call_later(delay, self._send_paced)

    def _send_paced(self) -> None:
        self._paced = None
        self._paced_flush = asyncio.ensure_future(self._flush())

    async def _send(self, message: Message) -> None:
        for frame in message.to_frames():
            await self._socket.send(frame if isinstance(frame, str | bytes) else bytes(frame))

    async def _request(self, message: Message, timeout: float = 30) -> Message:
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self.protocol.send(message)  # (raises for a message the server would refuse: nothing to wait for)
        self._replies[message.msgid] = future
        await self._write()
        return await asyncio.wait_for(future, timeout)

    async def send_message(self, message: Message) -> None:
        """Send a raw message, outside the protocol (for tests of bad input)."""
        async with self._send_lock:
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

    def _changed(self, event: DocumentEvent) -> None:
        if event.setter == SERVER:
            return
        # Changes made in one turn of the loop go out in one patch.
        if not self._flush_scheduled and self.protocol.state is not ClientState.CLOSED:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(lambda: asyncio.ensure_future(self._flush()))

    async def _flush(self) -> None:
        self._flush_scheduled = False
        self.protocol.flush()
        # A change too large to send is reported (and a pull asked for) by the flush itself.
        self._handle_events(None)
        if self._socket is None or not self.connected.is_set():
            return  # sent when the connection is resumed
        with contextlib.suppress(websockets.ConnectionClosed):  # then still in flight: sent on resume
            await self._write()

    async def sync(self, timeout: float = 30) -> None:
        """Send local changes now; wait until the server answered every one, and what it did in reaction arrived.

        Raise ChangeTooLargeError, once the document holds the server's values again, if a
        change was not sent since the last call because the server would refuse it for its
        size (changes made with it that fit were sent, in smaller patches if need be).
        Raise ServerError at once if the connection is closed (or closes meanwhile) while
        changes wait for an answer: they are kept, and sent again by ``reconnect()``.
        """
        await self._flush()
        deadline = asyncio.get_running_loop().time() + timeout
        # (Syncing: a pull, after a change too large to send, is on its way.)
        while (
            self.pending
            or (self.protocol.state is ClientState.SYNCING and self.connected.is_set())
            or (self.protocol.state is ClientState.LIVE and not self.protocol.settled)
        ):
            if not self.connected.is_set() and not self._connecting:
                # Nothing can answer them before a reconnect(): waiting out the timeout
                # would only hide that the server or the network went away.
                raise ServerError(
                    f"connection closed ({self.close_code}: {self.close_reason}) with {self.pending} "
                    "change(s) unanswered; reconnect() sends them again"
                )
            now = asyncio.get_running_loop().time()
            if now > deadline:
                raise TimeoutError("server did not answer every patch")
            await self._progressed(deadline - now)
        if self._too_large:
            lost, self._too_large = self._too_large, []
            raise ChangeTooLargeError(lost)

    def on_change(self, callback: Callable[[DocumentEvent], None]) -> None:
        """Call ``callback(event)`` for every change of the local document."""
        self.document.on_change(callback)

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10) -> None:
        """Wait until ``predicate()`` is true (checked as messages arrive)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not predicate():
            now = asyncio.get_running_loop().time()
            if now > deadline:
                raise TimeoutError("condition not reached in time")
            await self._progressed(deadline - now)

    def _wake(self) -> None:
        """Wake what waits in ``sync`` or ``wait_for``: a message was handled, or the connection changed."""
        progress, self._progress = self._progress, asyncio.Event()
        progress.set()

    async def _progressed(self, timeout: float) -> None:
        """Wait until ``_wake``, or ``WAKE_INTERVAL`` at most (a predicate may depend on more than messages)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._progress.wait(), min(timeout, WAKE_INTERVAL))


async def pull_session(url: str, *, headers: dict[str, str] | None = None, origin: str | None = None) -> ClientSession:
    """Open the app page at ``url``, connect its session and pull the document.

    ``headers`` go with the page and the websocket: a ``Cookie`` with a Django session
    makes the client that login, or that anonymous visitor (whose sessions it may rejoin
    with ``?session_id=``). Without one, each page is a new visitor with a new session.
    """
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
    session.protocol.replace_document(doc_json, buffers, reply.content.get("seq", 0))
    return session
