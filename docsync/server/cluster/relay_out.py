"""Relaying, on the process that holds a websocket whose session another process owns.

The consumer keeps its socket; each complete message it reads goes to the owner over
the direct route to it (``peers``) when there is one, else over the channel layer, and
the owner's frames come back the same way. On a direct route to an owner that takes it
so, a message goes as this process parsed it (its limits and checks applied here), not
as frames the owner would parse again. A relay keeps the route it opened on: its
messages stay in order.

Flow control: a local socket is not read while its session is busy, so TCP holds its
client back. A relayed socket is read here, so the owner tells when to stop: at most
``MAX_QUEUED_BYTES`` of a socket's messages are forwarded and not yet taken by its
session (one message always goes when none is outstanding); past that the consumer waits
for the owner's go-ahead (``RELAY_WAITING`` / ``RELAY_TAKEN``) and reads no more of its
socket meanwhile, as for a local one.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass
from typing import Any, Protocol

from ...conf import docsync_settings
from ...exceptions import DirectoryUnavailableError, OwnerGoneError
from ...protocol import Message
from .directory import Directory
from .peers import PeerLink, Peers
from .wire import RELAY_CLOSED, RELAY_MESSAGE, RELAY_OPEN, RELAY_WAITING, message_parts

__all__ = ["Relay", "RelayOut", "RelayedSocket"]

logger = logging.getLogger("docsync.cluster")

#: Seconds a relay's close may wait for the channel layer (a direct route takes it at once).
CLOSE_PATIENCE = 5.0


class RelayedSocket(Protocol):
    """What the relay needs of the consumer holding a relayed websocket."""

    def relay_frames(self, frames: list[Any], nbytes: int | None = None) -> None:
        """Queue one or more messages' frames the owner sent, ``nbytes`` in all if it said (never waits)."""

    def close_with(self, code: int, reason: str, detail: str | None = None) -> None:
        """Queue an ERROR naming ``reason``, then a close with ``code``."""

    def close_told(self, code: int, reason: str) -> None:
        """Close with ``code`` after what is queued, which holds the owner's ERROR naming ``reason`` already."""


@dataclass(frozen=True, slots=True)
class Relay:
    """One websocket of this process relayed to the process owning its session."""

    conn_id: str
    owner: str
    owner_channel: str
    #: The direct route to the owner this relay goes by; None: the channel layer.
    link: PeerLink | None = None


class _Window:
    """One relayed socket's bytes forwarded to the owner and not yet taken by its session."""

    __slots__ = ("closed", "limit", "sent", "taken", "waiter")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.sent = 0
        self.taken = 0
        self.closed = False
        #: Set when the owner answers a RELAY_WAITING (or the relay ends).
        self.waiter: asyncio.Future[None] | None = None

    def wake(self) -> None:
        """End a wait for the owner's answer."""
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def close(self) -> None:
        """The relay ended: a waiting message is dropped (its socket is closing)."""
        self.closed = True
        self.wake()


class RelayOut:
    """The relays of the websockets this process holds."""

    def __init__(self, layer: Any, directory: Directory, channel: str, peers: Peers | None = None) -> None:
        self.layer = layer
        self.directory = directory
        self.channel = channel
        self.peers = peers
        self.relays: dict[str, tuple[RelayedSocket, Relay]] = {}
        #: Each relay's bytes in flight to its owner's session (flow control, above).
        self.windows: dict[str, _Window] = {}
        #: Messages held back until their owner's session took earlier ones (a figure for tests and the admin).
        self.held_back = 0
        #: Relays whose direct route closed, and when (event loop time): see ``link_lost``.
        self.lost: dict[str, float] = {}
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
        visitor: str | None = None,
        client: str | None = None,
        arguments: dict[str, list[str]],
        request_info: dict[str, dict[str, str]],
        token_expired: bool,
    ) -> Relay | None:
        """Relay ``socket`` to ``owner``; None if the owner is gone (raises if Redis cannot be reached)."""
        owner_channel, address = await self.directory.process_route(owner)
        if owner_channel is None:
            return None
        link = None
        if self.peers is not None and address is not None:
            link = await self.peers.link(owner, address)  # None: not now; the channel layer carries it
        relay = Relay(secrets.token_hex(8), owner, owner_channel, link)
        # Known before the owner can answer: its ACK may come back before send returns.
        self.relays[relay.conn_id] = (socket, relay)
        self.windows[relay.conn_id] = _Window(int(docsync_settings().MAX_QUEUED_BYTES))
        try:
            await self._send(
                relay,
                {
                    "type": RELAY_OPEN,
                    "conn_id": relay.conn_id,
                    "relay_channel": self.channel,
                    "relay_process": self.directory.process_id,
                    "session_id": session_id,
                    "app": app_path,
                    "origin": origin,
                    "user_id": user_id,
                    "visitor": visitor,
                    # Whom a session the owner makes counts against (MAX_SESSIONS_PER_CLIENT).
                    "client": client,
                    "args": arguments,
                    "request_info": request_info,
                    "token_expired": token_expired,
                },
            )
        except BaseException as exc:
            self._forget(relay.conn_id)
            if isinstance(exc, asyncio.CancelledError):
                # Its consumer cancelled (daphne, 10 s after a disconnect) while the open went
                # out: the owner may have it, and would keep its place in the session.
                await self._tell_closed(relay)
            raise
        return relay

    async def forward(self, relay: Relay, frames: list[Any] | Message, nbytes: int | None = None) -> None:
        """Send one message to the owner, once its session has room for it (see above).

        ``frames``: the client's frames; or, when ``relay.link.parsed``, the message this
        process parsed from them, and ``nbytes``, their bytes (the owner need not parse it
        again). Returns without sending if the relay ended while it waited (its socket is
        closing); raises if the owner cannot be reached (over Redis tried twice: a pooled
        connection may be stale).
        """
        window = self.windows.get(relay.conn_id)
        message: dict[str, Any]
        if isinstance(frames, Message):
            if nbytes is None:
                raise TypeError("a parsed message is forwarded with its size")
            message = {"type": RELAY_MESSAGE, "conn_id": relay.conn_id, "message": message_parts(frames)}
            message["nbytes"] = nbytes  # the size both ends count it by (flow control)
        else:
            nbytes = sum(map(len, frames))  # as the owner counts them (no generator resumed per frame)
            message = {"type": RELAY_MESSAGE, "conn_id": relay.conn_id, "frames": frames}
        # Room (inline, no call per relayed message): none outstanding, or all within the bound.
        if window is not None and (outstanding := window.sent - window.taken) and outstanding + nbytes > window.limit:
            self.held_back += 1
            # One question, one answer: the owner says what it took once its queue for this
            # socket has room for this message (or is empty). Until then this consumer reads
            # nothing more of its socket.
            window.waiter = asyncio.get_running_loop().create_future()
            waiter = window.waiter
            waiting = {"type": RELAY_WAITING, "conn_id": relay.conn_id, "sent": window.sent, "need": nbytes}
            await self._send(relay, waiting)
            await waiter
            if window.closed:
                return
        if window is not None:
            window.sent += nbytes
        link = relay.link
        if link is not None:  # (``_send``'s direct route, inline: per relayed message)
            link.send(message)
            if link.backed_up():
                await link.drain()
            return
        await self._send(relay, message)

    def on_taken(self, message: dict[str, Any]) -> None:
        """The owner's answer to a RELAY_WAITING: the bytes its session has taken; the held message may go."""
        window = self.windows.get(message["conn_id"])
        if window is not None:
            window.taken = max(window.taken, int(message["taken"]))
            window.wake()

    def _forget(self, conn_id: str) -> tuple[RelayedSocket, Relay] | None:
        """Drop a relay's entries; a message of it held back is dropped too."""
        window = self.windows.pop(conn_id, None)
        if window is not None:
            window.close()
        self.lost.pop(conn_id, None)
        return self.relays.pop(conn_id, None)

    async def _send(self, relay: Relay, message: dict[str, Any]) -> None:
        if relay.link is not None:
            # Raises once the route closed: what was in flight on it may be lost, so the
            # client is told to retry (1013) and resumes, rather than carry on out of step.
            relay.link.send(message)
            await relay.link.drain()
            return
        channel = relay.owner_channel
        try:
            await self.layer.send(channel, message)
        except Exception:
            # After a Redis restart the pool may hand out a connection the server closed;
            # the failed one is dropped, and a second send gets a fresh one.
            logger.info("cluster: sending %s failed once; trying again", message["type"])
            await self.layer.send(channel, message)

    async def closed(self, relay: Relay) -> None:
        """Tell the owner a relayed websocket closed (waits ``CLOSE_PATIENCE`` at most)."""
        self._forget(relay.conn_id)
        await self._tell_closed(relay)

    async def _tell_closed(self, relay: Relay) -> None:
        message = {"type": RELAY_CLOSED, "conn_id": relay.conn_id}
        try:
            if relay.link is not None:
                if not relay.link.closed:  # else the owner dropped it when the route closed
                    relay.link.send(message)
            else:
                # Bounded: a consumer's end waits for it (the owner drops the connection anyway
                # once this process is seen dead).
                async with asyncio.timeout(CLOSE_PATIENCE):
                    await self.layer.send(relay.owner_channel, message)
        except Exception:
            logger.debug("could not tell the owner of a closed relay", exc_info=True)

    def on_frames(self, message: dict[str, Any]) -> None:
        """Write the frames the owner sent to their websocket (counted and dropped if it closed meanwhile)."""
        entry = self.relays.get(message["conn_id"])
        if entry is None:
            self.dropped_after_close += 1
            return
        try:
            entry[0].relay_frames(message["frames"], message.get("nbytes"))
        except Exception:  # the socket closed before the owner learnt it: nothing to tell anyone
            self.dropped_after_close += 1

    def on_close(self, message: dict[str, Any]) -> None:
        """Close a websocket as its owner asked."""
        entry = self._forget(message["conn_id"])
        if entry is None:
            return
        if message.get("told"):  # the owner sent the ERROR before this close
            entry[0].close_told(int(message["code"]), str(message["reason"]))
        else:
            entry[0].close_with(int(message["code"]), str(message["reason"]), message.get("detail"))

    def close_all(self, code: int, reason: str) -> list[RelayedSocket]:
        """Close every relayed websocket of this process (it drains): return them."""
        sockets = []
        for conn_id, (socket, _relay) in list(self.relays.items()):
            # Still known: its disconnect tells the owner, which detaches it.
            sockets.append(socket)
            window = self.windows.get(conn_id)
            if window is not None:
                window.close()  # a message held back goes nowhere: the socket is closing
            socket.close_with(code, reason)
        return sockets

    def link_lost(self, link: PeerLink) -> None:
        """Note the relays that went by a direct route that closed (their owner died, or the route broke).

        They are closed at a beat: with 4010 once the owner is seen dead (its clients get
        a fresh session elsewhere), else, one ``PROCESS_TIMEOUT`` on, with 1013 (they
        resume). Until then a message their client sends is refused with 1013.
        """
        now = asyncio.get_running_loop().time()
        for conn_id, (_socket, relay) in self.relays.items():
            if relay.link is link:
                self.lost.setdefault(conn_id, now)
                window = self.windows.get(conn_id)
                if window is not None:
                    window.wake()  # its message goes to the closed route, which refuses it: 1013

    async def drop_dead_owners(self, timeout: float = 0.0) -> None:
        """Close relays whose owner died (their clients get a fresh session), or whose route closed ``timeout`` ago."""
        now = asyncio.get_running_loop().time()
        for conn_id, (socket, relay) in list(self.relays.items()):
            if await self.directory.process_channel(relay.owner) is None:
                self._forget(conn_id)
                gone = OwnerGoneError("the process holding this session went away; reconnect")
                socket.close_with(gone.close_code, gone.reason)
            elif now - self.lost.get(conn_id, now) >= timeout > 0:
                self._forget(conn_id)
                retry = DirectoryUnavailableError("the route to the process holding this session closed; try again")
                socket.close_with(retry.close_code, retry.reason)
