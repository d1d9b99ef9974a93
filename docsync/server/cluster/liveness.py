"""The heartbeat: this process says it is alive, re-asserts its claims, and notices dead peers."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ..admission import session_holder
from ..registry import SessionRegistry
from .broadcast import app_group
from .directory import Directory
from .relay_in import RelayIn
from .relay_out import RelayOut

__all__ = ["Liveness"]

logger = logging.getLogger("docsync.cluster")


class Liveness:
    """Beats every ``PROCESS_TIMEOUT / 3``; keeps serving held sessions while Redis is away."""

    def __init__(
        self,
        registry: SessionRegistry,
        layer: Any,
        directory: Directory,
        channel: str,
        relay_out: RelayOut,
        relay_in: RelayIn,
    ) -> None:
        self.registry = registry
        self.layer = layer
        self.directory = directory
        self.channel = channel
        self.relay_out = relay_out
        self.relay_in = relay_in
        self.redis_ok = False
        # Until then (event loop time) a peer missing from Redis is not taken for dead:
        # after Redis lost its data (a restart) or was away, live peers reappear only at
        # their next beat, which a loaded machine may delay.
        self.peers_settle_at = 0.0
        #: This process's direct route (``PEER_ADDRESS``), advertised with its liveness key.
        self.peer_address: str | None = None

    async def run_forever(self) -> None:
        """Beat until cancelled."""
        while True:
            await asyncio.sleep(self.directory.timeout / 3)
            await self.beat()

    async def beat(self) -> None:
        """Register this process and its sessions; close relays to or from dead processes."""
        try:
            was_missing = await self.directory.beat(
                self.channel, [(s.id, session_holder(s)) for s in self.registry.sessions()], self.peer_address
            )
            for path in self.registry.app_paths():
                await self.layer.group_add(app_group(path), self.channel)
            if not self.redis_ok:
                logger.info("cluster: process %s registered", self.directory.process_id)
            now = asyncio.get_running_loop().time()
            if was_missing or not self.redis_ok:
                self.peers_settle_at = now + 2 * self.directory.timeout
            self.redis_ok = True
            if now >= self.peers_settle_at:
                await self.relay_out.drop_dead_owners(self.directory.timeout)
                await self.relay_in.drop_dead_relayers(self.directory)
        except Exception as exc:
            if self.redis_ok:
                logger.warning("cluster: redis unavailable (%s); serving held sessions", exc)
            self.redis_ok = False
