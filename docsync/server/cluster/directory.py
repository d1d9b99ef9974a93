"""The session directory in Redis: who owns each session, and which processes are alive.

- Ownership: a session lives in exactly one process. The first process to claim a
  session id (an atomic claim, taken over only when the owner's liveness key has
  expired) creates it; every other process relays its websockets to the owner.
- Liveness: each process keeps a key naming its channel, refreshed by its heartbeat;
  held sessions' claims are re-asserted with it, so that a restarted Redis learns
  again who holds what.
- Holders: whom each held session belongs to (its user, else its anonymous visitor),
  beside its claim, so that a page served by any process joins a live session by
  ``?session_id=`` as the process holding it would let it (protocol.md §4).
- Voided clients: a session dropped because the store refused its changes names the
  clients that held them, so that whichever process restores it resets them.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable
from typing import Any

from ...conf import docsync_settings
from ..cluster_link import redis_url

__all__ = ["Directory", "redis_url"]

logger = logging.getLogger("docsync.cluster")

# KEYS: owner key, epoch key. ARGV: this process, process-key prefix, claim ttl (ms),
# grace (ms). An empty answer means "the directory has just (re)started: owners are
# re-registering; ask again shortly" - a restarted Redis forgets every claim, and
# taking one over before its holder re-asserts it would create a session twice.
_CLAIM = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local epoch = redis.call('GET', KEYS[2])
if not epoch then
  redis.call('SET', KEYS[2], now)
  epoch = now
end
local owner = redis.call('GET', KEYS[1])
if owner and (owner == ARGV[1] or redis.call('EXISTS', ARGV[2] .. owner) == 1) then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return owner
end
if now - tonumber(epoch) < tonumber(ARGV[4]) then
  return ''
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return ARGV[1]
"""
_EPOCH_KEY = "docsync:epoch"
_PROCESS_PREFIX = "docsync:process:"
_PEER_PREFIX = "docsync:peer:"  # a live process's direct route (PEER_ADDRESS), beside its liveness key


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class Directory:
    """This process's view of the directory."""

    def __init__(self, url: str, process_id: str) -> None:
        # Imported here: redis comes with the optional "redis" extra, needed only in a cluster.
        import redis.asyncio as aioredis

        self.process_id = process_id
        self.redis = aioredis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
        self._claim = self.redis.register_script(_CLAIM)

    @property
    def timeout(self) -> float:
        """Seconds of silence after which a process counts as dead (``PROCESS_TIMEOUT``)."""
        return float(docsync_settings().PROCESS_TIMEOUT)

    @property
    def grace(self) -> float:
        """Seconds after a (re)start of Redis during which unknown ids are not claimed."""
        return self.timeout / 3 + 1.0

    def _claim_ttl_ms(self) -> int:
        return int(1000 * max(self.timeout * 4, float(docsync_settings().UNUSED_SESSION_LIFETIME) * 2))

    @staticmethod
    def _owner_key(session_id: str) -> str:
        return f"docsync:owner:{session_id}"

    @staticmethod
    def _holder_key(session_id: str) -> str:
        return f"docsync:holder:{session_id}"

    async def claim(self, session_id: str) -> str:
        """Return the owner of ``session_id``, claiming it for this process if free."""
        deadline = asyncio.get_running_loop().time() + self.grace + 2.0
        while True:
            owner = await self._claim(
                keys=[self._owner_key(session_id), _EPOCH_KEY],
                args=[self.process_id, _PROCESS_PREFIX, self._claim_ttl_ms(), int(self.grace * 1000)],
            )
            text = _text(owner)
            if text:
                return text
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("session directory did not settle")
            await asyncio.sleep(0.2)

    async def process_channel(self, process_id: str) -> str | None:
        """Return the channel of a live process, or None if it is not alive."""
        value = await self.redis.get(_PROCESS_PREFIX + process_id)
        return None if value is None else _text(value)

    async def process_route(self, process_id: str) -> tuple[str | None, str | None]:
        """Return the channel of a live process (None if it is not alive) and its direct route's address, if any."""
        channel, address = await self.redis.mget([_PROCESS_PREFIX + process_id, _PEER_PREFIX + process_id])
        if channel is None:
            return None, None
        return _text(channel), None if address is None else _text(address)

    async def beat(
        self, channel: str, sessions: Iterable[tuple[str, str | None]], peer_address: str | None = None
    ) -> bool:
        """Say this process is alive at ``channel``, and re-assert its claims (``sessions``: id and holder).

        Return whether this process's own liveness key was missing: Redis lost its data
        (a restart) or the key expired, so other live processes may be missing too until
        their next beat.
        """
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(_PROCESS_PREFIX + self.process_id, channel, px=int(self.timeout * 1000), get=True)
            if peer_address is not None:
                pipe.set(_PEER_PREFIX + self.process_id, peer_address, px=int(self.timeout * 1000))
            ttl_ms = self._claim_ttl_ms()
            for session_id, holder in sessions:
                pipe.set(self._owner_key(session_id), self.process_id, px=ttl_ms)
                if holder is not None:
                    pipe.set(self._holder_key(session_id), holder, px=ttl_ms)
            results = await pipe.execute()
        return results[0] is None

    async def set_holder(self, session_id: str, holder: str) -> None:
        """Say whom ``session_id``, just made in this process, belongs to (``holder``: JSON of its owner)."""
        await self.redis.set(self._holder_key(session_id), holder, px=self._claim_ttl_ms())

    async def forget_holder(self, session_id: str) -> None:
        """Say that ``session_id``, ended in this process, belongs to no one (its claim stays until it expires)."""
        await self.redis.delete(self._holder_key(session_id))

    async def live_holder(self, session_id: str) -> str | None:
        """Whom ``session_id`` belongs to, while a live process holds it; None: no live process holds it."""
        owner, holder = await self.redis.mget([self._owner_key(session_id), self._holder_key(session_id)])
        if owner is None or holder is None or not await self.redis.exists(_PROCESS_PREFIX + _text(owner)):
            return None
        return _text(holder)

    @staticmethod
    def _voided_key(session_id: str) -> str:
        return f"docsync:voided:{session_id}"

    async def set_voided(self, session_id: str, origins: list[str], ttl_ms: int) -> None:
        """Say which clients of ``session_id`` had changes the store refused (any process restoring it resets them)."""
        await self.redis.set(self._voided_key(session_id), json.dumps(origins), px=ttl_ms)

    async def take_voided(self, session_id: str) -> list[str] | None:
        """Return (and forget) the clients ``set_voided`` named for ``session_id``, or None."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.get(self._voided_key(session_id))
            pipe.delete(self._voided_key(session_id))
            value, _ = await pipe.execute()
        if value is None:
            return None
        origins = json.loads(_text(value))
        return [str(o) for o in origins] if isinstance(origins, list) else None

    async def leave(self) -> None:
        """Drop this process's liveness key and close the connection to Redis."""
        try:
            await self.redis.delete(_PROCESS_PREFIX + self.process_id, _PEER_PREFIX + self.process_id)
            await self.redis.aclose()
        except Exception:
            logger.debug("redis unavailable while stopping", exc_info=True)
