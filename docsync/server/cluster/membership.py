"""This process's membership of the cluster: the parts, and the channel that feeds them.

Relaying and commands travel over the Channels layer (channels-redis): each process
listens on one process channel and routes what arrives to the part that handles it.
With ``PEER_ADDRESS`` set, relayed websockets' messages go on direct routes between
processes instead (``peers``), and arrive at the same parts.
Consumers have no channel of their own, so an idle websocket costs Redis nothing and a
Redis outage cannot break sockets of sessions held locally.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from ...conf import docsync_settings
from ...exceptions import OwnerGoneError
from ...protocol import Message
from ..registry import SessionRegistry
from ..sigterm import before_sigterm
from .admin_rpc import AdminRPC
from .broadcast import broadcast, on_broadcast
from .directory import Directory, redis_url
from .liveness import Liveness
from .peers import PeerLink, Peers
from .relay_in import RelayIn
from .relay_out import CLOSE_PATIENCE, Relay, RelayedSocket, RelayOut
from .wire import (
    BROADCAST,
    COMMAND,
    RELAY_CLOSE,
    RELAY_CLOSED,
    RELAY_FRAMES,
    RELAY_MESSAGE,
    RELAY_OPEN,
    RELAY_TAKEN,
    RELAY_WAITING,
    REPLY,
)

#: What a direct route carries: relays only.
_RELAY_KINDS = frozenset(
    (RELAY_OPEN, RELAY_MESSAGE, RELAY_CLOSED, RELAY_FRAMES, RELAY_CLOSE, RELAY_WAITING, RELAY_TAKEN)
)

__all__ = ["Cluster", "ensure_cluster"]

logger = logging.getLogger("docsync.cluster")

#: What a relayed websocket of a session of this process is told when the process stops
#: (a process killed is found at a heartbeat instead: "went away").
STOPPED = "the process holding this session stopped; reconnect"
#: Seconds leaving may take before the ASGI server's own SIGTERM handler runs anyway.
LEAVE_TIMEOUT = 2 * CLOSE_PATIENCE


class Cluster:
    """The directory, both relay ends, admin commands and broadcast, fed by one channel."""

    def __init__(self, registry: SessionRegistry, layer: Any, directory: Directory, channel: str) -> None:
        self.registry = registry
        self.layer = layer
        self.directory = directory
        self.channel = channel
        self.peers: Peers | None = None
        if docsync_settings().PEER_ADDRESS:
            self.peers = Peers(directory.process_id, self._on_peer_record, self._link_lost)
        self.relay_out = RelayOut(layer, directory, channel, self.peers)
        #: Send one message from a relayed websocket to its owner, as frames or parsed
        #: (``RelayOut.forward`` itself: no coroutine of the cluster's own per relayed message).
        self.forward: Callable[[Relay, list[Any] | Message, int | None], Awaitable[None]] = self.relay_out.forward
        self.relay_in = RelayIn(registry, layer)
        self.admin_rpc = AdminRPC(registry, layer, directory, channel)
        self.liveness = Liveness(registry, layer, directory, channel, self.relay_out, self.relay_in)
        self._tasks: list[asyncio.Task[None]] = []
        #: Whether this process has left the cluster (``leave`` or ``stop``).
        self.left = False

    @classmethod
    async def join(cls, registry: SessionRegistry) -> Cluster:
        """Open this process's channel, register it, and start listening and beating."""
        from channels.layers import get_channel_layer

        layer = get_channel_layer()
        directory = Directory(redis_url(layer), registry.process_id)
        channel = await layer.new_channel(prefix="docsync-process.")
        cluster = cls(registry, layer, directory, channel)
        if cluster.peers is not None:
            cluster.liveness.peer_address = await cluster.peers.listen(str(docsync_settings().PEER_ADDRESS))
        loop = asyncio.get_running_loop()
        cluster._tasks = [loop.create_task(cluster._listen()), loop.create_task(cluster.liveness.run_forever())]
        await cluster.liveness.beat()
        # daphne stops its loop on SIGTERM with no lifespan shutdown: left to the liveness
        # key's expiry, relayed clients of this process's sessions heard nothing for up to
        # PROCESS_TIMEOUT and a beat, and their reconnects were relayed back here meanwhile.
        before_sigterm(cluster.leave, LEAVE_TIMEOUT, "cluster: leaving")
        return cluster

    async def stop(self) -> None:
        """Stop listening and drop this process's liveness key (once: a SIGTERM's ``leave`` did it already)."""
        if self.left:
            return
        self.left = True
        for task in self._tasks:
            task.cancel()
        if self.peers is not None:
            await self.peers.close()
        await self.directory.leave()

    async def leave(self) -> None:
        """Leave the cluster as this process stops: out of the directory, its sessions' relayed websockets closed 4010.

        Out of the directory first, so that a client told to reconnect makes its session
        anew on a live process, rather than being relayed back here.
        """
        if self.left or self.registry.keeper is not None:
            return  # left already, or a drain (persistence) closes everything with 4012 and leaves
        self.left = True
        for task in self._tasks:
            task.cancel()  # a beat would register this process again
        await self.directory.leave()
        gone = OwnerGoneError(STOPPED)
        closed = await self.relay_in.close_all(gone.close_code, gone.reason, CLOSE_PATIENCE)
        if self.peers is not None:
            await self.peers.close()  # what the closes put on the routes is written before they close
        logger.info("cluster: stopping: left the directory, %d relayed websockets closed", closed)

    # -- what the rest of the server calls --------------------------------------------

    async def claim(self, session_id: str) -> str:
        """Return the owner of ``session_id``, claiming it for this process if free."""
        return await self.directory.claim(session_id)

    async def announce_holder(self, session_id: str, holder: str) -> None:
        """Say whom session ``session_id``, just made in this process, belongs to (JSON of its owner)."""
        await self.directory.set_holder(session_id, holder)

    async def forget_holder(self, session_id: str) -> None:
        """Say that session ``session_id``, ended in this process, is no longer held (pages join it no more)."""
        await self.directory.forget_holder(session_id)

    async def session_holder(self, session_id: str) -> str | None:
        """Whom session ``session_id`` belongs to while a live process holds it, else None."""
        return await self.directory.live_holder(session_id)

    async def open_relay(
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
        """Relay ``socket`` to the process ``owner``; None if that process is gone."""
        return await self.relay_out.open(
            socket,
            owner,
            session_id=session_id,
            app_path=app_path,
            origin=origin,
            user_id=user_id,
            visitor=visitor,
            client=client,
            arguments=arguments,
            request_info=request_info,
            token_expired=token_expired,
        )

    async def relay_closed(self, relay: Relay) -> None:
        """Tell the owner a relayed websocket closed."""
        await self.relay_out.closed(relay)

    def relay_figures(self) -> tuple[int, int, int]:
        """Relayed websockets this process holds, those it owns the sessions of, and messages it held back."""
        return len(self.relay_out.relays), len(self.relay_in.remotes), self.relay_out.held_back

    async def broadcast(self, app_path: str, msg_type: str, msg_data: Any) -> None:
        """Send a message to every session of ``app_path`` in every process."""
        await broadcast(self.layer, app_path, msg_type, msg_data)

    async def command(self, process_id: str, command: str, session_id: str, **arguments: Any) -> Any:
        """Run an admin command in process ``process_id`` and return its result."""
        return await self.admin_rpc.command(process_id, command, session_id, **arguments)

    # -- the process channel ------------------------------------------------------------

    async def _listen(self) -> None:
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.debug("cluster: receive failed; retrying", exc_info=True)
                await asyncio.sleep(0.5)
                continue
            try:
                await self._handle(message)
            except Exception:
                logger.exception("cluster: error handling %s", message.get("type"))

    def _link_lost(self, link: PeerLink) -> None:
        self.relay_out.link_lost(link)
        self.relay_in.link_lost(link)

    def _on_peer_record(self, message: dict[str, Any], link: PeerLink) -> Awaitable[None] | None:
        """Handle a record of a direct route: a relayed message or frames at once, the rest by ``_handle``."""
        kind = message.get("type")
        if kind == RELAY_MESSAGE:
            self.relay_in.on_message(message)
            return None
        if kind == RELAY_FRAMES:
            self.relay_out.on_frames(message)
            return None
        return self._handle(message, link)

    async def _handle(self, message: dict[str, Any], link: PeerLink | None = None) -> None:
        kind = message.get("type")
        if link is not None and kind not in _RELAY_KINDS:
            return  # a direct route carries relays only
        if kind == RELAY_OPEN:
            await self.relay_in.on_open(message, link)
        elif kind == RELAY_MESSAGE:
            self.relay_in.on_message(message)
        elif kind == RELAY_CLOSED:
            self.relay_in.on_closed(message)
        elif kind == RELAY_FRAMES:
            self.relay_out.on_frames(message)
        elif kind == RELAY_CLOSE:
            self.relay_out.on_close(message)
        elif kind == RELAY_WAITING:
            self.relay_in.on_waiting(message)
        elif kind == RELAY_TAKEN:
            self.relay_out.on_taken(message)
        elif kind == COMMAND:
            asyncio.get_running_loop().create_task(self.admin_rpc.on_command(message))
        elif kind == REPLY:
            self.admin_rpc.on_reply(message)
        elif kind == BROADCAST:
            on_broadcast(self.registry, message)


async def ensure_cluster(registry: SessionRegistry) -> Cluster | None:
    """Join the cluster when ``DOCSYNC["CLUSTER"]`` is on (once per process); return it, or None."""
    if not docsync_settings().CLUSTER:
        return None
    link = await registry.join_cluster(Cluster.join)
    if not isinstance(link, Cluster):
        raise TypeError(f"the registry holds another kind of cluster membership: {link!r}")
    return link
