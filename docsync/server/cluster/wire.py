"""Relayed connections: a websocket held by one process, its session owned by another.

On the owner, a :class:`RemoteConnection` stands for the websocket: messages for it go
over the channel layer to the consumer that holds the socket.
"""

from __future__ import annotations

from typing import Any

from ..protocol import Message, Receiver

__all__ = ["RELAY_CLOSE", "RELAY_FRAMES", "RemoteConnection", "frames_of", "message_from_frames"]

#: Process-channel message types handled by the relaying process.
RELAY_FRAMES = "relay.frames"
RELAY_CLOSE = "relay.close"


def frames_of(message: Message) -> list[str | bytes]:
    """Return the frames of ``message`` as plain str/bytes (what the channel layer carries)."""
    return [f if isinstance(f, str | bytes) else bytes(f) for f in message.to_frames()]


def message_from_frames(frames: list[Any]) -> Message:
    """Reassemble one message from relayed frames (checked again by a Receiver)."""
    receiver = Receiver(max_frame_bytes=1 << 31, max_message_bytes=1 << 33, max_buffers=1 << 16)
    message = None
    for frame in frames:
        message = receiver.receive(frame)
    if message is None:
        raise ValueError("relayed frames did not make a whole message")
    return message


class RemoteConnection:
    """The owner's stand-in for a websocket held by another process."""

    def __init__(self, cluster: Any, conn_id: str, relay_channel: str, relay_process: str, origin: str) -> None:
        self.cluster = cluster
        self.conn_id = conn_id
        self.relay_channel = relay_channel
        self.relay_process = relay_process
        self.origin = origin
        self.fence = 0
        self.remote = f"relayed by {relay_process}"
        self.user_agent = ""
        self.connected_at = 0.0
        self.created_session = False

    async def send_message(self, message: Message) -> None:
        """Send ``message`` to the relaying process, which writes it to the socket."""
        message_out = {"type": RELAY_FRAMES, "conn_id": self.conn_id, "frames": frames_of(message)}
        await self.cluster.layer.send(self.relay_channel, message_out)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Ask the relaying process to close the socket."""
        message_out = {"type": RELAY_CLOSE, "conn_id": self.conn_id, "code": code, "reason": reason}
        await self.cluster.layer.send(self.relay_channel, message_out)

    def __repr__(self) -> str:
        return f"RemoteConnection({self.conn_id} via {self.relay_process})"
