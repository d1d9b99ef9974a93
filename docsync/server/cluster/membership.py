"""Scale-out: several processes joined by Redis, without sticky sessions.

- Ownership: a session lives in exactly one process. The first process to claim a
  session id in Redis (an atomic claim, taken over only when the owner's liveness key
  has expired) creates it; every other process relays its websockets to the owner.
- Relaying and commands travel over the Channels layer (channels-redis): each process
  listens on one process channel and routes relayed frames to its consumers (consumers
  have no channel of their own, so an idle websocket costs Redis nothing and a Redis
  outage cannot break sockets of sessions held locally).
- Liveness: each process refreshes a key naming its channel every PROCESS_TIMEOUT/3;
  held sessions' claims are refreshed too, so a restarted Redis is repopulated.
- Broadcast: a group per application reaches every process.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
from typing import Any

from channels.db import database_sync_to_async

from ..conf import docsync_settings
from ..protocol import ack
from .relay import RELAY_CLOSE, RELAY_FRAMES, RemoteConnection, message_from_frames

__all__ = ["Cluster", "app_group"]

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


def app_group(app_path: str) -> str:
    """The channel-layer group reaching every process serving ``app_path``."""
    return f"docsync-app-{app_path}"[:90]


async def _load_user(user_id: str | None) -> Any:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import AnonymousUser

    if user_id is None:
        return AnonymousUser()
    model = get_user_model()
    return await database_sync_to_async(model.objects.filter(pk=user_id).first)() or AnonymousUser()


class Cluster:
    """This process's membership of the cluster."""

    def __init__(self, registry: Any, layer: Any, redis_url: str) -> None:
        import redis.asyncio as aioredis

        self.registry = registry
        self.layer = layer
        self.process_id = registry.process_id
        self.redis = aioredis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=2)
        self._claim = self.redis.register_script(_CLAIM)
        self.channel: str = ""
        self.relays: dict[str, Any] = {}  # conn id -> relaying consumer (here)
        self.remotes: dict[str, tuple[RemoteConnection, Any, asyncio.Queue[Any]]] = {}  # on the owner
        self._replies: dict[str, asyncio.Future[Any]] = {}
        self._reqids = itertools.count(1)
        self._tasks: list[asyncio.Task[None]] = []
        self.redis_ok = False

    @property
    def _timeout(self) -> float:
        return float(docsync_settings().PROCESS_TIMEOUT)

    def _process_key(self, process_id: str) -> str:
        return f"docsync:process:{process_id}"

    @staticmethod
    def _owner_key(session_id: str) -> str:
        return f"docsync:owner:{session_id}"

    async def start(self) -> None:
        """Open the process channel and start listening and heartbeating."""
        self.channel = await self.layer.new_channel(prefix="docsync-process.")
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._listen()), loop.create_task(self._heartbeat_forever())]
        await self._heartbeat()

    async def stop(self) -> None:
        """Stop listening and drop this process's liveness key."""
        for task in self._tasks:
            task.cancel()
        try:
            await self.redis.delete(self._process_key(self.process_id))
            await self.redis.aclose()
        except Exception:
            logger.debug("redis unavailable while stopping", exc_info=True)

    # -- ownership ------------------------------------------------------------------

    @property
    def grace(self) -> float:
        """Seconds after a (re)start of Redis during which unknown ids are not claimed."""
        return self._timeout / 3 + 1.0

    async def claim(self, session_id: str) -> str:
        """Return the owner of ``session_id``, claiming it for this process if free."""
        ttl_ms = int(1000 * max(self._timeout * 4, float(docsync_settings().UNUSED_SESSION_LIFETIME) * 2))
        deadline = asyncio.get_running_loop().time() + self.grace + 2.0
        while True:
            owner = await self._claim(
                keys=[self._owner_key(session_id), _EPOCH_KEY],
                args=[self.process_id, "docsync:process:", ttl_ms, int(self.grace * 1000)],
            )
            text = owner.decode() if isinstance(owner, bytes) else str(owner)
            if text:
                return text
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("session directory did not settle")
            await asyncio.sleep(0.2)

    async def process_channel(self, process_id: str) -> str | None:
        """Return the channel of a live process, or None if it is not alive."""
        value = await self.redis.get(self._process_key(process_id))
        if value is None:
            return None
        return value.decode() if isinstance(value, bytes) else str(value)

    async def _heartbeat_forever(self) -> None:
        while True:
            await asyncio.sleep(self._timeout / 3)
            await self._heartbeat()

    async def _heartbeat(self) -> None:
        try:
            ttl_ms = int(1000 * max(self._timeout * 4, float(docsync_settings().UNUSED_SESSION_LIFETIME) * 2))
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.set(self._process_key(self.process_id), self.channel, px=int(self._timeout * 1000))
                for session in self.registry.sessions():
                    # Re-asserted every beat, so that a restarted (empty) Redis learns
                    # again who holds what.
                    pipe.set(self._owner_key(session.id), self.process_id, px=ttl_ms)
                await pipe.execute()
            for path in self.registry.app_paths():
                await self.layer.group_add(app_group(path), self.channel)
            if not self.redis_ok:
                logger.info("cluster: process %s registered", self.process_id)
            self.redis_ok = True
            await self._check_peers()
        except Exception as exc:
            if self.redis_ok:
                logger.warning("cluster: redis unavailable (%s); serving held sessions", exc)
            self.redis_ok = False

    async def _check_peers(self) -> None:
        # Relays whose owner died are closed (their clients reconnect and get a fresh
        # session); remote connections whose relaying process died are detached.
        for conn_id, consumer in list(self.relays.items()):
            if await self.process_channel(consumer.relay_owner) is None:
                self.relays.pop(conn_id, None)
                await consumer.refuse(4010, "the process holding this session went away; reconnect")
        for conn_id, (conn, _session, _queue) in list(self.remotes.items()):
            if await self.process_channel(conn.relay_process) is None:
                self._drop_remote(conn_id)

    # -- relaying (the process holding the websocket) ---------------------------------

    async def open_relay(self, consumer: Any, owner: str, session_id: str, user_id: str | None, args: Any) -> bool:
        """Relay ``consumer``'s websocket to ``owner``; False if the owner is gone."""
        owner_channel = await self.process_channel(owner)
        if owner_channel is None:
            return False
        conn_id = secrets.token_hex(8)
        consumer.relay_owner, consumer.relay_channel_to, consumer.relay_conn_id = owner, owner_channel, conn_id
        self.relays[conn_id] = consumer
        await self.layer.send(
            owner_channel,
            {
                "type": "relay.open",
                "conn_id": conn_id,
                "relay_channel": self.channel,
                "relay_process": self.process_id,
                "session_id": session_id,
                "app": consumer.app_path,
                "origin": consumer.origin,
                "user_id": user_id,
                "args": args,
            },
        )
        return True

    async def forward(self, consumer: Any, frames: list[Any]) -> None:
        """Send one message's frames from a relaying consumer to the owner."""
        await self.layer.send(
            consumer.relay_channel_to, {"type": "relay.message", "conn_id": consumer.relay_conn_id, "frames": frames}
        )

    async def relay_closed(self, consumer: Any) -> None:
        """Tell the owner a relayed websocket closed."""
        self.relays.pop(consumer.relay_conn_id, None)
        try:
            await self.layer.send(
                consumer.relay_channel_to, {"type": "relay.closed", "conn_id": consumer.relay_conn_id}
            )
        except Exception:
            logger.debug("could not tell the owner of a closed relay", exc_info=True)

    # -- the process channel (the owner side, commands, broadcast) --------------------

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

    async def _handle(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "relay.open":
            await self._open_remote(message)
        elif kind == "relay.message":
            entry = self.remotes.get(message["conn_id"])
            if entry is not None:
                entry[2].put_nowait(message["frames"])
        elif kind == RELAY_FRAMES:
            consumer = self.relays.get(message["conn_id"])
            if consumer is not None:
                await consumer.relay_frames(message["frames"])
        elif kind == RELAY_CLOSE:
            consumer = self.relays.pop(message["conn_id"], None)
            if consumer is not None:
                await consumer.refuse(int(message["code"]), str(message["reason"]))
        elif kind == "relay.closed":
            self._drop_remote(message["conn_id"])
        elif kind == "command":
            asyncio.get_running_loop().create_task(self._run_command(message))
        elif kind == "reply":
            future = self._replies.pop(message["reqid"], None)
            if future is not None and not future.done():
                future.set_result(message)
        elif kind == "broadcast":
            context = self.registry.get_context(message["app"])
            if context is not None:
                await context.broadcast(message["msg_type"], message.get("msg_data"))

    async def _open_remote(self, message: dict[str, Any]) -> None:
        conn = RemoteConnection(
            self, message["conn_id"], message["relay_channel"], message["relay_process"], message["origin"]
        )
        request = {
            "arguments": message.get("args") or {},
            "user": await _load_user(message.get("user_id")),
            "path": message["app"],
        }
        existed = self.registry.find_session(message["session_id"])
        arguments = request["arguments"]
        settings = docsync_settings()
        if existed is None and arguments.pop("__token_old__", None):
            await conn.close(1008, "token expired")
            return
        if existed is not None and len(existed.connections) >= settings.MAX_CONNECTIONS_PER_SESSION:
            await conn.close(4008, "too many connections to this session")
            return
        try:
            session = await self.registry.open_session(message["app"], message["session_id"], request)
        except Exception as exc:
            logger.exception("cluster: could not open session for a relay")
            await conn.close(1011, f"application error: {type(exc).__name__}")
            return
        conn.created_session = existed is None
        queue: asyncio.Queue[Any] = asyncio.Queue()
        self.remotes[conn.conn_id] = (conn, session, queue)
        session.attach(conn)
        await conn.send_message(ack())
        asyncio.get_running_loop().create_task(self._serve_remote(conn, session, queue))

    async def _serve_remote(self, conn: RemoteConnection, session: Any, queue: asyncio.Queue[Any]) -> None:
        # One task per relayed connection keeps its messages in order without holding
        # up the process channel.
        while True:
            frames = await queue.get()
            if frames is None:
                return
            try:
                message = message_from_frames(frames)
                session.stats["messages_in"] += 1
                await self.registry.dialect(session.app_path).dispatch(session, conn, message, conn.created_session)
            except Exception:
                logger.exception("cluster: error serving a relayed message")

    def _drop_remote(self, conn_id: str) -> None:
        entry = self.remotes.pop(conn_id, None)
        if entry is not None:
            conn, session, queue = entry
            session.detach(conn)
            queue.put_nowait(None)

    async def command(self, process_id: str, command: str, session_id: str, **arguments: Any) -> Any:
        """Run an admin command in process ``process_id`` and return its result."""
        channel = await self.process_channel(process_id)
        if channel is None:
            raise LookupError(f"process {process_id} is not alive")
        reqid = f"{self.process_id}-{next(self._reqids)}"
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._replies[reqid] = future
        await self.layer.send(
            channel,
            {
                "type": "command",
                "reqid": reqid,
                "reply_to": self.channel,
                "command": command,
                "session_id": session_id,
                "arguments": arguments,
            },
        )
        try:
            reply = await asyncio.wait_for(future, timeout=10)
        finally:
            self._replies.pop(reqid, None)
        if not reply.get("ok"):
            raise LookupError(reply.get("error", "command failed"))
        return reply.get("result")

    async def _run_command(self, message: dict[str, Any]) -> None:
        from .commands import run_command

        try:
            result = await run_command(message["command"], message["session_id"], **message.get("arguments", {}))
            reply = {"type": "reply", "reqid": message["reqid"], "ok": True, "result": _plain(result)}
        except Exception as exc:
            reply = {"type": "reply", "reqid": message["reqid"], "ok": False, "error": str(exc)}
        await self.layer.send(message["reply_to"], reply)

    async def broadcast(self, app_path: str, msg_type: str, msg_data: Any) -> None:
        """Send a message to every session of ``app_path`` in every process."""
        await self.layer.group_send(
            app_group(app_path), {"type": "broadcast", "app": app_path, "msg_type": msg_type, "msg_data": msg_data}
        )


def _plain(value: Any) -> Any:
    """Make a command result msgpack-friendly (datetimes become ISO strings)."""
    import datetime as dt

    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value
