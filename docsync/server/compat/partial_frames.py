"""The bytes an ASGI server holds of a websocket message it is still reading, told after each read.

An ASGI server hands the application a websocket message only once its last byte is
read; until then what the client sent of it is the server's: autobahn's buffered frame
data under daphne (and ``runserver``), websockets' reader buffer and uvicorn's list of
fragments under uvicorn's default websockets (``websockets-sansio``). No bound of
docsync saw those bytes: 16 websockets of one client, each holding an unfinished 60 MiB
frame, grew daphne by 901 MiB. :func:`watch_partial_input` wraps one connection's read so
that after each read the bytes held of the message being received are told to a
counter (docsync counts them with its incomplete messages, server/incomplete.py), and
returns a :class:`PartialInput` that can drop them and every later byte (a connection
refused for them). It tells too how many frames each read held, data frames (a
fragmented message's fragments each) and control frames (pings, pongs, closes): the
server parsed each, in its own Python, before docsync saw a message (about 10 µs each
under daphne, 4 µs under uvicorn; a ping also costs its pong), so docsync charges them
to the client (``MAX_WEBSOCKET_FRAMES_PER_SECOND_PER_CLIENT``).

Gated on the internals used, not on releases: where any is missing (another ASGI
server, uvicorn's ``websockets`` or ``wsproto`` implementations) nothing is watched and
the server keeps its own behaviour (its frame limit alone bounds what it holds).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from typing import Any, Protocol

from .daphne import daphne_protocol

__all__ = ["HeldCounter", "PartialInput", "watch_partial_input"]

_SANSIO = "uvicorn.protocols.websockets.websockets_sansio_impl"
#: What the daphne watch reads of autobahn's parser state (``WebSocketProtocol``; a frame's masker once one begins).
_AUTOBAHN_STATE = ("data", "current_frame", "inside_message", "dataReceived", "trafficStats", "processControlFrame")
#: Control frames (ping, pong, close) have opcodes from 8: at most 125 bytes, not part of a message.
_FIRST_CONTROL_OPCODE = 8
#: What each piece of a message held costs besides its bytes (a bytes object's header and
#: its slot in a list, as the allocator rounds them): a message sent in one-byte fragments
#: held six times its payload, uncounted.
PIECE_OVERHEAD = 64


class HeldCounter(Protocol):
    """What is told the bytes held (``IncompleteInput``)."""

    def server_holds(self, nbytes: int) -> None:
        """Count ``nbytes`` held by the ASGI server of the message it is reading, in place of the last count."""


def _discard(data: bytes) -> None:
    """What a muted connection does with what its client sends."""


def _pause(transport: Any) -> None:
    """Stop reading a muted connection's socket (TCP holds its client back): what it sends would be discarded.

    Read and discarded, a client writing 2.4 GB/s of anything (localhost) cost daphne 0.6 s
    of CPU a second until the connection closed (daphne: after its close handshake's
    timeout, where it reads again to let the client's close through; uvicorn: its own
    close timeout, 10 s).
    """
    with contextlib.suppress(Exception):  # (a transport closing already)
        if hasattr(transport, "pauseProducing"):
            transport.pauseProducing()
        else:
            transport.pause_reading()


def _discard_paused(transport: Any, data: bytes) -> None:
    """A muted daphne connection's read: paused again (daphne's channel resumes reading when its writes drain)."""
    _pause(transport)


def _autobahn_held(protocol: Any) -> int:
    """The bytes autobahn holds of the websocket message being read: its buffer, and the frames begun."""
    held = len(protocol.data)
    if not protocol.inside_message:
        return held  # between messages only a next header, in part, is buffered
    frame = protocol.current_frame
    # Its pieces: one per frame read whole and per read of the current frame.
    pieces = len(getattr(protocol, "message_data", None) or ()) + len(getattr(protocol, "frame_data", None) or ())
    held += PIECE_OVERHEAD * pieces
    # Declared lengths of the message's frames begun (autobahn's running total), less the
    # current frame's declared length, plus what of it has arrived (its masker's position).
    begun: int = getattr(protocol, "message_data_total_length", 0)
    if frame is not None and frame.opcode < _FIRST_CONTROL_OPCODE:
        arrived: int = protocol.current_frame_masker.pointer()
        length: int = frame.length
        return held + begun - length + arrived
    return held + begun


class PartialInput:
    """One connection's watch on what its ASGI server holds of the message being read."""

    __slots__ = (
        "controls",
        "counter",
        "fragments",
        "fragments_bytes",
        "fragments_counted",
        "held",
        "on_frames",
        "owner",
        "parser",
    )

    def __init__(
        self, owner: Any, parser: Any, counter: HeldCounter, on_frames: Callable[[int], None] | None = None
    ) -> None:
        self.owner = owner  # daphne's protocol, or uvicorn's
        self.parser = parser  # uvicorn's websockets protocol (None under daphne)
        self.counter: HeldCounter | None = counter
        #: Told how many frames each read held (when some did).
        self.on_frames = on_frames
        self.held = 0
        #: The control frames autobahn handled (it counts data frames only).
        self.controls = 0
        # uvicorn's fragments of the message being read, and how many of them (and their
        # bytes) are counted: each read adds its new ones only (summing all of them at
        # each read was quadratic in a message of many small fragments).
        self.fragments: list[bytes] | None = None
        self.fragments_counted = 0
        self.fragments_bytes = 0

    def _tell(self, held: int) -> None:
        if held != self.held:
            self.held = held
            if self.counter is not None:
                self.counter.server_holds(held)

    def daphne_received(self, data: bytes) -> None:
        """Twisted's read of a daphne websocket: autobahn's, then what it holds told."""
        owner = self.owner
        stats = owner.trafficStats
        # autobahn counts the data frames it read whole (one-byte fragments each one); the
        # control frames are counted here (``daphne_control``).
        before = stats.incomingWebSocketFrames + self.controls
        type(owner).dataReceived(owner, data)
        if owner.inside_message or owner.data or self.held:  # idle between messages: nothing to tell
            self._tell(_autobahn_held(owner))
        read = stats.incomingWebSocketFrames + self.controls - before
        if read and self.on_frames is not None:
            self.on_frames(read)

    def daphne_control(self) -> None:
        """autobahn's handling of a control frame read whole (a ping answered), counted."""
        self.controls += 1
        owner = self.owner
        type(owner).processControlFrame(owner)

    def uvicorn_events(self) -> None:
        """uvicorn's handling of what its websockets parser made of a read, then what is held told."""
        owner, parser = self.owner, self.parser
        if self.on_frames is not None:
            read = sum(getattr(event, "opcode", None) is not None for event in parser.events)  # frames, not the request
            if read:
                self.on_frames(read)  # before they reach the application: refused, they never do
                if self.counter is None or parser.receive_data is _discard:
                    return  # muted: nothing of this read goes on
        type(owner).handle_events(owner)
        held = len(parser.reader.buffer)
        frames: list[bytes] = owner.frames
        if frames:
            if frames is not self.fragments or len(frames) < self.fragments_counted:  # another message's
                self.fragments, self.fragments_counted, self.fragments_bytes = frames, 0, 0
            if len(frames) > self.fragments_counted:
                self.fragments_bytes += sum(len(frame) for frame in frames[self.fragments_counted :])
                self.fragments_counted = len(frames)
            held += self.fragments_bytes + PIECE_OVERHEAD * len(frames)
        elif self.fragments is not None:
            self.fragments = None  # uvicorn let go of them: so does this
        if held or self.held:
            self._tell(held)

    def mute(self) -> None:
        """Drop what the server holds of the message being read, and every byte the client sends from now on."""
        owner, parser = self.owner, self.parser
        if parser is None:
            owner.dataReceived = functools.partial(_discard_paused, owner.transport)  # looked up on each read
            owner.data = b""
            owner.frame_data = []
            owner.message_data = []
        else:
            parser.receive_data = _discard  # uvicorn's data_received looks it up on each read
            del parser.reader.buffer[:]
            del parser.events[:]  # what the last read made, not handed on
            owner.frames = []
            self.fragments = None
            owner.__dict__.pop("handle_events", None)
        _pause(owner.transport)
        self._tell(0)

    def stop(self) -> None:
        """Tell nothing more: the connection is over (and let go of the counter and the read)."""
        self.counter = self.on_frames = None
        owner = self.owner
        if self.parser is None:
            if owner.__dict__.get("dataReceived") == self.daphne_received:
                del owner.dataReceived
            if owner.__dict__.get("processControlFrame") == self.daphne_control:
                del owner.processControlFrame
        elif owner.__dict__.get("handle_events") == self.uvicorn_events:
            del owner.handle_events


def watch_partial_input(
    send: Any, counter: HeldCounter, on_frames: Callable[[int], None] | None = None
) -> PartialInput | None:
    """Tell ``counter`` after each read what the ASGI server behind ``send`` holds of the message being read.

    And ``on_frames`` how many frames the read held whole (data frames, a fragmented
    message's fragments each, and control frames). ``send`` is the innermost ASGI send (``compat.frame_send``) of an
    accepted websocket. Returns None where the server's internals are not the ones known
    (nothing watched).
    """
    protocol = daphne_protocol(send)
    if protocol is not None:
        if not all(hasattr(protocol, name) for name in _AUTOBAHN_STATE) or "dataReceived" in vars(protocol):
            return None  # not autobahn's parser as known, or its read replaced already (a closing connection)
        watch = PartialInput(protocol, None, counter, on_frames)
        protocol.dataReceived = watch.daphne_received  # this connection only; Twisted looks it up on each read
        protocol.processControlFrame = watch.daphne_control  # autobahn's onFrameEnd looks it up on each
        return watch
    owner: Any = getattr(send, "__self__", None)
    if type(owner).__module__ != _SANSIO:
        return None
    parser = getattr(owner, "conn", None)
    reader = getattr(parser, "reader", None)
    known = isinstance(getattr(reader, "buffer", None), bytearray) and isinstance(getattr(owner, "frames", None), list)
    known = known and isinstance(getattr(parser, "events", None), list)
    if not known or not hasattr(type(owner), "handle_events") or not hasattr(parser, "receive_data"):
        return None
    watch = PartialInput(owner, parser, counter, on_frames)
    # uvicorn's data_received calls it after each read, looked up on the instance: uvloop
    # keeps data_received itself as it was when the connection was made.
    owner.handle_events = watch.uvicorn_events
    return watch
