"""uvicorn internals docsync relies on: which websocket implementations copy a payload, their size limit, and
writing several frames at once."""

from __future__ import annotations

import struct
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from .versions import Version, checked

_SHORT = struct.Struct("!BB").pack
_MEDIUM = struct.Struct("!BBH").pack
_LONG = struct.Struct("!BBQ").pack
#: The headers of unmasked text and binary frames of 0 to 125 bytes, by size.
_SHORT_TEXT = tuple(_SHORT(0x81, size) for size in range(126))
_SHORT_BINARY = tuple(_SHORT(0x82, size) for size in range(126))

__all__ = [
    "CHECKED",
    "FrameWriter",
    "FrameWriterNow",
    "frames_writer",
    "frames_writer_now",
    "incoming_limit",
    "release_handshake_response",
    "socket_closed",
    "takes_views",
]

#: The uvicorn releases whose websocket implementations were checked to copy a payload
#: before ``send`` returns. Another release gets bytes, as ASGI says: correct, one copy more.
CHECKED: tuple[Version, Version] = ((0, 52), (0, 56))

Frame = str | bytes | bytearray | memoryview
#: Writes several websocket frames (text for ``str``, binary otherwise) in order.
FrameWriter = Callable[[Sequence[Frame]], Awaitable[None]]
#: Writes several frames in order if that takes no waiting, and says whether it did.
FrameWriterNow = Callable[[Sequence[Frame]], bool]

_SANSIO = "uvicorn.protocols.websockets.websockets_sansio_impl"

#: ASGI servers whose websocket send copies a binary frame's payload before it returns,
#: so they take a memoryview safely (tests/server/test_uvicorn.py pulls 16 MB through one).
_SERVERS_TAKING_VIEWS = (
    "uvicorn.protocols.websockets.websockets_impl",
    "uvicorn.protocols.websockets.websockets_sansio_impl",
    "uvicorn.protocols.websockets.wsproto_impl",
)


def takes_views(send: Any) -> bool:
    """Tell whether ``send`` (the innermost ASGI send) accepts memoryviews as binary payloads.

    ASGI says bytes, so a buffer is copied into bytes at this boundary. Servers known to
    copy the payload into their frame anyway are handed the view, saving one copy of
    every array (a third of the server's time in a 16 MB pull).
    """
    owner = getattr(send, "__self__", None)
    return type(owner).__module__ in _SERVERS_TAKING_VIEWS and checked("uvicorn", *CHECKED)


def incoming_limit(send: Any) -> int | None:
    """Return uvicorn's ``--ws-max-size`` for the websocket behind ``send``, or None under another server.

    uvicorn applies it to incoming messages only; docsync cannot raise it per
    connection, so a limit below ``MAX_FRAME_BYTES`` is reported (see the consumer).
    """
    owner = getattr(send, "__self__", None)
    config = getattr(owner, "config", None)
    if not type(owner).__module__.startswith("uvicorn.protocols.websockets.") or config is None:
        return None
    return int(config.ws_max_size)


def socket_closed(send: Any) -> bool | None:
    """Whether the uvicorn sansio socket behind ``send`` is closed (not only its ASGI side); None under other servers.

    That implementation tells the application ``websocket.disconnect`` as soon as the
    application sends its close, before the client has answered it: a process that
    stops then (a drain) may close the socket before the client read the close frame,
    and a client writing meanwhile loses it to the reset (it sees 1006, not the code).
    ``disconnected`` is set once the socket is gone: the client answered the close,
    or the connection dropped.
    """
    owner: Any = getattr(send, "__self__", None)
    if type(owner).__module__ != _SANSIO:
        return None
    disconnected = getattr(owner, "disconnected", None)
    return None if disconnected is None else bool(disconnected)


def release_handshake_response(send: Any) -> bool:
    """Let uvicorn's sansio websocket drop its handshake response once the websocket is accepted; say whether it did.

    uvicorn keeps the 101 response (a websockets ``Response`` and its ``Headers``, about
    2 KB under tracemalloc) on the protocol object for as long as the websocket lives,
    though it reads it only while accepting (docs/upstream.md). Gated on the checked
    releases, whose ``send`` reads ``response`` only before ``handshake_complete``.

    Its attributes' dict is made again too, with the same items: with 31 attributes it
    outgrew CPython's shared-key form in ``__init__``, and the dict it got then is sized
    for growth (128 slots, 1,584 bytes); the same items inserted afresh take 64 slots
    (about 750 bytes less per websocket). Nothing holds that dict but the object.
    (Its upgrade ``request``, about 2.7 KB, which websockets' parser holds too: ``uvicorn_parser``.)
    """
    owner: Any = getattr(send, "__self__", None)
    if type(owner).__module__ != _SANSIO or not checked("uvicorn", *CHECKED):
        return False
    if not getattr(owner, "handshake_complete", False) or getattr(owner, "response", None) is None:
        return False
    owner.response = None
    owner.__dict__ = dict(owner.__dict__.items())  # items(): a copy of the dict itself keeps its size
    return True


def frames_writer(send: Any) -> FrameWriter | None:
    """Return a writer putting several frames on the socket in one write, for uvicorn's sansio websockets.

    ASGI sends one frame per call, and uvicorn writes each to its socket at once: a
    reply of 8 frames cost 8 ``write`` syscalls, a fifth to a third of the server's time
    under round trips. This writer frames them with the same websockets protocol object
    and hands the bytes to the transport together (uvloop writes them with one
    ``writev``). The frames stay separate websocket frames: only the syscalls merge.
    On an open connection without extensions (no permessage-deflate: browsers ask for
    it, docsync's Python client and the benchmark do not) the frames are framed here,
    byte for byte as websockets frames them, without its per-frame objects.
    Any state but an open, accepted connection goes through uvicorn's own ``send``,
    which raises or refuses as it always does. None for other servers.
    """
    owner: Any = getattr(send, "__self__", None)
    if type(owner).__module__ != _SANSIO or getattr(send, "__name__", "") != "send":
        return None
    return _Writer(owner, send).write_frames


def frames_writer_now(send: Any) -> FrameWriterNow | None:
    """Return a writer that puts frames on the socket at once if it can, as ``frames_writer`` would.

    It writes (and returns True) only when that takes no waiting: the connection open
    and accepted, and uvicorn not holding writes back (its flow control). Otherwise it
    writes nothing and returns False: the caller then awaits ``frames_writer``. A
    connection's writer uses it to write without a task per message (the outbox).
    None for other servers.
    """
    owner: Any = getattr(send, "__self__", None)
    if type(owner).__module__ != _SANSIO or getattr(send, "__name__", "") != "send":
        return None
    return _Writer(owner, send).write_now


class _Writer:
    """One uvicorn sansio websocket, written to directly (``frames_writer``, ``frames_writer_now``).

    A small object with slots rather than closures: the two closures and their cells
    were 886 bytes per connection (bench/budget.py --detail "docsync server"), this and
    its bound methods about 250.
    """

    __slots__ = ("_owner", "_send")

    def __init__(self, owner: Any, send: Any) -> None:
        self._owner = owner
        self._send = send
        _open_state()  # loaded once here, read per write below

    def write_now(self, frames: Sequence[Frame]) -> bool:
        """Write ``frames`` if that takes no waiting; say whether it did."""
        owner = self._owner
        if (
            not owner.writable.is_set()
            or owner.disconnected
            or owner.close_sent
            or owner.initial_response is not None
            or not owner.handshake_complete
        ):
            return False
        conn = owner.conn
        if conn.state is not _OPEN:
            return False
        try:  # (attributes read, not getattr's three calls per write)
            plain = conn.expect_continuation_frame is False and conn.extensions == [] and conn.debug is False
        except AttributeError:  # a websockets release without them: it frames them itself
            plain = False
        if plain:
            # What conn.send_text/send_binary would append, framed here: a websockets
            # Frame object, its checks and a BytesIO per frame were a fifth of the writing.
            owner.transport.writelines([*conn.data_to_send(), *_framed_all(frames)])
            return True
        # An extension (permessage-deflate): websockets frames them, in its open state it
        # refuses none of them.
        for frame in frames:
            if isinstance(frame, str):
                conn.send_text(frame.encode())
            else:
                conn.send_binary(frame)
        owner.transport.writelines(conn.data_to_send())
        return True

    def held_back(self) -> bool:
        """Whether uvicorn holds writes back: its transport holds more than its high-water mark."""
        return not self._owner.writable.is_set()

    async def drained(self) -> None:
        """Return once uvicorn takes writes again (its transport below its low-water mark, or closed)."""
        await self._owner.writable.wait()

    async def write_frames(self, frames: Sequence[Frame]) -> None:
        """Write ``frames`` in order, waiting while uvicorn holds writes back."""
        if self.write_now(frames):
            return
        owner = self._owner
        if not owner.writable.is_set():
            await owner.writable.wait()
        if owner.disconnected or owner.close_sent or owner.initial_response is not None or not owner.handshake_complete:
            for frame in frames:
                await self._send(_asgi_message(frame))
            return
        if self.write_now(frames):  # open: framed at once
            return
        conn = owner.conn
        try:
            for frame in frames:
                if isinstance(frame, str):
                    conn.send_text(frame.encode())
                else:
                    conn.send_binary(frame)
        except _invalid_state() as exc:
            raise _client_disconnected() from exc
        owner.transport.writelines(conn.data_to_send())


_OPEN: Any = None


def _open_state() -> Any:
    """websockets' ``State.OPEN`` (imported once, on first use: uvicorn may not be installed)."""
    global _OPEN
    if _OPEN is None:
        from websockets.protocol import State

        _OPEN = State.OPEN
    return _OPEN


#: Binary payloads from this size on are written beside their header, not copied behind it.
ZERO_COPY_BYTES = 64 * 1024


def _framed(frame: Frame) -> tuple[bytes | bytearray | memoryview, ...]:
    """One unmasked, unfragmented websocket frame (RFC 6455 §5.2), as a server sends it, in one or two chunks.

    A large binary payload stays a chunk of its own: the transport writes it with its
    header in one ``writev`` (uvloop; Python's own transport joins them), so it is never
    copied. Copying a 1M-point pull's 16 MB cost a third of the server's CPU per pull,
    most of it page faults on memory the allocator had just handed back to the kernel.
    The transport may keep the chunk until the client has read it: the bytes sent are
    the array's bytes when written, as for any message waiting in the outbox.
    """
    if isinstance(frame, str):
        data: bytes | bytearray | memoryview = frame.encode()
        first = 0x81  # FIN, text
    else:
        data = frame
        first = 0x82  # FIN, binary
    size = data.nbytes if isinstance(data, memoryview) else len(data)
    if size < 126:
        head = _SHORT(first, size)
    elif size < 65536:
        head = _MEDIUM(first, 126, size)
    else:
        head = _LONG(first, 127, size)
    if size >= ZERO_COPY_BYTES:
        return head, data
    return (head + data,)


def _framed_all(frames: Sequence[Frame]) -> list[bytes | bytearray | memoryview]:
    """``_framed`` of each of ``frames``, in as few chunks as it allows, without a call per frame.

    Small frames are joined into one chunk; a binary payload of ``ZERO_COPY_BYTES`` or
    more stays a chunk of its own, never copied (as ``_framed`` leaves it).
    """
    chunks: list[bytes | bytearray | memoryview] = []
    joined: list[bytes | bytearray | memoryview] = []
    for frame in frames:
        data: bytes | bytearray | memoryview
        if type(frame) is str or isinstance(frame, str):  # (text frames, most, without a call)
            data = frame.encode()
            size = len(data)
            short = _SHORT_TEXT
            first = 0x81
        else:
            data = frame
            size = data.nbytes if type(data) is memoryview else len(data)
            short = _SHORT_BINARY
            first = 0x82
        if size < 126:
            joined.append(short[size])  # (the header of a short frame looked up, not packed)
        elif size < 65536:
            joined.append(_MEDIUM(first, 126, size))
        else:
            joined.append(_LONG(first, 127, size))
        if size >= ZERO_COPY_BYTES:
            chunks.append(b"".join(joined))
            chunks.append(data)
            joined = []
        else:
            joined.append(data)
    if joined:
        chunks.append(b"".join(joined))
    return chunks


def _asgi_message(frame: Frame) -> dict[str, Any]:
    if isinstance(frame, str):
        return {"type": "websocket.send", "text": frame}
    return {"type": "websocket.send", "bytes": frame}


def _invalid_state() -> type[Exception]:
    from websockets.exceptions import InvalidState

    return InvalidState


def _client_disconnected() -> Exception:
    from uvicorn.protocols.utils import ClientDisconnected

    return ClientDisconnected()
