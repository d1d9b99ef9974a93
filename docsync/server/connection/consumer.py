"""DocumentConsumer: the websocket of one browser tab, speaking the multi-frame protocol."""

from __future__ import annotations

import asyncio
import functools
import logging
import secrets
import time
import weakref
from collections.abc import Sequence
from typing import Any

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer

from ...conf import Settings, docsync_settings
from ...exceptions import (
    AccessRefusedError,
    ApplicationError,
    ConnectionClosingError,
    DirectoryUnavailableError,
    MessageTooBigError,
    ProtocolError,
    RateLimitedError,
    SlowReaderError,
)
from ...origins import scope_origin_allowed
from ...protocol import Message, Receiver, ack, error
from ...protocol.message import frame_nbytes
from ...protocol.msgtypes import PATCH_DOC, PULL_DOC_REQ, PUSH_DOC, RESUME_REQ
from ..admission import check_grant, open_session, user_id_of
from ..admission.tokens import SessionToken
from ..admission.visitors import socket_visitor
from ..clients import Slot, client_key, scope_address
from ..cluster import Cluster, ensure_cluster
from ..cluster.barrier import RefusalBarrier
from ..cluster.relay_out import Relay
from ..cluster.wire import frames_of
from ..compat import (
    FrameWriter,
    PartialInput,
    apply_process_workarounds,
    asgi_server_frame_limit,
    bound_incoming,
    bound_pongs,
    daphne_frames_writer_now,
    daphne_takes_views,
    forget_pending_task,
    frame_send,
    frames_writer,
    frames_writer_now,
    own_receive_loop,
    release_handshake_request,
    release_handshake_response,
    send_backpressure,
    slim_receive_queue,
    slim_writable,
    socket_closed,
    takes_views,
    transport_flow,
    watch_partial_input,
)
from ..dialects import DOCSYNC_KIND, Dialect
from ..incomplete import IncompleteInput
from ..message_rates import DOCUMENT_REQUESTS_LIMIT, FRAMES_LIMIT, MESSAGES_LIMIT, VALUES_LIMIT, ClientRate
from ..outbox import Outbox
from ..registry import SessionRegistry, get_registry
from ..session import ServerSession
from ..session.traffic import Traffic
from .rate import DOCUMENT_REQUESTS_PER_SECOND, RateLimiter

__all__ = ["SUBPROTOCOL", "DocumentConsumer", "close_abandoned_websockets"]

logger = logging.getLogger("docsync.server")

#: The requests that count against DOCUMENT_REQUESTS_PER_SECOND: each is answered with a
#: whole document (a pull, a resume), or replaces it (a push), or is answered (server info).
# Answered with a whole document, or replacing one: 10 a second (SERVER-INFO-REQ, a client's
# barrier after its patches, counts with them: its reply is a few bytes).
_REQUESTS = frozenset({PULL_DOC_REQ, RESUME_REQ, PUSH_DOC})

SUBPROTOCOL = "docsync"  # docsync's own apps; other kinds name theirs (dialects.py)

#: The bytes of UTF-8 a close frame holds for its reason (RFC 6455 5.5: 125 with the code).
MAX_CLOSE_REASON_BYTES = 123


def close_reason(reason: str) -> str:
    """``reason`` cut to the 123 bytes of UTF-8 a close frame holds, never inside a character."""
    # Cut by characters, a reason quoting a client's non-ASCII text passed the bound:
    # uvicorn then failed to send the close frame and dropped the connection (1006).
    # (A lone surrogate, which UTF-8 cannot carry, becomes "?".)
    return reason.encode("utf-8", "replace")[:MAX_CLOSE_REASON_BYTES].decode("utf-8", "ignore")


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


_reported_limits: set[int] = set()
#: The tasks running websockets of this process (see close_abandoned_websockets).
_running: weakref.WeakSet[asyncio.Task[Any]] = weakref.WeakSet()


def close_abandoned_websockets() -> int:
    """Close the coroutines of websockets the server left suspended when it stopped; return how many.

    daphne stops its event loop on SIGTERM with every websocket's application still
    awaiting its next message. Left alone, the interpreter closes those coroutines
    while it tears its modules down, and CPython 3.11 can crash there (SIGSEGV in
    ``asyncio.Queue.get``'s cleanup, formatting a repr whose type is half gone: see
    docs/upstream.md). Closed here, at exit, the modules are still whole.
    """
    closed = 0
    for task in list(_running):
        if task.done():
            continue
        forget_pending_task(task)  # its loop is gone: nothing can finish it now
        try:
            task.get_coro().close()
        except Exception:  # GeneratorExit handlers that need the (closed) loop; closed anyway
            logger.debug("closing an abandoned websocket", exc_info=True)
        closed += 1
    return closed


def _nothing_stalls() -> None:
    """The stall callback of a closed connection's incomplete input: there is nothing to drop."""


def _fit_server_limit(send: Any, max_frame_bytes: int, max_message_bytes: int) -> None:
    """Make the ASGI server accept what docsync accepts, or say once how to start it so.

    daphne's limit is raised to the message limit, not the frame limit: a frame a little
    too large then reaches docsync, which answers it with its documented ERROR and 1009
    (daphne would reset the connection mid-frame); what one connection may hold is
    bounded by ``MAX_MESSAGE_BYTES`` either way.
    """
    limit = asgi_server_frame_limit(send, max(max_frame_bytes, max_message_bytes))
    if limit is None or limit == 0 or limit >= max_frame_bytes or limit in _reported_limits:
        return
    _reported_limits.add(limit)
    logger.error(
        "the ASGI server refuses websocket messages over %d bytes, below DOCSYNC['MAX_FRAME_BYTES'] (%d): "
        "start uvicorn with --ws-max-size %d",
        limit,
        max_frame_bytes,
        max_frame_bytes,
    )


class DocumentConsumer(AsyncWebsocketConsumer):  # type: ignore[misc]  # channels ships no types
    """One websocket: authenticates its token, attaches to a session, relays messages."""

    # Slots: with its 31st attribute (may_push) a consumer's __dict__ outgrew CPython's
    # shared-key form and became a dict of its own, 1,584 bytes per websocket
    # (bench/budget.py --detail "docsync server" charged them to the line after the
    # 30th). Channels' classes give it a __dict__ still, left empty.
    __slots__ = (
        "_barrier",
        "_barrier_task",
        "_closing",
        "_relay_nbytes",
        "_relay_pending",
        "_send_frame",
        "_send_views",
        "_writable",
        "_write_frames",
        "app_path",
        "base_send",
        "channel_layer",
        "client",
        "client_limits",
        "client_rate",
        "client_slot",
        "cluster",
        "connected_at",
        "created_session",
        "dialect",
        "disconnected",
        "document_requests",
        "fence",
        "incomplete",
        "may_push",
        "origin",
        "outbox",
        "partial",
        "rate",
        "receiver",
        "refused",
        "relay",
        "remote",
        "scope",
        "session",
        "stats",
        "user",
        "user_agent",
    )

    session: ServerSession | None
    #: In a cluster, a socket whose session another process owns: its relay there.
    relay: Relay | None
    cluster: Cluster | None
    user: Any
    may_push: bool  # see admission.OpenedSession
    #: Whom this socket and a session it makes count against (server/clients.py), and its count.
    client: str | None
    client_slot: Slot | None
    #: Its client's message buckets on this process, shared by the client's websockets (server/message_rates.py).
    client_rate: ClientRate | None
    #: A relayed socket's frames of the message being received, forwarded as its client
    #: sent them (checked here, not decoded and encoded again); None on other sockets, and
    #: on a relayed one whose owner takes messages parsed (``PeerLink.parsed``): then only
    #: their bytes are counted (``_relay_nbytes``), and the message goes as parsed here.
    _relay_pending: list[str | bytes] | None
    _relay_nbytes: int
    # No per-consumer channel: relayed frames arrive through the process's cluster
    # channel, so a websocket never depends on the channel layer by itself.
    channel_layer_alias = "docsync-consumers-have-no-channel"
    #: No groups either; not None, so that Channels' __init__ makes no empty list per socket.
    groups: tuple[str, ...] = ()

    @classmethod
    def as_asgi(cls, **initkwargs: Any) -> Any:
        """Channels' ASGI app of this consumer, with the dependency workarounds applied first (once per process).

        ``DocsyncConfig.ready()`` applies them at start-up; here again, for a process that
        imported daphne after Django was set up (changes nothing otherwise).
        """
        apply_process_workarounds()
        return super().as_asgi(**initkwargs)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.session = None
        self.user = None
        self.may_push = False
        self.client = None
        self.client_slot = None
        self.client_rate = None
        self._relay_pending = None
        self._relay_nbytes = 0
        self.partial: PartialInput | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Handle ASGI messages one after another, straight from ``receive``.

        Channels' loop waits on the client and on the consumer's channel together, with
        a new task and an ``asyncio.wait`` per frame (~10% of the server's time under
        round trips); a consumer without a channel has only the client to wait on.
        """
        task = asyncio.current_task()
        if task is not None:
            _running.add(task)
        self._send_frame = frame_send(send)
        self._send_views = takes_views(self._send_frame)
        self._write_frames: FrameWriter | None = frames_writer(self._send_frame)
        # One frame with the loop below (not a coroutine of its own around it): a coroutine
        # held for the socket's life is ~0.5 KiB per session and a level on every resume.
        try:
            if not own_receive_loop():  # a Channels release the copy below was not checked against
                await super().__call__(scope, receive, send)
                return
            self.scope = scope
            self.channel_layer = None
            self.base_send = send
            # daphne reads on and queues whatever the client sends while this loop waits for a
            # busy session: past MAX_QUEUED_BYTES it stops reading (uvicorn does by itself).
            registry = get_registry()
            taken = bound_incoming(
                self._send_frame, int(docsync_settings().MAX_QUEUED_BYTES), registry.count_read_pause
            )
            try:
                while True:
                    message = await receive()
                    # Every frame: dispatch's first case, here, without a coroutine per frame.
                    if message["type"] == "websocket.receive":
                        if taken is not None:
                            taken()
                        text = message.get("text")
                        complete = self._take_frame(text if text is not None else (message.get("bytes") or b""))
                        # An idle socket waits below holding no last frame: the ASGI message, its
                        # text and the parsed message were ~0.6 KB per session (bench/budget.py).
                        del message, text
                        if complete is not None:
                            await self.handle(complete)
                            del complete
                        continue
                    await self.dispatch(message)
            except StopConsumer:
                pass
        finally:
            self._release_client_slot()  # whatever ended the socket (its disconnect may never run)
            session = getattr(self, "session", None)
            if session is not None:  # nor may it keep its place (and its client's share) in its session
                self.session = None
                session.detach(self)
            relay, cluster = getattr(self, "relay", None), getattr(self, "cluster", None)
            if relay is not None and cluster is not None:
                # Nor on its owner: a relayed socket cancelled before disconnect() kept its place
                # (and its client's share) in the owner's session until this process died.
                self.relay = None
                await cluster.relay_closed(relay)  # bounded (RelayOut.closed); no lock held here

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Run the handler of an ASGI message, without Channels' per-message DB cleanup.

        Channels closes stale database connections before every message, which costs a
        thread hop per frame. This consumer never touches the database on the event
        loop: user code runs in docsync's worker threads, which clean up around each
        call (access rules that query the database run there too).
        """
        if message["type"] == "websocket.receive":  # every frame: straight to receive
            text = message.get("text")
            frame: str | bytes = text if text is not None else (message.get("bytes") or b"")
            complete = self._take_frame(frame)
            if complete is not None:
                await self.handle(complete)
            return
        if message["type"] == "websocket.disconnect" and not self.groups:
            # Channels' handler closes stale database connections after disconnect(): a hop
            # to its shared thread per websocket, where this consumer has used none.
            await self.disconnect(message["code"])
            raise StopConsumer()
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"no handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        # daphne, wrapped at start-up (apply_process_workarounds), copies a view into its
        # frame itself: no copy into bytes first.
        self._send_views = self._send_views or daphne_takes_views(self._send_frame)
        settings = docsync_settings()
        _fit_server_limit(self._send_frame, int(settings.MAX_FRAME_BYTES), int(settings.MAX_MESSAGE_BYTES))
        # Everything this socket is sent, after the accept, goes through its outbox and
        # its one writer task: sessions queue under their lock and never wait for it.
        self._writable = send_backpressure(self._send_frame)
        # The server answers pings outside that flow control: a client pinging and never reading grew it.
        bound_pongs(self._send_frame)
        # Under uvicorn the outbox hands its frames straight to the writer that frames them.
        write = self._write_frames if self._writable is None and self._write_frames is not None else None
        # One bound method told both overflows (a share's with its cap): 64 bytes per connection less.
        overflowed = self._overflowed
        self.outbox = Outbox(
            write or self._write_message,
            max_bytes=int(settings.MAX_QUEUED_BYTES),
            on_overflow=overflowed,
            on_written=self._written,
            track=_running.add,
            # What waits is written by a callback when the server takes it at once (no task):
            # under daphne, a reply's small frames in one write to Twisted.
            write_now=(
                frames_writer_now(self._send_frame) if write is not None else daphne_frames_writer_now(self._send_frame)
            ),
            on_share_overflow=overflowed,
        )
        # What its transport still holds counts against its client's share too (below).
        self.outbox.flow = transport_flow(self._writable, write)
        self.session = None
        self.dialect: Dialect | None = None
        self.relay = None
        self.cluster = None
        #: A refusal waiting for the owner's answers, and the task that asked the owner (cluster/barrier.py).
        self._barrier: RefusalBarrier | None = None
        self._barrier_task: asyncio.Future[None] | None = None
        self.created_session = False
        self.refused = False
        self.disconnected = False
        self.origin = secrets.token_hex(8)
        self.fence = 0
        self.connected_at = time.time()
        self.remote = f"{(self.scope.get('client') or ['?'])[0]}"
        self.user_agent = _header(self.scope, b"user-agent") or ""
        self.stats = Traffic()
        self.receiver = Receiver(
            max_frame_bytes=settings.MAX_FRAME_BYTES,
            max_message_bytes=settings.MAX_MESSAGE_BYTES,
            max_buffers=settings.MAX_BUFFERS,
            max_containers=settings.MAX_FRAME_CONTAINERS,
            max_values=settings.MAX_FRAME_VALUES,
        )
        # What this connection's client accepts, when the server knows it: docsync's client
        # takes the server's own limits from its page (other dialects' clients set theirs).
        self.client_limits: Receiver | None = None
        self.incomplete = IncompleteInput(
            self.receiver,
            get_registry().incomplete_bytes,
            cap=int(settings.MAX_INCOMPLETE_BYTES),
            timeout=float(settings.INCOMPLETE_MESSAGE_TIMEOUT),
            on_stall=self._stalled,
        )
        self.rate = RateLimiter(float(settings.MAX_PATCHES_PER_SECOND))
        # A pull or a resume answers a 50-byte request with the whole document, encoded
        # under the session's lock: unlimited, a client could keep the process busy
        # encoding (12 ms for a 10 MB document) and sending for it. A client pulls once
        # per connection, and again only when a patch cannot be read.
        self.document_requests = RateLimiter(DOCUMENT_REQUESTS_PER_SECOND)
        self.app_path = str(self.scope["url_route"]["kwargs"]["app_path"]).strip("/")
        protocols = list(self.scope.get("subprotocols") or [])
        try:
            self.dialect = get_registry().dialect(self.app_path)
        except Exception as exc:  # a kind whose package is not installed
            logger.exception("application %s cannot be served", self.app_path)
            await self.accept()
            self.refuse(ApplicationError(f"application error: {type(exc).__name__}"))
            return
        if self.dialect.name == DOCSYNC_KIND:
            self.client_limits = self.receiver
        subprotocol = self.dialect.subprotocol
        if len(protocols) < 2 or protocols[0] != subprotocol:
            await self.accept()
            self.refuse(AccessRefusedError(f"missing token: use subprotocols [{subprotocol!r}, <token>]"))
            return
        await self.accept(subprotocol)
        release_handshake_response(self._send_frame)  # uvicorn keeps it for the websocket's life
        release_handshake_request(self._send_frame)  # websockets' parser does: 2.7 KB per websocket
        slim_writable(self._send_frame)  # uvicorn's flow-control asyncio.Event: 0.8 KB per websocket
        if own_receive_loop():  # its receive() is not awaited while it handles this connect
            slim_receive_queue(self._send_frame)  # uvicorn's asyncio.Queue: 3.3 KB per websocket
        try:
            # Counted until the socket closes (a refused one too, until then), where it is
            # held: a relayed socket counts here, not on the process owning its session.
            self.client = client_key(self.scope.get("user"), scope_address(self.scope))
            # Its incomplete messages count against its share too (MAX_INCOMPLETE_BYTES_PER_CLIENT).
            self.incomplete.count_for(self.client, settings.MAX_INCOMPLETE_BYTES_PER_CLIENT)
            # And so does what its ASGI server holds of a websocket message still being read
            # (its partial frame): 16 websockets each holding 60 MiB of one grew daphne by 901 MiB.
            self.partial = watch_partial_input(self._send_frame, self.incomplete)
            if self.partial is not None:
                self.incomplete.on_server_over = self._server_over
            # And what it is sent and does not read, against MAX_QUEUED_BYTES_PER_CLIENT (nothing is queued yet).
            self.outbox.share = get_registry().queued_shares.join(
                self.client, settings.MAX_QUEUED_BYTES_PER_CLIENT, self.outbox
            )
            self.client_slot = get_registry().clients.take(
                "connections", self.client, settings.MAX_CONNECTIONS_PER_CLIENT
            )
            if not scope_origin_allowed(self.scope):
                raise AccessRefusedError("origin not allowed")
            # Its client's buckets outlive its sockets: one empty refuses a new socket before
            # any session is made or joined (no app code runs), as its next message would be.
            self.client_rate = get_registry().client_rates.join(self.client, settings)
            if self.client_rate is not None:
                if self.client_rate.values is not None:  # each text frame's values, before it is parsed
                    self.receiver.charge_values = self._charge_values
                if self.client_rate.frames is not None and self.partial is not None:  # each read's frames
                    self.partial.on_frames = self._charge_frames
                get_registry().client_rates.check_open(self.client_rate)
            await self._open_session(protocols[1], settings)
        except ConnectionClosingError as exc:
            self.refuse(exc)

    async def _open_session(self, token_text: str, settings: Settings) -> None:
        registry = get_registry()
        user = self.scope.get("user")
        self.user = user  # session_context.user while this connection's changes are handled
        token = await check_grant(
            registry,
            token_text,
            app_path=self.app_path,
            user=user,
            settings=settings,
            visitor=lambda: socket_visitor(self.scope),
        )
        token_expired = token.age > float(settings.SESSION_TOKEN_EXPIRATION)
        context = registry.get_context(self.app_path)
        held_here = context is not None and context.get_session(token.session_id) is not None
        if not held_here and await self._relayed(registry, token, user, token_expired):
            return
        request = {
            "arguments": token.arguments,
            "headers": token.headers,
            "cookies": token.cookies,
            "user": user,
            "visitor": token.visitor,  # checked against this browser's by check_grant (or fresh)
            "path": self.app_path,
        }
        opened = await open_session(
            registry,
            app_path=self.app_path,
            session_id=token.session_id,
            request=request,
            token_expired=token_expired,
            settings=settings,
            client=self.client,
        )
        self.created_session = opened.created
        self.may_push = opened.may_push
        self.session = opened.session
        # ACK first: once attached, the session's patches could be queued before it.
        self.queue_message(ack())
        opened.session.attach(self)

    async def _relayed(self, registry: SessionRegistry, token: SessionToken, user: Any, token_expired: bool) -> bool:
        """In a cluster, relay to the owning process when it is not this one.

        Returns True when the connection was relayed.
        """
        try:
            cluster = await ensure_cluster(registry)
            if cluster is None:
                return False
            owner = await cluster.claim(token.session_id)
        except Exception as exc:
            logger.warning("cluster directory unavailable for a new session", exc_info=True)
            raise DirectoryUnavailableError("session directory unavailable; try again") from exc
        if owner == registry.process_id:
            return False
        try:
            relay = await cluster.open_relay(
                self,
                owner,
                session_id=token.session_id,
                app_path=self.app_path,
                origin=self.origin,
                user_id=user_id_of(user),
                visitor=token.visitor,
                client=self.client,
                arguments=token.arguments,
                request_info={"headers": token.headers, "cookies": token.cookies},
                token_expired=token_expired,
            )
        except Exception as exc:
            # Redis failing between the claim and the relay's opening: a retry, not a crash (1011).
            logger.warning("cluster: could not open a relay to %s", owner, exc_info=True)
            raise DirectoryUnavailableError("the process holding this session cannot be reached; try again") from exc
        if relay is None:
            raise DirectoryUnavailableError("the process holding this session is unavailable; try again")
        self.cluster, self.relay = cluster, relay
        # Frames kept only for an owner that would parse them again (the channel layer, an older release).
        self._relay_pending = None if relay.link is not None and relay.link.parsed else []
        return True

    def relay_frames(self, frames: list[Any], nbytes: int | None = None) -> None:
        """Queue the frames the owning process sent for this relayed websocket (``nbytes``: their total, if sent)."""
        barrier = self._barrier
        if barrier is not None:  # a refusal waits for the owner's answers (cluster/barrier.py)
            frames, answered = barrier.through(frames)
            if frames:
                self.outbox.put(frames, sum(frame_nbytes(f) for f in frames))
            if answered:
                self.close_with(barrier.code, barrier.reason, barrier.detail)
            return
        if nbytes is None:  # an owner that does not send the total (an older release)
            nbytes = sum(frame_nbytes(f) for f in frames)
        self.outbox.put(frames, nbytes)

    def refuse(self, exc: ConnectionClosingError | ProtocolError) -> None:
        """Report ``exc`` in an ERROR, then close with its close code.

        A relayed socket's ERROR and close wait until the owner answered what the client
        sent before (``RefusalBarrier``); what the client sends meanwhile is dropped.
        """
        detail = exc.detail if isinstance(exc, ConnectionClosingError) else None
        relay, cluster = self.relay, self.cluster
        if relay is None or cluster is None or self.refused or self._barrier is not None:
            self.close_with(exc.close_code, str(exc), detail)
            return
        self.refused = True
        barrier = self._barrier = RefusalBarrier(exc.close_code, str(exc), detail)
        # Sent by a task: a refusal may come from a timer (a stalled message). The consumer
        # takes no frame meanwhile (refused), so the barrier follows every earlier message.
        self._barrier_task = asyncio.ensure_future(self._send_barrier(cluster, relay, barrier))

    async def _send_barrier(self, cluster: Cluster, relay: Relay, barrier: RefusalBarrier) -> None:
        try:
            if self._relay_pending is None:  # its owner takes messages as parsed here
                await cluster.forward(relay, barrier.request, sum(barrier.request.sized_frames()[1]))
            else:
                await cluster.forward(relay, frames_of(barrier.request), None)
        except Exception as exc:  # Redis away: close now; the answers on their way are lost with the relay
            logger.warning("cluster: a relayed refusal could not reach the owner: %s", exc)
            if self._barrier is barrier:
                self.close_with(barrier.code, barrier.reason, barrier.detail)

    def close_told(self, code: int, reason: str) -> None:
        """Close with ``code`` after what is queued, which holds the ERROR naming ``reason`` (the relay's owner's)."""
        self.refused = True
        self.queue_close(code, reason)

    def close_with(self, code: int, reason: str, detail: str | None = None) -> None:
        """Queue an ERROR naming the reason (and ``detail``, if any), then a close with ``code``.

        The ERROR carries the reason because some servers (daphne) drop close reasons.
        Frames the client sent after the refused one are dropped unread: the client
        is told the connection is over, so nothing more of it may change the session.
        A refusal waiting for the owner's answers is superseded (its close comes first).
        """
        self._barrier = None
        self.refused = True
        message = error(None, reason, f"close-{code}")
        if detail is not None:
            message.content["detail"] = detail
        self.queue_message(message)
        self.queue_close(code, reason)

    def queue_close(self, code: int, reason: str = "") -> None:
        """Close with ``code`` once every message queued before is written."""
        self.outbox.then(functools.partial(self._close_now, code, close_reason(reason)))

    async def _close_now(self, code: int, reason: str) -> None:
        self.outbox.stop()  # nothing queued after a close is written
        await self.close(code=code, reason=reason)

    def _overflowed(self, queued: int, size: int, cap: int | None = None) -> None:
        """Close a socket whose client reads too slowly (its outbox is stopped already).

        With ``cap``: its client's sockets together hold their share (``queued``) of what
        waits for them (MAX_QUEUED_BYTES_PER_CLIENT); else this socket holds its own bound.
        """
        self.refused = True
        if cap is None:
            reason = f"client reads too slowly: {queued} bytes waiting, {size} more would pass {self.outbox.max_bytes}"
        else:
            get_registry().queued_shares.refused += 1
            reason = (
                f"client reads too slowly: {queued} bytes held, {size} more would pass {cap}"
                " (MAX_QUEUED_BYTES_PER_CLIENT)"
            )
        slow = SlowReaderError(reason)
        logger.info("%s: closing with %d: %s", self.app_path, slow.close_code, slow)
        if self.session is not None:
            # It gets nothing more: it resumes later with what it missed.
            self.session.detach(self)
            self.session = None
        self._closing = asyncio.get_running_loop().create_task(self._close_slow(slow))
        _running.add(self._closing)

    async def _close_slow(self, slow: SlowReaderError) -> None:
        # No ERROR first: the client is not reading. The message being written may be
        # cut off; the close follows what the ASGI server already holds.
        await self.outbox.stopped_writer()
        await self.close(code=slow.close_code, reason=close_reason(slow.reason))

    def _server_over(self, refusal: ConnectionClosingError) -> None:
        """Refuse a connection whose ASGI server's partial message passed a bound, dropping it and what follows."""
        if self.partial is not None:
            self.partial.mute()
        self.incomplete.clear()
        if not self.refused:
            logger.info("%s: %s", self.app_path, refusal)
            self.refuse(refusal)

    def _stalled(self) -> None:
        """Drop a message that made no progress for INCOMPLETE_MESSAGE_TIMEOUT, and its connection."""
        error = self.incomplete.stalled_error()
        if self.partial is not None and self.incomplete.server_held:  # stalled inside a frame
            self.partial.mute()
        self.incomplete.clear()
        if not self.refused:
            logger.info("%s: %s", self.app_path, error)
            self.refuse(error)

    def socket_closed(self) -> bool:
        """Whether this websocket's socket is closed: its client answered the close, or the connection dropped."""
        closed = socket_closed(self._send_frame)  # uvicorn's sansio reports its disconnect early
        return self.disconnected if closed is None else closed

    async def disconnect(self, code: int) -> None:
        self.disconnected = True
        outbox = getattr(self, "outbox", None)
        if outbox is not None:
            outbox.stop()
        incomplete = getattr(self, "incomplete", None)
        if incomplete is not None:
            incomplete.clear()
        if self.relay is not None and self.cluster is not None:
            await self.cluster.relay_closed(self.relay)
        self.relay = None
        if self.session is not None:
            self.session.detach(self)
            self.session = None
        self._release_client_slot()
        # Its outbox and incomplete input call back into it: dropped now, this consumer is
        # freed when its task ends, not when the collector next runs (bench/gc_per_visit.py).
        if outbox is not None:
            outbox.release()
        if incomplete is not None:
            incomplete.on_stall = _nothing_stalls

    def _release_client_slot(self) -> None:
        partial, self.partial = self.partial, None
        if partial is not None:  # what its ASGI server held goes with the socket
            partial.stop()
            self.incomplete.forget_server()
        slot, self.client_slot = self.client_slot, None
        if slot is not None:
            slot.release()
        rate, self.client_rate = self.client_rate, None
        if rate is not None:  # its buckets stay, as they are, for the client's next socket
            get_registry().client_rates.leave(rate)
        outbox = getattr(self, "outbox", None)
        share = outbox.share if outbox is not None else None
        if outbox is not None and share is not None:
            outbox.stop()  # gives back what it held (the socket is over)
            outbox.share = None
            get_registry().queued_shares.leave(share, outbox)

    def queue_message(self, message: Message) -> None:
        """Queue ``message`` for this socket's writer (never waits), unless its client could not accept it."""
        frames, sizes = message.sized_frames()
        total = sum(sizes)
        limits = self.client_limits
        # No frame is larger than the whole message: one within both size limits and
        # with few enough frames for its buffers (nearly every one) needs no closer look.
        if limits is None or (
            total <= limits.max_frame_bytes
            and total <= limits.max_message_bytes
            and len(frames) <= 3 + 2 * limits.max_buffers
        ):
            fault = None
        else:
            fault = limits.size_fault(frames, sizes)
        if fault is not None:
            # The client holds the server's own limits (the page hands them over): it
            # would drop the message and reconnect, forever. Say so on both sides.
            logger.error("%s: %s not sent: %s (see DOCSYNC's MAX_* settings)", self.app_path, message.msgtype, fault)
            self.refuse(MessageTooBigError(f"server message too large for the client: {fault}"))
            return
        self.outbox.put(frames, total)

    @property
    def queued_bytes(self) -> int:
        """Bytes queued for this socket and not written yet (the admin shows them)."""
        return self.outbox.pending_bytes

    async def _write_message(self, frames: list[Any]) -> None:
        """Write one or more messages' frames (the outbox hands over what waits, in order)."""
        if self._writable is not None:
            for frame in frames:
                await self._writable(frame_nbytes(frame))  # daphne: while its buffer is full (empty, for a large frame)
                await self._send_one(frame)
            return
        await self._write(frames)

    def _written(self, sizes: list[int]) -> None:
        # Counted here, per connection and per session (no helper: this runs per write).
        count = len(sizes)
        size = sizes[0] if count == 1 else sum(sizes)
        stats = self.stats
        stats.messages_out += count
        stats.bytes_out += size
        if self.session is not None:
            stats = self.session.stats
            stats.messages_out += count
            stats.bytes_out += size

    async def _write(self, frames: Sequence[str | bytes | bytearray | memoryview]) -> None:
        if not frames:
            return
        if self._write_frames is not None:
            await self._write_frames(frames)
            return
        for frame in frames:
            await self._send_one(frame)

    async def _send_one(self, frame: str | bytes | bytearray | memoryview) -> None:
        if isinstance(frame, str):
            await self._send_frame({"type": "websocket.send", "text": frame})
        elif self._send_views and isinstance(frame, memoryview):
            await self._send_frame({"type": "websocket.send", "bytes": frame})
        else:
            # ASGI carries bytes: a memoryview is copied once here, at the boundary.
            await self._send_frame({"type": "websocket.send", "bytes": bytes(frame)})

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        message = self._take_frame(text_data if text_data is not None else (bytes_data or b""))
        if message is not None:
            await self.handle(message)

    def _take_frame(self, frame: str | bytes) -> Message | None:
        """Take one frame in; return the message it completes (to handle), else None.

        Not a coroutine: most frames complete nothing, and need no await.
        """
        size = len(frame) if type(frame) is str and frame.isascii() else frame_nbytes(frame)
        self.stats.bytes_in += size  # per connection and per session, inline: every frame
        session = self.session
        if session is not None:
            session.stats.bytes_in += size
        if self.refused or (session is None and self.relay is None):
            return None
        try:
            message = self.incomplete.take(frame, size)  # admitted, received, counted and timed
        except (ProtocolError, ConnectionClosingError) as exc:
            self.incomplete.clear()
            if self._relay_pending:
                self._relay_pending = []
            self._relay_nbytes = 0
            self.refuse(exc)
            return None
        pending = self._relay_pending
        if pending is not None:
            pending.append(frame)
        elif session is None:  # relayed, parsed for its owner: its bytes are what flow control counts
            self._relay_nbytes += size
        if message is None:
            return None
        self.stats.messages_in += 1
        if session is not None:
            session.stats.messages_in += 1
        return message

    def may_reset(self) -> bool:
        """Take a reset (PUSH-DOC) from the document requests, the client's too; past them refuse the socket (4029)."""
        if self.refused:
            return False
        if not self.document_requests.allow():
            self.refuse(RateLimitedError("too many resets per second"))
            return False
        client_rate = self.client_rate
        if client_rate is not None and not client_rate.take_document_request(time.monotonic()):
            self._refuse_client(client_rate, DOCUMENT_REQUESTS_LIMIT)
            return False
        return True

    def _charge_values(self, frame: str) -> None:
        """Take a text frame's JSON values from its client's bucket; RateLimitedError past it (4029).

        Called by the receiver once the frame passed the frame limits, before it is parsed:
        a message's cost on the loop (parsed, checked, applied) grows with its values.
        """
        client_rate = self.client_rate
        if client_rate is not None and not client_rate.take_values(frame, time.monotonic()):
            get_registry().client_rates.count_refusal(VALUES_LIMIT)
            raise client_rate.refusal(VALUES_LIMIT)

    def _charge_frames(self, count: int) -> None:
        """Take one read's websocket frames from the client's bucket; past it drop the socket's input, refuse (4029).

        Told by the ASGI server's read (compat/partial_frames.py): each frame cost the
        event loop its parse there, before any message reaches this consumer.
        """
        client_rate = self.client_rate
        if client_rate is None or client_rate.take_frames(count, time.monotonic()):
            return
        if self.partial is not None:
            self.partial.mute()  # what follows is not parsed
        self.incomplete.clear()
        if not self.refused:
            self._refuse_client(client_rate, FRAMES_LIMIT)

    def _refuse_client(self, client_rate: ClientRate, setting: str) -> None:
        get_registry().client_rates.count_refusal(setting)
        self.refuse(client_rate.refusal(setting))

    async def handle(self, message: Message) -> None:
        """Dispatch one complete message (to the local session, or to the relay)."""
        msgtype = message.msgtype
        # Every client message counts against one of two rates (protocol.md §12, 4029):
        # unbounded, a client made its process answer SERVER-INFO-REQs, or read OKs it ignores,
        # as fast as it could send them. SERVER-INFO-REQ counts with the patches: clients send it
        # after their patches as a barrier (its reply says all before it was handled).
        # Each also against its client's bucket, which the client's other sockets, and its
        # earlier ones, took from too: reconnecting refilled the connection's, not this one.
        client_rate = self.client_rate
        if msgtype == PATCH_DOC:  # nearly every message: one comparison
            if not self.rate.allow():
                self.refuse(RateLimitedError("too many patches per second"))
                return
            if client_rate is not None and not client_rate.take_message(time.monotonic()):
                self._refuse_client(client_rate, MESSAGES_LIMIT)
                return
        elif msgtype in _REQUESTS:
            if not self.document_requests.allow():
                if msgtype in (PULL_DOC_REQ, RESUME_REQ):
                    self.refuse(RateLimitedError("too many document requests per second"))
                else:
                    self.refuse(RateLimitedError(f"too many requests per second ({msgtype})"))
                return
            if client_rate is not None and not client_rate.take_document_request(time.monotonic()):
                self._refuse_client(client_rate, DOCUMENT_REQUESTS_LIMIT)
                return
        elif not self.rate.allow():  # SERVER-INFO-REQ; ACK, OK, ERROR (ignored); what is answered bad-request
            self.refuse(RateLimitedError(f"too many messages per second ({msgtype})"))
            return
        elif client_rate is not None and not client_rate.take_message(time.monotonic()):
            self._refuse_client(client_rate, MESSAGES_LIMIT)
            return
        if self.relay is not None and self.cluster is not None:
            pending = self._relay_pending
            payload: list[str | bytes] | Message
            nbytes: int | None = None
            if pending is None:  # its owner takes it as parsed here (and its size)
                payload, nbytes, self._relay_nbytes = message, self._relay_nbytes, 0
            else:
                payload, self._relay_pending = pending or frames_of(message), []
            try:
                await self.cluster.forward(self.relay, payload, nbytes)
            except Exception as exc:  # Redis away: the client retries and resumes, no traceback
                logger.warning("cluster: a relayed message could not reach its owner: %s", exc)
                # The text protocol.md gives (as when the relay's opening fails): retry, and resume.
                self.refuse(DirectoryUnavailableError("the process holding this session cannot be reached; try again"))
            return
        if self.session is not None and self.dialect is not None:
            await self.dialect.dispatch(self.session, self, message, self.created_session)
