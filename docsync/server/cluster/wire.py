"""What travels on a process's channel: message types, and one message's frames.

Each process listens on one channel of the channel layer. Relayed websockets, admin
commands and broadcasts reach it as these messages (plain dicts, msgpack-safe).
"""

from __future__ import annotations

from typing import Any

from ...protocol import Message, Receiver

__all__ = [
    "BROADCAST",
    "COMMAND",
    "RELAY_CLOSE",
    "RELAY_CLOSED",
    "RELAY_FRAMES",
    "RELAY_MESSAGE",
    "RELAY_OPEN",
    "RELAY_TAKEN",
    "RELAY_WAITING",
    "REPLY",
    "frames_of",
    "message_from_frames",
    "message_from_parts",
    "message_parts",
    "relay_receiver",
    "sized_frames_of",
]

#: To the owner: a websocket held elsewhere opens, sends a message, closes. A message is
#: its client's ``frames``, or, on a direct route whose owner takes them so, the
#: ``message`` as the relaying process parsed it (``message_parts``) and its ``nbytes``.
RELAY_OPEN = "relay.open"
RELAY_MESSAGE = "relay.message"
RELAY_CLOSED = "relay.closed"
#: To the process holding a relayed websocket: frames to write, or close it.
RELAY_FRAMES = "relay.frames"
RELAY_CLOSE = "relay.close"
#: Flow control of a relayed websocket's messages: the relaying process says it holds
#: its client's next message back (``sent``: bytes forwarded so far); the owner answers,
#: once its queue for that socket is down to half its bound, with the bytes it has taken.
RELAY_WAITING = "relay.waiting"
RELAY_TAKEN = "relay.taken"
#: Admin commands, their replies, and broadcasts to every session of an app.
COMMAND = "command"
REPLY = "reply"
BROADCAST = "broadcast"


def frames_of(message: Message) -> list[str | bytes]:
    """Return the frames of ``message`` as plain str/bytes (what the channel layer carries)."""
    return [f if isinstance(f, str | bytes) else bytes(f) for f in message.to_frames()]


def sized_frames_of(message: Message) -> tuple[list[str | bytes], int]:
    """Return the frames of ``message`` as plain str/bytes, and their bytes on the wire.

    The sizes the message counted with its frames are summed, not counted again; only
    buffer payloads (frames past the third) may be views that need copying to bytes.
    """
    frames, sizes = message.sized_frames()
    count = len(frames)
    if count > 3:
        # Payloads are every other frame from the fifth on (buffer headers are text): only
        # they are looked at, and a copy of the message's list made only if one is a view.
        copied = None
        for i in range(4, count, 2):
            frame = frames[i]
            if not isinstance(frame, bytes | str):
                if copied is None:
                    copied = list(frames)
                copied[i] = bytes(frame)
        if copied is not None:
            frames = copied
    return frames, sum(sizes)  # type: ignore[return-value]  # str or bytes


def relay_receiver() -> Receiver:
    """A Receiver for relayed messages (the relaying process applied the real limits); one per relayed socket."""
    return Receiver(max_frame_bytes=1 << 31, max_message_bytes=1 << 33, max_buffers=1 << 16)


def message_from_frames(frames: list[Any], receiver: Receiver | None = None) -> Message:
    """Reassemble one message from relayed frames (checked again by ``receiver``, else a new one)."""
    if receiver is None:
        receiver = relay_receiver()
    message = None
    for frame in frames:
        # Counted as the owner's inbox counts them (``len``: a text frame's characters, no
        # ``frame_nbytes`` call per frame): the relaying process applied the real limits,
        # in bytes; the relay receiver's only bound what a broken peer could send.
        message = receiver.receive(frame, len(frame))
    if message is None:
        receiver.reset()  # the next message starts afresh
        raise ValueError("relayed frames did not make a whole message")
    return message


def message_parts(message: Message) -> list[Any]:
    """``message`` as a relayed record carries it parsed: header, metadata, content and buffers (msgpack-safe)."""
    return [message.header, message.metadata, message.content, message.buffers]


def message_from_parts(parts: Any) -> Message:
    """The message ``message_parts`` gave, from its record (msgpack gives the buffers back as lists).

    Not checked again: the relaying process received it with the real limits and checks,
    and the route is authenticated. Raises ValueError for parts of another shape.
    """
    if type(parts) is not list or len(parts) != 4:
        raise ValueError("a relayed message is not four parts")
    header, metadata, content, buffers = parts
    if type(header) is not dict or type(metadata) is not dict or type(content) is not dict or type(buffers) is not list:
        raise ValueError("a relayed message's parts are not three maps and a list")
    if buffers:  # msgpack made each (id, payload) pair a list
        buffers = [(buffer_id, data) for buffer_id, data in buffers]
    return Message(header, metadata, content, buffers)
