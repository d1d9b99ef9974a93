"""Relaying, on the process that holds a websocket whose session another process owns.

The consumer keeps its socket; each complete message it reads goes to the owner over
the channel layer, and the owner's frames come back on this process's channel.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Any, Protocol

from ...exceptions import OwnerGoneError
from .directory import Directory
from .wire import RELAY_CLOSED, RELAY_MESSAGE, RELAY_OPEN

__all__ = ["Relay", "RelayOut", "RelayedSocket"]

logger = logging.getLogger("docsync.cluster")


class RelayedSocket(Protocol):
    """What the relay needs of the consumer holding a relayed websocket."""

    def relay_frames(self, frames: list[Any]) -> None:
        """Queue one message's frames the owner sent (never waits)."""

    def close_with(self, code: int, reason: str, detail: str | None = None) -> None:
        """Queue an ERROR naming ``reason``, then a close with ``code``."""


@dataclass(frozen=True, slots=True)
class Relay:
    """One websocket of this process relayed to the process owning its session."""

    conn_id: str
    owner: str
    owner_channel: str


class RelayOut:
    """The relays of the websockets this process holds."""

    def __init__(self, layer: Any, directory: Directory, channel: str) -> None:
        self.layer = layer
        self.directory = directory
        self.channel = channel
        self.relays: dict[str, tuple[RelayedSocket, Relay]] = {}
        #: Messages from owners for websockets that had closed (the owner learns it a little later).
        self.dropped_after_close = 0

    async def open(
        self,
        socket: RelayedSocket,
        owner: str,
        *,
        session_id: str,
        app_path: str,
        origin: str,
        user_id: str | None,
        arguments: dict[str, list[str]],
        request_info: dict[str, dict[str, str]],
        token_expired: bool,
    ) -> Relay | None:
        """Relay ``socket`` to ``owner``; None if the owner is gone (raises if Redis cannot be reached)."""
        owner_channel = await self.directory.process_channel(owner)
        if owner_channel is None:
            return None
        relay = Relay(secrets.token_hex(8), owner, owner_channel)
        # Known before the owner can answer: its ACK may come back before send returns.
        self.relays[relay.conn_id] = (socket, relay)
        try:
            await self._send(
                owner_channel,
                {
                    "type": RELAY_OPEN,
                    "conn_id": relay.conn_id,
                    "relay_channel": self.channel,
                    "relay_process": self.directory.process_id,
                    "session_id": session_id,
                    "app": app_path,
                    "origin": origin,
                    "user_id": user_id,
                    "args": arguments,
                    "request_info": request_info,
                    "token_expired": token_expired,
                },
            )
        except BaseException:
            self.relays.pop(relay.conn_id, None)  # never opened: nothing for the owner to answer
            raise
        return relay

    async def forward(self, relay: Relay, frames: list[Any]) -> None:
        """Send one message's frames to the owner (tried twice: a pooled Redis connection may be stale)."""
        await self._send(relay.owner_channel, {"type": RELAY_MESSAGE, "conn_id": relay.conn_id, "frames": frames})

    async def _send(self, channel: str, message: dict[str, Any]) -> None:
        try:
            await self.layer.send(channel, message)
        except Exception:
            # After a Redis restart the pool may hand out a connection the server closed;
            # the failed one is dropped, and a second send gets a fresh one.
            logger.info("cluster: sending %s failed once; trying again", message["type"])
            await self.layer.send(channel, message)

    async def closed(self, relay: Relay) -> None:
        """Tell the owner a relayed websocket closed."""
        self.relays.pop(relay.conn_id, None)
        try:
            await self.layer.send(relay.owner_channel, {"type": RELAY_CLOSED, "conn_id": relay.conn_id})
        except Exception:
            logger.debug("could not tell the owner of a closed relay", exc_info=True)

    def on_frames(self, message: dict[str, Any]) -> None:
        """Write the frames the owner sent to their websocket (counted and dropped if it closed meanwhile)."""
        entry = self.relays.get(message["conn_id"])
        if entry is None:
            self.dropped_after_close += 1
            return
        try:
            entry[0].relay_frames(message["frames"])
        except Exception:  # the socket closed before the owner learnt it: nothing to tell anyone
            self.dropped_after_close += 1

    def on_close(self, message: dict[str, Any]) -> None:
        """Close a websocket as its owner asked."""
        entry = self.relays.pop(message["conn_id"], None)
        if entry is not None:
            entry[0].close_with(int(message["code"]), str(message["reason"]), message.get("detail"))

    def close_all(self, code: int, reason: str) -> list[RelayedSocket]:
        """Close every relayed websocket of this process (it drains): return them."""
        sockets = []
        for socket, _relay in list(self.relays.values()):
            # Still known: its disconnect tells the owner, which detaches it.
            sockets.append(socket)
            socket.close_with(code, reason)
        return sockets

    async def drop_dead_owners(self) -> None:
        """Close relays whose owner died: their clients reconnect and get a fresh session."""
        for conn_id, (socket, relay) in list(self.relays.items()):
            if await self.directory.process_channel(relay.owner) is None:
                self.relays.pop(conn_id, None)
                gone = OwnerGoneError("the process holding this session went away; reconnect")
                socket.close_with(gone.close_code, gone.reason)
