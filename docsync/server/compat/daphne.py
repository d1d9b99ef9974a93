"""daphne internals: let it close websockets with the codes and reasons docsync sends.

daphne turns an application's ``websocket.close`` into autobahn's ``sendClose``, which
accepts only 1000 and 3000-4999 and raises for anything else; it also drops the
reason. A refusal with 1002/1008/1009/1011 would end in a traceback and a bare 1011.
ASGI lets the application choose any close code, so daphne's reply handler is wrapped
to send every code RFC 6455 lets an endpoint send, with its reason. Other servers
(uvicorn) send them already and are left alone.

daphne also drops an empty ``websocket.send`` (it tests the payload's truth), so the
payload frame of an empty buffer (an empty array) never left and the client's frame
sequence broke. The same wrapper sends empty frames.

daphne limits websocket messages to 1 MiB by default (``--websocket-max-message-size``,
``DAPHNE_WEBSOCKET_MAX_MESSAGE_SIZE`` under runserver), and autobahn applies that limit
to outgoing messages too: a larger ``websocket.send`` raised inside daphne and the
client waited forever, nothing logged. docsync decides what it sends (its documents are
bounded by its own settings), so the wrapper sends docsync's frames past that limit, and
:func:`fit_incoming_limit` raises a docsync websocket's incoming limit when daphne's is
lower, so that daphne never refuses what docsync accepts (a limit set higher is left
as it is).

daphne's ``websocket.send`` never waits: it writes into Twisted's buffer, however full.
:func:`send_backpressure` lets a connection's writer wait while that buffer is over
Twisted's bound, as uvicorn's ``send`` waits by itself (see ``server/outbox.py``).

daphne reads a websocket for as long as its client sends, and queues every frame for the
application without a bound: while a session was busy (a slow callback), one client
could grow the process by whatever it sent (60 MiB in 8 s in a test; uvicorn's
websockets stop reading at ``--ws-max-queue`` messages). :func:`bound_incoming` counts
the bytes daphne has queued and the application not yet taken, and pauses reading the
socket past a bound (TCP then holds the client back) until half of them are taken.

A refused client must read the ERROR and the close frame docsync sends it. autobahn
waited one second for the client's close frame, then aborted the connection (a TCP
reset, whatever was still unread or unsent); it aborts on the client's close frame too.
A loaded client that wrote again after the reset got ECONNRESET, and its event loop
closed the socket without reading what the kernel held for it: the ERROR and the close
frame were lost (close code 1006). A websocket docsync closes here waits
``CLOSE_HANDSHAKE_SECONDS`` for the client's close frame, then half-closes (a FIN after
everything written) and reads and discards what the client still sends until it closes
too, for ``LINGER_SECONDS`` at most; only a client that neither reads nor closes for all
that time is reset.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import struct
import sys
from collections import deque
from collections.abc import Callable
from typing import Any

from .versions import Version, checked, installed

__all__ = [
    "CHECKED",
    "CLOSE_HANDSHAKE_SECONDS",
    "LARGE_FRAME_BYTES",
    "LINGER_SECONDS",
    "PLAIN_OPTIONS_OFF",
    "SENDABLE_CLOSE_CODES",
    "allow_protocol_close_codes",
    "bound_incoming",
    "buffered_bytes",
    "daphne_protocol",
    "fit_incoming_limit",
    "patch_applies",
    "send_backpressure",
    "takes_views",
]

logger = logging.getLogger("docsync.server")

#: The daphne releases whose ``WebSocketProtocol.handle_reply`` this module was checked against.
CHECKED: tuple[Version, Version] = ((4, 1), (4, 3))
#: What the wrapper uses of the class: daphne's reply handler, autobahn's state, senders and TCP close.
_INTERNALS = ("handle_reply", "sendCloseFrame", "sendMessage", "STATE_OPEN", "_closeConnection", "dataReceived")

#: Codes an endpoint may put in a close frame (RFC 6455 section 7.4 and the IANA registry).
SENDABLE_CLOSE_CODES = frozenset({1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014}) | frozenset(
    range(3000, 5000)
)
_MAX_REASON_BYTES = 123
_MEDIUM = struct.Struct("!BBH").pack
_LONG = struct.Struct("!BBQ").pack  # a control frame's payload is at most 125 bytes, 2 for the code


def _reason_bytes(reason: Any) -> bytes | None:
    if not isinstance(reason, str) or not reason:
        return None
    return reason.encode("utf-8")[:_MAX_REASON_BYTES].decode("utf-8", "ignore").encode("utf-8")


def patch_applies(protocol: type) -> bool:
    """Tell whether daphne's protocol class is one the wrapper fits: a checked release, or its internals all there.

    A daphne outside ``CHECKED`` that still has every internal the wrapper uses is
    wrapped, with a warning; one that lacks any is left alone (its own handling: a
    close code other than 1000/3000-4999 becomes 1011, an empty frame is dropped, a
    frame over its limit is not sent), with an error saying so.
    """
    missing = [name for name in _INTERNALS if not hasattr(protocol, name)]
    if missing:
        logger.error("daphne %s lacks %s: close codes and big frames stay daphne's", installed("daphne"), missing)
        return False
    if not checked("daphne", *CHECKED):
        logger.warning("daphne %s is wrapped unchecked (checked: %s up to %s)", installed("daphne"), *CHECKED)
    return True


def allow_protocol_close_codes() -> None:
    """Wrap daphne's reply handler, once, if this process runs daphne (later calls cost a lookup)."""
    module = sys.modules.get("daphne.ws_protocol")
    if module is None:
        return
    protocol = module.WebSocketProtocol
    original = protocol.handle_reply
    if getattr(original, "docsync_close_codes", False) or getattr(protocol, "docsync_left_alone", False):
        return
    if not patch_applies(protocol):
        protocol.docsync_left_alone = True
        return

    def handle_reply(self: Any, message: dict[str, Any]) -> None:
        if message.get("type") == "websocket.close" and self.state == self.STATE_OPEN:
            code = message.get("code") or 1000
            if code in SENDABLE_CLOSE_CODES:
                _close_lingering(self, code, _reason_bytes(message.get("reason")))
                return
        if message.get("type") == "websocket.send" and self.state == self.STATE_OPEN:
            data, text = message.get("bytes"), message.get("text")
            if data is not None and text is None:
                if not _write_large_binary(self, data):
                    _send_past_limit(self, bytes(data), binary=True)
                return
            if text is not None and data is None:
                _send_past_limit(self, text.encode("utf-8"), binary=False)
                return
        original(self, message)

    handle_reply.docsync_close_codes = True  # type: ignore[attr-defined]
    handle_reply.docsync_original = original  # type: ignore[attr-defined]
    protocol.handle_reply = handle_reply


#: How long a websocket docsync closes waits for the client's close frame (autobahn's own: 1 s).
CLOSE_HANDSHAKE_SECONDS = 5.0
#: How long it then reads and discards, half-closed, before a client that never closes is reset.
LINGER_SECONDS = 5.0


def _close_lingering(protocol: Any, code: int, reason: bytes | None) -> None:
    """Send a close frame; then let the connection end without a reset while the client may still read."""
    protocol.closeHandshakeTimeout = CLOSE_HANDSHAKE_SECONDS  # read by sendCloseFrame, for this connection
    # autobahn drops the TCP connection through this, on the client's close frame or at
    # the timeout, with abort=True: a reset. Replaced for this connection only.
    protocol._closeConnection = functools.partial(_linger, protocol)
    protocol.sendCloseFrame(code=code, reasonUtf8=reason, isReply=False)


def _discard(data: bytes) -> None:
    """What a lingering connection does with what the client still sends (autobahn would keep it)."""


def _linger(protocol: Any, abort: bool = False) -> None:
    """Half-close once everything is written, read and discard until the client closes, reset only after LINGER_SECONDS.

    Closing a socket with input unread makes the kernel send a reset, as an abort does;
    reading on until the client's end of the stream leaves nothing unread.
    """
    transport = protocol.transport
    if not hasattr(transport, "loseWriteConnection") or getattr(transport, "disconnected", True):
        type(protocol)._closeConnection(protocol, abort)
        return
    from twisted.internet import reactor as _reactor

    reactor: Any = _reactor  # the installed reactor (typed as the module's interface, not its class)
    protocol.dataReceived = _discard  # Twisted looks it up on each read
    # Reading stops while the send buffer is full (daphne's channel pauses it): the
    # client's close could not be read. Nothing more is produced for this connection.
    with contextlib.suppress(Exception):
        transport.resumeProducing()
    transport.loseWriteConnection()
    reactor.callLater(LINGER_SECONDS, transport.abortConnection)  # no-op once it is disconnected


#: Binary payloads from this size on are framed here, in one copy (autobahn's way makes two more).
LARGE_FRAME_BYTES = 64 * 1024
#: autobahn's options that must be off (falsy) for a message to be written as one plain frame.
PLAIN_OPTIONS_OFF = (
    "_perMessageCompress", "send_queue", "maskServerFrames", "logFrames", "logOctets", "trackedTimings",
)  # fmt: skip


def _write_large_binary(protocol: Any, payload: bytes | bytearray | memoryview) -> bool:
    """Write a large binary payload as one frame straight to Twisted's transport; False when autobahn must.

    Through autobahn a 16 MB buffer was copied three times (into bytes for its
    ``sendMessage``, behind the frame header, and when Twisted joined its buffer): a
    1M-point pull under daphne page-faulted on 48 MB. Here the header and the payload are
    joined once, into the one bytes object Twisted takes, which it sends without joining
    again when nothing waits before it. Only an open connection without compression,
    masking, logging or autobahn's own send queue qualifies: anything else is autobahn's.
    """
    size = payload.nbytes if isinstance(payload, memoryview) else len(payload)
    if size < LARGE_FRAME_BYTES or any(getattr(protocol, name, True) for name in PLAIN_OPTIONS_OFF):
        return False
    header = _LONG(0x82, 127, size) if size >= 65536 else _MEDIUM(0x82, 126, size)
    protocol.transport.write(header + payload)
    return True


def takes_views(send: Any) -> bool:
    """Tell whether ``send`` (the innermost ASGI send) is daphne's, wrapped to take memoryviews as binary payloads.

    The wrapper copies a payload into its frame before ``send`` returns, so the
    consumer's own copy into bytes is one too many. Call it after
    :func:`allow_protocol_close_codes`.
    """
    module = sys.modules.get("daphne.ws_protocol")
    wrapped = module is not None and getattr(module.WebSocketProtocol.handle_reply, "docsync_close_codes", False)
    return bool(wrapped) and daphne_protocol(send) is not None


def _send_past_limit(protocol: Any, payload: bytes, *, binary: bool) -> None:
    # autobahn checks one attribute for both directions; the reactor runs this call to
    # the end before reading anything, so lifting it here never lets a big frame in.
    limit = protocol.maxMessagePayloadSize
    protocol.maxMessagePayloadSize = 0
    try:
        protocol.sendMessage(payload, binary)
    finally:
        protocol.maxMessagePayloadSize = limit


def daphne_protocol(send: Any) -> Any:
    """The daphne WebSocketProtocol behind an ASGI ``send``, or None under another server."""
    module = sys.modules.get("daphne.ws_protocol")
    if module is None or not isinstance(send, functools.partial) or not send.args:
        return None  # daphne's send is partial(server.handle_reply, protocol)
    protocol = send.args[0]
    return protocol if isinstance(protocol, module.WebSocketProtocol) else None


def fit_incoming_limit(send: Any, max_frame_bytes: int) -> int | None:
    """Let daphne accept incoming frames of up to ``max_frame_bytes`` on this websocket (at least).

    ``send`` is the innermost ASGI send of the connection (``compat.frame_send``).
    Returns daphne's incoming limit now in force for it (0: none), or None when the
    server is not daphne. Call it before accepting the websocket.
    """
    protocol = daphne_protocol(send)
    if protocol is None:
        return None
    for name in ("maxMessagePayloadSize", "maxFramePayloadSize"):
        current = int(getattr(protocol, name) or 0)
        if 0 < current < max_frame_bytes:
            setattr(protocol, name, max_frame_bytes)
    return int(protocol.maxMessagePayloadSize or 0)


class _Drain:
    """A push producer on daphne's transport: Twisted pauses it while its send buffer is full.

    daphne writes every ``websocket.send`` into Twisted's buffer and returns at once, so
    a client that does not read grew the server without bound. Registered as the
    transport's producer, this learns when the buffer passes Twisted's ``bufferSize``
    (64 KiB) and when it has drained, so the connection's writer waits in between.
    daphne's HTTP channel holds that place from before the upgrade: the drain takes it
    and passes every call on to the channel (``previous``), which pauses reading then.
    """

    def __init__(self, previous: Any = None, transport: Any = None) -> None:
        self.paused = False
        self._waiters: list[Any] = []
        #: The producer that held the transport before (daphne's HTTP channel): told everything too.
        self.previous = previous
        self.transport = transport

    def pauseProducing(self) -> None:  # Twisted's IPushProducer names
        self.paused = True
        if self.previous is not None:
            self.previous.pauseProducing()

    def resumeProducing(self) -> None:
        self.paused = False
        self._wake()
        if self.previous is not None:
            self.previous.resumeProducing()

    def stopProducing(self) -> None:  # the connection is gone: nothing waits for it
        self.paused = False
        self._wake()
        if self.previous is not None:
            self.previous.stopProducing()

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def held_back(self) -> bool:
        """Whether Twisted's send buffer for this websocket is over its bound."""
        return self.paused

    async def drained(self) -> None:
        """Return once Twisted's send buffer is below its bound (or the connection is gone)."""
        await self.wait()

    async def wait(self, nbytes: int = 0) -> None:
        """Return once Twisted's send buffer is below its bound (empty, before a frame of 64 KiB or more).

        Twisted joins everything waiting in its buffer into one bytes object when it
        writes: a large frame queued behind a few small ones was copied once more (16 MB
        per 1M-point pull). Written into an empty buffer, it goes out as it is. Twisted
        tells its producer when the buffer has emptied only after a pause, so the wait
        marks the transport paused; the small frames before it are out within one turn
        of the loop on a reading client.
        """
        transport = self.transport
        if (
            nbytes >= LARGE_FRAME_BYTES
            and transport is not None
            and not self.paused
            and buffered_bytes(transport)
            and not getattr(transport, "disconnected", True)
            and hasattr(transport, "producerPaused")
        ):
            self.paused = True
            transport.producerPaused = True  # Twisted: resumeProducing() once all is written
        while self.paused:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            await waiter


def buffered_bytes(transport: Any) -> int:
    """The bytes waiting in Twisted's send buffer of ``transport``."""
    return len(getattr(transport, "dataBuffer", b"")) + int(getattr(transport, "_tempDataLen", 0) or 0)


async def _poll_drain(transport: Any, nbytes: int = 0) -> None:
    """The fallback where a producer cannot be registered: look at the buffer until it drains."""
    limit = int(getattr(transport, "bufferSize", 65536))
    while buffered_bytes(transport) > limit and not getattr(transport, "disconnected", True):
        await asyncio.sleep(0.01)


def send_backpressure(send: Any) -> Any:
    """Return a coroutine function that waits while daphne's send buffer for this websocket is full.

    None under another server (uvicorn's ``send`` waits by itself). ``send`` is the
    innermost ASGI send (``compat.frame_send``); call it once the websocket is accepted.
    """
    protocol = daphne_protocol(send)
    transport = getattr(protocol, "transport", None)
    if transport is None:
        return None
    previous = getattr(transport, "producer", None)
    # Twisted's TCP transports name it ``streamingProducer``; its in-memory one ``streaming``.
    if previous is not None and getattr(transport, "streamingProducer", getattr(transport, "streaming", False)):
        # daphne's HTTP channel registered itself on the transport before the upgrade and
        # stays registered: take its place and pass everything on to it. (Polling the
        # buffer instead, every 10 ms, added up to 12 ms to every message over 64 KiB.)
        try:
            transport.unregisterProducer()
        except Exception:
            return functools.partial(_poll_drain, transport)
    else:
        previous = None
    drain = _Drain(previous, transport)
    try:
        transport.registerProducer(drain, True)
    except Exception:  # another producer holds the transport: poll its buffer instead
        if previous is not None:  # give the transport back to its own producer
            with contextlib.suppress(Exception):
                transport.registerProducer(previous, True)
        return functools.partial(_poll_drain, transport)
    return drain.wait


#: What a frame costs while it waits in daphne's queue besides its payload (the dict
#: around it): many tiny frames count too.
FRAME_OVERHEAD = 256


class _Inbound:
    """The frames daphne read from one websocket that the application has not taken, in bytes."""

    __slots__ = ("max_bytes", "on_pause", "paused", "pending", "sizes", "transport")

    def __init__(self, transport: Any, max_bytes: int, on_pause: Callable[[], None] | None) -> None:
        self.transport = transport
        self.max_bytes = max_bytes
        self.on_pause = on_pause
        self.pending = 0
        self.paused = False
        # Made when a frame waits and dropped when none does: an empty deque is 760 bytes,
        # and an idle websocket has nothing waiting.
        self.sizes: deque[int] | None = None

    def read(self, size: int) -> None:
        """daphne queued a frame costing ``size``: past the bound, stop reading the socket."""
        sizes = self.sizes
        if sizes is None:
            sizes = self.sizes = deque()
        sizes.append(size)
        self.pending += size
        if self.pending > self.max_bytes:
            if not self.paused:
                self.paused = True
                if self.on_pause is not None:
                    self.on_pause()
            # Every time, not once: daphne's HTTP channel resumes reading when its send
            # buffer drains, whatever waits here.
            self.transport.pauseProducing()

    def taken(self) -> None:
        """The application took the oldest frame: once half the bound is free, read again."""
        sizes = self.sizes
        if sizes:
            self.pending -= sizes.popleft()
            if not sizes:
                self.sizes = None
        if self.paused and self.pending <= self.max_bytes // 2:
            self.paused = False
            if not getattr(self.transport, "disconnected", False):
                self.transport.resumeProducing()


def bound_incoming(send: Any, max_bytes: int, on_pause: Callable[[], None] | None = None) -> Callable[[], None] | None:
    """Let daphne stop reading this websocket while more than ``max_bytes`` of what it read waits for the application.

    One frame is always read, whatever its size. Returns the call the application makes
    each time it takes a ``websocket.receive`` from its queue; None under another server
    (uvicorn's websockets bound their queue themselves) or a daphne without the
    internals used (its own behaviour: no bound). ``send`` is the innermost ASGI send
    (``compat.frame_send``); call it before the websocket is accepted. ``on_pause`` is
    called each time reading pauses.
    """
    protocol = daphne_protocol(send)
    transport = getattr(protocol, "transport", None)
    if transport is None or not hasattr(transport, "pauseProducing") or not hasattr(protocol, "onMessage"):
        return None
    inbound = _Inbound(transport, max_bytes, on_pause)
    on_message = protocol.onMessage  # daphne's, bound: it queues the frame

    def counted(payload: bytes, is_binary: bool) -> None:
        on_message(payload, is_binary)
        if not getattr(protocol, "muted", False):  # a muted connection queues nothing
            inbound.read(len(payload) + FRAME_OVERHEAD)

    protocol.onMessage = counted  # this connection only; autobahn looks it up on each message
    return inbound.taken
