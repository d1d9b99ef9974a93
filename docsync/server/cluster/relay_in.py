"""Relaying, on the process that owns a session: websockets held by other processes.

A :class:`RemoteConnection` stands for such a websocket: the session sends to it like to
any connection, and its messages go over the channel layer to the process holding the
socket (on the direct route its relay opened on, else over the channel layer).
Relayed websockets are admitted by the same policy as local ones.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from channels.db import database_sync_to_async
from channels.exceptions import ChannelFull

from ...conf import docsync_settings
from ...exceptions import (
    ConnectionClosingError,
    DirectoryUnavailableError,
    RateLimitedError,
    SlowReaderError,
)
from ...protocol import ERROR, Message, ack, error
from ..admission import open_session
from ..dialects import Dialect
from ..message_rates import DOCUMENT_REQUESTS_PER_SECOND, TokenBucket
from ..outbox import Outbox
from ..registry import SessionRegistry
from ..session import ServerSession
from .directory import Directory
from .peers import PeerLink
from .wire import (
    RELAY_CLOSE,
    RELAY_FRAMES,
    RELAY_TAKEN,
    message_from_frames,
    message_from_parts,
    relay_receiver,
    sized_frames_of,
)

__all__ = ["RelayIn", "RemoteConnection"]

logger = logging.getLogger("docsync.cluster")

#: A publish to a full relaying channel is tried again this often, for this long; a
#: relaying process that reads nothing of its channel for that long is as good as gone.
_FULL_WAIT = 0.05
_FULL_PATIENCE = 30.0
#: While this process publishes more than _BUSY_PUBLISHES relayed messages per
#: _BUSY_WINDOW seconds (2,000/s), at most one publish per relayed connection this often:
#: a storm of 200 changes a second into 25 relayed sockets costs Redis 100 publishes per
#: socket, each carrying what waited. Below that, nothing waits: a relayed round trip's
#: OK and patch go at once (pacing them always added ~7 ms to every relayed round trip).
_PUBLISH_PACE = 0.01
_BUSY_WINDOW = 0.1
_BUSY_PUBLISHES = 200


class _PublishRate:
    """This process's relayed publishes in the current window: busy past a threshold."""

    def __init__(self) -> None:
        self._window_start = 0.0
        self._count = 0

    def count(self) -> None:
        now = time.monotonic()
        if now - self._window_start >= _BUSY_WINDOW:
            self._window_start, self._count = now, 0
        self._count += 1

    def busy(self) -> bool:
        return self._count > _BUSY_PUBLISHES and time.monotonic() - self._window_start < _BUSY_WINDOW


_publish_rate = _PublishRate()


class RemoteConnection:
    """The owner's stand-in for a websocket held by another process."""

    def __init__(
        self,
        layer: Any,
        conn_id: str,
        relay_channel: str,
        relay_process: str,
        origin: str,
        link: PeerLink | None = None,
    ) -> None:
        self.layer = layer
        #: The direct route the relay opened on (its answers go back on it), or None.
        self.link = link
        self.conn_id = conn_id
        self.relay_channel = relay_channel
        self.relay_process = relay_process
        self.origin = origin
        #: The relaying process's client of the socket (its share of the session is counted here).
        self.client: str | None = None
        self.fence = 0
        self.remote = f"relayed by {relay_process}"
        self.user_agent = ""
        self.connected_at = 0.0
        self.user: Any = None  # the relayed websocket's Django user
        self.may_push = False  # see admission.OpenedSession
        self.created_session = False
        # Sessions queue for it as for a socket; one task publishes, in order. The
        # relaying process bounds what its socket holds (its own outbox); this one
        # bounds what waits for Redis here.
        # On a direct route nothing is paced, and what the route takes at once is written
        # by a callback, without a task (as for a local socket).
        self.outbox = Outbox(
            self._publish,
            max_bytes=int(docsync_settings().MAX_QUEUED_BYTES),
            on_overflow=self._overflowed,
            pace=0.0 if link is not None else _PUBLISH_PACE,
            pace_when=_publish_rate.busy,
            write_now=self._publish_now if link is not None else None,
        )
        #: Told this connection's id when it drops itself (set by RelayIn).
        self.on_dropped: Callable[[str], None] | None = None
        #: The close code of the last ERROR queued that announces a close (``close-<n>``, no reqid).
        self._told: str | None = None
        #: Resets sent to it (``may_reset``), made at the first.
        self._resets: TokenBucket | None = None

    def queue_message(self, message: Message) -> None:
        """Queue ``message`` for the relaying process, which writes it to the socket."""
        # The message's own frames and sizes (built with it): nothing encoded or counted again.
        # Their total travels along, so that the relaying process need not count them either.
        frames: list[Any]
        if self.link is not None:
            # The direct route packs a buffer payload's view as it is (msgpack takes any
            # buffer): not copied to bytes first. Like a local socket's outbox, what waits
            # holds the view until written.
            frames, sizes = message.sized_frames()
            nbytes = sum(sizes)
        else:  # a channel layer takes str and bytes
            frames, nbytes = sized_frames_of(message)
        if message.msgtype == ERROR and message.reqid is None:
            self._told = str(message.content.get("code"))
        self.outbox.put([{"type": RELAY_FRAMES, "conn_id": self.conn_id, "frames": frames, "nbytes": nbytes}], nbytes)

    def queue_close(self, code: int, reason: str = "", detail: str | None = None) -> None:
        """Ask the relaying process to close the socket, after what is queued."""
        message_out: dict[str, Any] = {"type": RELAY_CLOSE, "conn_id": self.conn_id, "code": code, "reason": reason}
        if detail is not None:
            message_out["detail"] = detail
        if self._told == f"close-{code}":
            # Its ERROR was queued already: the relaying process closes without one of its
            # own (a relayed client read the reason twice). An older one ignores the key.
            message_out["told"] = True
        self.outbox.put([message_out], 0)

    def may_reset(self) -> bool:
        """Take a reset from the connection's own bucket, as a socket's document requests; past it close (4029)."""
        now = time.monotonic()
        resets = self._resets
        if resets is None:
            resets = self._resets = TokenBucket(DOCUMENT_REQUESTS_PER_SECOND, DOCUMENT_REQUESTS_PER_SECOND, now)
        if resets.take(now):
            return True
        if self._told != "close-4029":
            text = "too many resets per second"
            self.queue_message(error(None, text, "close-4029"))
            self.queue_close(4029, text)
        return False

    @property
    def queued_bytes(self) -> int:
        """Bytes queued for the relaying process and not published yet (the admin shows them)."""
        return self.outbox.pending_bytes

    async def _send(self, message_out: dict[str, Any]) -> None:
        """Publish one channel message, waiting while the relaying channel is full."""
        if self.link is not None:
            self.link.send(message_out)  # raises once the route closed: this connection is dropped
            await self.link.drain()
            return
        deadline = time.monotonic() + _FULL_PATIENCE
        failed = False
        while True:
            try:
                _publish_rate.count()
                await self.layer.send(self.relay_channel, message_out)
                return
            except ChannelFull:
                # The relaying process reads its channel behind the sessions' pace: wait,
                # and what waits meanwhile goes in one batch (bounded by the outbox).
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(_FULL_WAIT)
            except Exception:
                # After a Redis restart the pool may hand out a connection the server
                # closed: the failed one is dropped, and the next send gets a fresh one.
                if failed:
                    raise
                failed = True
                logger.info("cluster: publishing to %r failed once; trying again", self)

    async def _publish(self, messages: list[dict[str, Any]]) -> None:
        try:
            await self._publish_in_order(messages)
        except Exception:
            # Nothing more can reach its socket in order: detach it, and ask the relaying
            # process to close it so that its client resumes (1013: try again).
            logger.warning("cluster: %r cannot be reached; closing it", self, exc_info=True)
            if self.on_dropped is not None:
                self.on_dropped(self.conn_id)
            close = {"type": RELAY_CLOSE, "conn_id": self.conn_id, "code": DirectoryUnavailableError.close_code}
            close["reason"] = "the process holding this session cannot reach this socket; try again"
            self._closing = asyncio.get_running_loop().create_task(self._publish_close(close))
            raise

    def _publish_now(self, messages: list[dict[str, Any]]) -> bool:
        """Put ``messages`` on the direct route if it takes them without waiting; say whether it did."""
        link = self.link
        if link is None or link.closed or link.backed_up():
            return False  # the task's _publish waits, or finds the route closed and drops this
        for message_out in _merged(messages):
            link.send(message_out)
        return True

    async def _publish_in_order(self, messages: list[dict[str, Any]]) -> None:
        for message_out in _merged(messages):
            await self._send(message_out)

    def _overflowed(self, queued: int, size: int) -> None:
        # Redis does not take them as fast as the session makes them: the relayed client
        # is closed as a slow reader would be (it resumes), and detached at once.
        logger.warning("cluster: %r is %d bytes behind; closing it", self, queued)
        self._drop_and_close(SlowReaderError.close_code, "relay too far behind")

    def queue_taken(self, taken: int) -> None:
        """Tell the relaying process its session took ``taken`` bytes of this socket's messages (it may send more)."""
        self.outbox.put([{"type": RELAY_TAKEN, "conn_id": self.conn_id, "taken": taken}], 0)

    def refuse_backlog(self, waiting: int) -> None:
        """Close this client: its messages come faster than its session takes them (MAX_QUEUED_BYTES waiting)."""
        logger.warning("cluster: %r sent more than its session takes (%d bytes waiting); closing it", self, waiting)
        self._drop_and_close(RateLimitedError.close_code, "too many messages waiting for the session")

    def _drop_and_close(self, code: int, reason: str) -> None:
        # Detached at once (nothing more is queued for it), then closed after what was written.
        if self.on_dropped is not None:
            self.on_dropped(self.conn_id)
        close = {"type": RELAY_CLOSE, "conn_id": self.conn_id, "code": code, "reason": reason}
        self._closing = asyncio.get_running_loop().create_task(self._publish_close(close))

    async def _publish_close(self, close: dict[str, Any]) -> None:
        await self.outbox.stopped_writer()
        try:
            await self._send(close)
        except Exception:  # Redis away: the relaying process drops the socket when it sees us gone
            logger.debug("cluster: could not close %r", self, exc_info=True)

    def __repr__(self) -> str:
        return f"RemoteConnection({self.conn_id} via {self.relay_process})"


def _merged(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``messages`` in as few as their order allows: consecutive frames for the socket in one.

    A session changing 200 times a second costs Redis one publish per turn, not 200.
    """
    merged: list[dict[str, Any]] = []
    for message_out in messages:
        if message_out["type"] == RELAY_FRAMES and merged and merged[-1]["type"] == RELAY_FRAMES:
            merged[-1]["frames"].extend(message_out["frames"])
            merged[-1]["nbytes"] += message_out["nbytes"]
        elif message_out["type"] == RELAY_FRAMES:
            merged.append({**message_out, "frames": list(message_out["frames"])})
        else:
            merged.append(message_out)
    return merged


async def _load_user(user_id: str | None) -> Any:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import AnonymousUser

    if user_id is None:
        return AnonymousUser()
    model = get_user_model()
    return await database_sync_to_async(model.objects.filter(pk=user_id).first)() or AnonymousUser()


class _Inbox:
    """A relayed connection's messages waiting for its task, in order (one reader), and their bytes."""

    # Not an asyncio.Queue: its bookkeeping cost a dozen Python calls per relayed message.
    # Bounded by bytes: a local socket is not read while its session is busy (TCP holds the
    # rest back); the relaying process holds its client back when told (``want``), and a
    # message past the bound all the same closes its client (a relaying process that does
    # not wait).

    __slots__ = ("items", "max_bytes", "nbytes", "on_room", "taken", "waiter", "wanted")

    def __init__(self, max_bytes: int, on_room: Callable[[int], None]) -> None:
        self.items: deque[tuple[Any, int]] = deque()
        self.max_bytes = max_bytes
        self.nbytes = 0
        #: Bytes of messages taken out so far, and the size of a message the relaying
        #: process holds back until there is room for it (None: it holds none back).
        self.taken = 0
        self.wanted: int | None = None
        self.on_room = on_room
        self.waiter: asyncio.Future[None] | None = None

    def put(self, item: Any, size: int = 0) -> bool:
        """Queue ``item`` of ``size`` bytes; False (nothing queued) if it does not fit behind those waiting.

        One message is always taken when none waits, whatever its size.
        """
        if size and self.items and self.nbytes + size > self.max_bytes:  # the end (None, 0) always fits
            return False
        self.items.append((item, size))
        self.nbytes += size
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None
            if not waiter.done():
                waiter.set_result(None)
        return True

    def want(self, size: int) -> None:
        """The relaying process holds back a message of ``size`` bytes: say when it fits (now, if it does)."""
        self.wanted = size
        self._answer_if_room()

    def _answer_if_room(self) -> None:
        wanted = self.wanted
        if wanted is not None and (not self.items or self.nbytes + wanted <= self.max_bytes):
            self.wanted = None
            self.on_room(self.taken)

    async def get(self) -> Any:
        while not self.items:
            self.waiter = asyncio.get_running_loop().create_future()
            await self.waiter
        item, size = self.items.popleft()
        self.nbytes -= size
        self.taken += size
        if self.wanted is not None:
            self._answer_if_room()
        return item


def _client_of(message: dict[str, Any]) -> str | None:
    client = message.get("client")  # absent from an older release's relay: not counted
    return client if isinstance(client, str) and client else None


class RelayIn:
    """The relayed connections of the sessions this process owns."""

    def __init__(self, registry: SessionRegistry, layer: Any) -> None:
        self.registry = registry
        self.layer = layer
        self.remotes: dict[str, tuple[RemoteConnection, ServerSession, _Inbox]] = {}

    async def on_open(self, message: dict[str, Any], link: PeerLink | None = None) -> None:
        """Admit a websocket relayed from another process (on ``link``, if it came on a direct route)."""
        conn = RemoteConnection(
            self.layer, message["conn_id"], message["relay_channel"], message["relay_process"], message["origin"], link
        )
        conn.on_dropped = self._drop
        conn.client = _client_of(message)
        request_info = message.get("request_info") or {}
        request = {
            "arguments": message.get("args") or {},
            "headers": request_info.get("headers") or {},
            "cookies": request_info.get("cookies") or {},
            "user": await _load_user(message.get("user_id")),
            # Checked against the browser's by the relaying process (check_grant).
            "visitor": message.get("visitor"),
            "path": message["app"],
        }
        conn.user = request["user"]
        try:
            opened = await open_session(
                self.registry,
                app_path=message["app"],
                session_id=message["session_id"],
                request=request,
                token_expired=bool(message.get("token_expired")),
                settings=docsync_settings(),
                # The relaying process's client of the socket (counted there; the session and
                # the client's share of it here).
                client=conn.client,
            )
        except ConnectionClosingError as exc:
            conn.queue_close(exc.close_code, exc.reason, exc.detail)
            return
        session = opened.session
        conn.created_session = opened.created
        conn.may_push = opened.may_push
        queue = _Inbox(int(docsync_settings().MAX_QUEUED_BYTES), conn.queue_taken)
        self.remotes[conn.conn_id] = (conn, session, queue)
        # ACK first: attached, the session's patches could overtake it on the channel.
        conn.queue_message(ack())
        session.attach(conn)
        asyncio.get_running_loop().create_task(self._serve(conn, session, queue))

    def on_message(self, message: dict[str, Any]) -> None:
        """Queue a relayed message for its connection."""
        entry = self.remotes.get(message["conn_id"])
        if entry is None:
            return
        parts = message.get("message")
        item: Message | list[Any]
        if parts is not None:  # parsed by the relaying process (a direct route): not parsed again
            item, size = message_from_parts(parts), int(message["nbytes"])
        else:
            frames: list[Any] = message["frames"]
            # As the relaying process counts them (forward): no generator resumed per frame.
            item, size = frames, sum(map(len, frames))
        if not entry[2].put(item, size):
            entry[0].refuse_backlog(entry[2].nbytes)

    def on_waiting(self, message: dict[str, Any]) -> None:
        """The relaying process holds a message back: answer once its session has room for it."""
        entry = self.remotes.get(message["conn_id"])
        if entry is not None:  # else it was dropped, and its close is on the way
            entry[2].want(int(message["need"]))

    def on_closed(self, message: dict[str, Any]) -> None:
        """Detach a relayed websocket that closed."""
        self._drop(message["conn_id"])

    async def _serve(self, conn: RemoteConnection, session: ServerSession, queue: _Inbox) -> None:
        # One task per relayed connection keeps its messages in order without holding
        # up the process channel.
        receiver = relay_receiver()  # one per connection, not one per message
        dialect: Dialect | None = None  # likewise, looked up once: a session's kind never changes
        while True:
            item = await queue.get()
            if item is None:
                return
            try:
                message = item if type(item) is Message else message_from_frames(item, receiver)
                session.stats.messages_in += 1
                if dialect is None:
                    dialect = self.registry.dialect(session.app_path)
                await dialect.dispatch(session, conn, message, conn.created_session)
            except Exception:
                logger.exception("cluster: error serving a relayed message")

    def _drop(self, conn_id: str) -> None:
        entry = self.remotes.pop(conn_id, None)
        if entry is not None:
            conn, session, queue = entry
            session.detach(conn)
            queue.put(None)
            if not conn.outbox.overflowed:
                conn.outbox.stop()

    async def close_all(self, code: int, reason: str, patience: float) -> int:
        """Close every relayed connection (``patience`` s at most for the closes to leave), detach them; count them."""
        remotes = list(self.remotes.values())
        for conn, _session, _queue in remotes:
            conn.queue_close(code, reason)
        waits = [asyncio.ensure_future(conn.outbox.written()) for conn, _session, _queue in remotes]
        if waits:
            _, pending = await asyncio.wait(waits, timeout=patience)
            for wait in pending:
                wait.cancel()
        for conn, _session, _queue in remotes:
            self._drop(conn.conn_id)  # written (or given up on): nothing more goes to them
        return len(remotes)

    def link_lost(self, link: PeerLink) -> None:
        """Detach the relayed connections that came on a direct route that closed (nothing reaches them in order)."""
        for conn_id, (conn, _session, _queue) in list(self.remotes.items()):
            if conn.link is link:
                self._drop(conn_id)

    async def drop_dead_relayers(self, directory: Directory) -> None:
        """Detach relayed connections whose relaying process died."""
        for conn_id, (conn, _session, _queue) in list(self.remotes.items()):
            if await directory.process_channel(conn.relay_process) is None:
                self._drop(conn_id)
