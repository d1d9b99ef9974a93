"""Assemble messages from websocket frames, one frame at a time."""

from __future__ import annotations

import gc
import reprlib
from collections.abc import Callable
from enum import Enum
from typing import Any

from ..exceptions import MessageTooBigError, ProtocolError
from .message import Buffer, Frame, Message, frame_nbytes
from .msgtypes import MESSAGE_TYPES
from .wire_json import count_containers, count_separators, loads

__all__ = [
    "DEFAULT_MAX_BUFFERS",
    "DEFAULT_MAX_FRAME_BYTES",
    "DEFAULT_MAX_ID_LENGTH",
    "DEFAULT_MAX_MESSAGE_BYTES",
    "Expecting",
    "Receiver",
]

DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024
DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_BUFFERS = 64
#: Longest ``msgid``/``reqid``: a peer chooses them, and a server remembers msgids.
DEFAULT_MAX_ID_LENGTH = 128
#: Frames longer than this are parsed with the garbage collector paused (``_parse_large``).
_PAUSE_GC_FROM = 64 * 1024

# Error messages show offending values, but a hostile peer must not be able to make
# them (or the logs they land in) long.
_repr = reprlib.Repr()
_repr.maxstring = 40
_repr.maxother = 40
_repr.maxdict = 4
_repr.maxlist = 4
_MAX_SHOWN = 60


_FRAME_TYPES = (str, bytes, bytearray, memoryview)
# What ``size_fault`` calls a message's text frames, by position (a buffer header from 3 on).
_FRAME_NAMES = ("header", "metadata", "content", "buffer header")
# What a receiver holds between messages: shared and never changed (a message replaces
# each of them with its own before anything is added; see ``Receiver.reset``).
_NOTHING: dict[str, Any] = {}
_NO_BUFFERS: list[tuple[str, Any]] = []
_NO_IDS: set[str] = set()


def _show(value: object) -> str:
    shown = _repr.repr(value)
    return shown if len(shown) <= _MAX_SHOWN else shown[: _MAX_SHOWN - 3] + "..."


class Expecting(Enum):
    """The kind of frame a receiver needs next."""

    HEADER = "header"
    METADATA = "metadata"
    CONTENT = "content"
    BUFFER_HEADER = "buffer header"
    BUFFER_PAYLOAD = "buffer payload"


class Receiver:
    """Turn a sequence of frames into messages; sans I/O.

    Sizes of text frames are counted exactly, as their UTF-8 encoded length, so the
    limits mean the same thing for text and binary frames.
    """

    # One per connection, for its life: slots, not a __dict__.
    __slots__ = (
        "_buffer_id",
        "_buffer_ids",
        "_buffers",
        "_content",
        "_expecting",
        "_frame_size",
        "_header",
        "_metadata",
        "_num_buffers",
        "charge_values",
        "max_buffers",
        "max_containers",
        "max_frame_bytes",
        "max_id_length",
        "max_message_bytes",
        "max_values",
        "pending_bytes",
    )

    def __init__(
        self,
        *,
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        max_buffers: int = DEFAULT_MAX_BUFFERS,
        max_id_length: int = DEFAULT_MAX_ID_LENGTH,
        max_containers: int | None = None,
        max_values: int | None = None,
    ) -> None:
        # No "0 means unlimited": a limit is always a positive number.
        for name, value in (
            ("max_frame_bytes", max_frame_bytes),
            ("max_message_bytes", max_message_bytes),
            ("max_buffers", max_buffers),
            ("max_id_length", max_id_length),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        for name, optional in (("max_containers", max_containers), ("max_values", max_values)):
            if optional is not None and (not isinstance(optional, int) or isinstance(optional, bool) or optional <= 0):
                raise ValueError(f"{name} must be a positive integer or None, got {optional!r}")
        self.max_frame_bytes = max_frame_bytes
        self.max_message_bytes = max_message_bytes
        self.max_buffers = max_buffers
        self.max_id_length = max_id_length
        #: The most JSON arrays and objects one text frame may hold (None: no limit). Parsing
        #: and judging a message costs per value, not per byte: 12 MB of one-item lists
        #: (two million of them) held the event loop for seconds. Counted before parsing,
        #: as the frame's ``[`` and ``{`` characters (those inside strings too), and only
        #: in frames longer than the limit, so that smaller frames pay nothing.
        self.max_containers = max_containers
        #: The most JSON values one text frame may hold (None: no limit), counted as its
        #: commas and colons outside strings (an object member is two values, its key and
        #: its value, and costs as much to read). Within the container limit a frame of
        #: lines of small ints still held the loop over a second (76,000 lines of 100,
        #: 15 MB): a frame's cost grows with its values. Counted before parsing, and only
        #: in frames longer than the limit: first all of them in C, exactly only when more.
        self.max_values = max_values
        #: Called with each text frame that passed the limits above, before it is parsed
        #: (None: nothing is): the server takes its values from its client's bucket there,
        #: and what it raises refuses the frame as the limits do.
        self.charge_values: Callable[[str], None] | None = None
        self._expecting = Expecting.HEADER
        self._header: dict[str, Any] = _NOTHING
        self._metadata: dict[str, Any] = _NOTHING
        self._content: dict[str, Any] = _NOTHING
        self._num_buffers = 0
        self._buffers: list[tuple[str, Buffer]] = _NO_BUFFERS
        self._buffer_ids: set[str] = _NO_IDS
        self._buffer_id = ""
        self._frame_size = 0  # of the frame being read: ``_parse`` decides by it without a call
        #: Bytes of the message being received (0 between messages). Read per frame: an
        #: attribute, not a property (only the receiver sets it).
        self.pending_bytes = 0

    def size_fault(self, frames: list[Frame], sizes: list[int] | None = None, *, structure: bool = False) -> str | None:
        """Tell why a receiver with these limits would refuse a message of ``frames``, or None.

        A sender checks what it is about to send with its peer's limits: a message the
        peer must refuse is better not sent (the peer would drop it and reconnect).
        ``sizes``: the frames' ``frame_nbytes``, when the caller counted them already.
        ``structure``: count the arrays, objects and values of text frames too, as
        ``receive`` does (a client checks its patches so; the server's own messages are
        not limited by them).
        """
        if sizes is None:
            sizes = [frame_nbytes(frame) for frame in frames]
        largest = max(sizes, default=0)
        if largest > self.max_frame_bytes:
            return f"frame too large: {largest} > {self.max_frame_bytes} bytes"
        total = sum(sizes)
        if total > self.max_message_bytes:
            return f"message too large: {total} > {self.max_message_bytes} bytes"
        buffers = max(0, (len(frames) - 3) // 2)
        if buffers > self.max_buffers:
            return f"too many buffers: {buffers} > {self.max_buffers}"
        if structure and (self.max_containers is not None or self.max_values is not None):
            for index, frame in enumerate(frames):
                # Buffer payloads (binary) are not parsed; every other frame is JSON text.
                if isinstance(frame, str):
                    fault = self._structure_fault(frame, _FRAME_NAMES[min(index, 3)])
                    if fault is not None:
                        return fault
        return None

    def _structure_fault(self, frame: str, where: str) -> str | None:
        """Tell why ``frame`` holds too many arrays and objects or values, or None."""
        # A frame with more arrays and objects than the limit has more "[" and "{" than
        # that: counted in C; only then counted exactly, outside strings (a base64 file,
        # a text full of brackets is not refused for them).
        limit = self.max_containers
        if limit is not None and len(frame) > limit and frame.count("[") + frame.count("{") > limit:
            containers = count_containers(frame)
            if containers > limit:
                return f"too many arrays and objects in {where} frame: {containers} > {limit}"
        values = self.max_values
        # Commas and colons inside strings (a text, a URL; a file's base64 has none) are told
        # apart only when all of them are more than the limit.
        if values is not None and len(frame) > values and frame.count(",") + frame.count(":") > values:
            separators = count_separators(frame)
            if separators > values:
                return f"too many values in {where} frame: {separators} > {values}"
        return None

    @property
    def expecting(self) -> Expecting:
        """Return the kind of frame this receiver needs next."""
        return self._expecting

    def reset(self) -> None:
        """Drop any partly received message and expect a header frame."""
        self._expecting = Expecting.HEADER
        # Never cleared: a message already returned owns its containers. Nor made here:
        # each message's frames bring or make their own (``_receive_header``), so an idle
        # connection holds none (five empty containers were 464 bytes per connection).
        self._header = _NOTHING
        self._metadata = _NOTHING
        self._content = _NOTHING
        self._num_buffers = 0
        self._buffers = _NO_BUFFERS
        self._buffer_ids = _NO_IDS
        self._buffer_id = ""
        self.pending_bytes = 0

    def receive(self, frame: Frame, nbytes: int | None = None) -> Message | None:
        """Consume one frame; return the message it completes, else None.

        Raise ProtocolError for any frame that breaks the protocol (MessageTooBigError
        for one over a limit), after dropping the partial message, so that the next
        frame is read as a header. ``nbytes``: the frame's ``frame_nbytes``, when the
        caller counted it already.
        """
        try:
            if not isinstance(frame, _FRAME_TYPES):
                raise TypeError(f"frame must be str or bytes-like, got {type(frame).__name__}")
            size = frame_nbytes(frame) if nbytes is None else nbytes
            if size > self.max_frame_bytes:
                raise MessageTooBigError(f"frame too large: {size} > {self.max_frame_bytes} bytes")
            self._frame_size = size
            self.pending_bytes += size
            if self.pending_bytes > self.max_message_bytes:
                raise MessageTooBigError(f"message too large: {self.pending_bytes} > {self.max_message_bytes} bytes")
            match self._expecting:
                case Expecting.HEADER:
                    return self._receive_header(frame)
                case Expecting.METADATA:
                    if frame == "{}":  # nearly every message's metadata: no parser, no call
                        self._metadata = {}
                        self._expecting = Expecting.CONTENT
                        return None
                    return self._receive_metadata(frame)
                case Expecting.CONTENT:
                    return self._receive_content(frame)
                case Expecting.BUFFER_HEADER:
                    return self._receive_buffer_header(frame)
                case Expecting.BUFFER_PAYLOAD:
                    return self._receive_buffer_payload(frame)
        except BaseException:
            # Whatever went wrong, never let leftovers of this message be read as
            # part of the next one.
            self.reset()
            raise
        return None  # not reached: every kind of frame is matched above

    def _receive_header(self, frame: Frame) -> Message | None:
        header = self._parse(frame)
        if not isinstance(header, dict):
            raise ProtocolError("header must be a JSON object")
        self._check_header(header)
        num_buffers = header.get("num_buffers", 0)
        if not isinstance(num_buffers, int) or isinstance(num_buffers, bool) or num_buffers < 0:
            raise ProtocolError(f"num_buffers must be a non-negative integer, got {_show(num_buffers)}")
        if num_buffers > self.max_buffers:
            raise MessageTooBigError(f"too many buffers: {num_buffers} > {self.max_buffers}")
        self._header = header
        self._num_buffers = num_buffers
        self._buffers = []  # the message's own (it owns it once returned)
        if num_buffers:
            self._buffer_ids = set()
        self._expecting = Expecting.METADATA
        return None

    def _receive_metadata(self, frame: Frame) -> Message | None:
        metadata = self._parse(frame)  # (an empty one is taken by ``receive``)
        if not isinstance(metadata, dict):
            raise ProtocolError("metadata must be a JSON object")
        self._metadata = metadata
        self._expecting = Expecting.CONTENT
        return None

    def _receive_content(self, frame: Frame) -> Message | None:
        content = self._parse(frame)
        if not isinstance(content, dict):
            raise ProtocolError("content must be a JSON object")
        self._content = content
        if self._num_buffers == 0:
            return self._complete()
        self._expecting = Expecting.BUFFER_HEADER
        return None

    def _receive_buffer_header(self, frame: Frame) -> Message | None:
        buffer_header = self._parse(frame)
        if (
            not isinstance(buffer_header, dict)
            or buffer_header.keys() != {"id"}
            or not isinstance(buffer_header["id"], str)
        ):
            raise ProtocolError(f'buffer header must be exactly {{"id": <string>}}, got {_show(buffer_header)}')
        buffer_id = buffer_header["id"]
        if buffer_id in self._buffer_ids:
            raise ProtocolError(f"duplicate buffer id {_show(buffer_id)}")
        self._buffer_ids.add(buffer_id)
        self._buffer_id = buffer_id
        self._expecting = Expecting.BUFFER_PAYLOAD
        return None

    def _receive_buffer_payload(self, frame: Frame) -> Message | None:
        if isinstance(frame, str):
            raise ProtocolError("expected binary buffer payload frame, got text frame")
        # Kept as received: the websocket layer hands over bytes it no longer uses.
        self._buffers.append((self._buffer_id, frame))
        if len(self._buffers) == self._num_buffers:
            return self._complete()
        self._expecting = Expecting.BUFFER_HEADER
        return None

    def _parse(self, frame: Frame) -> Any:
        if not isinstance(frame, str):
            raise ProtocolError(f"expected text {self._expecting.value} frame, got binary frame")
        # By the frame's UTF-8 size, at least its length: a frame of no more characters
        # than the limit cannot hold more arrays and objects (``_parse_large`` counts).
        limit = self.max_containers
        size = self._frame_size
        if size > _PAUSE_GC_FROM or (limit is not None and size > limit) or size > (self.max_values or size):
            return self._parse_large(frame)
        charge = self.charge_values
        if charge is not None:
            charge(frame)
        try:
            return loads(frame)
        except ValueError:
            raise ProtocolError(f"invalid JSON in {self._expecting.value} frame") from None

    def _parse_large(self, frame: str) -> Any:
        fault = self._structure_fault(frame, self._expecting.value)
        if fault is not None:
            raise MessageTooBigError(fault)
        charge = self.charge_values
        if charge is not None:
            charge(frame)
        # Without the cyclic garbage collector meanwhile: every list and dict orjson makes
        # is tracked, and collections ran all through a large frame's parse (2,000,000
        # one-item lists: 0.8 s with them, 0.16 s without). Collections resume after it,
        # and those the new objects call for then run once. Left alone if already off.
        paused = gc.isenabled()
        if paused:
            gc.disable()
        try:
            return loads(frame)
        except ValueError:
            raise ProtocolError(f"invalid JSON in {self._expecting.value} frame") from None
        finally:
            if paused:
                gc.enable()

    def _check_header(self, header: dict[str, Any]) -> None:
        if "msgtype" not in header:
            raise ProtocolError("header without msgtype")
        msgtype = header["msgtype"]
        if not isinstance(msgtype, str):
            raise ProtocolError(f"msgtype must be a string, got {_show(msgtype)}")
        if msgtype not in MESSAGE_TYPES:
            raise ProtocolError(f"unknown message type {_show(msgtype)}")
        if "msgid" not in header:
            raise ProtocolError("header without msgid")
        for field in ("msgid", "reqid"):
            if field not in header:
                continue
            value = header[field]
            if not isinstance(value, str):
                raise ProtocolError(f"{field} must be a string, got {_show(value)}")
            if len(value) > self.max_id_length:
                raise ProtocolError(f"{field} too long: {len(value)} > {self.max_id_length} characters")

    def _complete(self) -> Message:
        message = Message(self._header, self._metadata, self._content, self._buffers)
        self.reset()
        return message
