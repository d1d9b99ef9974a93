"""DocumentConsumer: the websocket of one browser tab, speaking the multi-frame protocol."""

from __future__ import annotations

import logging
import secrets
import time
import traceback
from typing import Any
from urllib.parse import urlsplit

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.sessions import InstanceSessionWrapper
from django.conf import settings as django_settings
from django.http.request import validate_host

from ..conf import docsync_settings
from ..exceptions import ProtocolError
from ..protocol import Message, Receiver, ack, error
from ..protocol.message import frame_nbytes
from ..protocol.msgtypes import (
    PATCH_DOC,
)
from .access import check_access
from .context import SessionLimitError
from .daphne_close import allow_protocol_close_codes
from .executor import run_sync
from .rate import RateLimiter
from .registry import get_registry
from .relay import frames_of
from .tokens import TokenError, read_token

__all__ = ["CloseCode", "DocumentConsumer"]

logger = logging.getLogger("docsync.server")

SUBPROTOCOL = "docsync"  # docsync's own apps; other kinds name theirs (dialects.py)
#: Rules that read only the user already loaded (no permission or callable lookups).
_RULES_WITHOUT_QUERIES = (None, "public", "login_required", "staff")


class CloseCode:
    """Close codes the server uses, each sent with a reason (and an ERROR before it)."""

    PROTOCOL_ERROR = 1002
    POLICY = 1008  # token, origin, user or access refused
    TOO_BIG = 1009
    SERVER_ERROR = 1011  # the application failed
    TRY_AGAIN = 1013  # this process holds its maximum of sessions
    NO_SUCH_APP = 4004
    TOO_MANY_CONNECTIONS = 4008
    RATE_LIMITED = 4029


def origin_allowed(origin: str | None, host: str | None) -> bool:
    """Tell whether a websocket from ``origin`` may connect (same host, or allowed)."""
    if not origin:
        return True  # not a browser: tokens still guard the session
    parts = urlsplit(origin)
    origin_host = parts.netloc.lower()
    allowed = [h.lower() for h in docsync_settings().ALLOWED_ORIGINS]
    if "*" in allowed or origin_host in allowed:
        return True
    if host and origin_host == host.lower():
        return True
    hostname = parts.hostname or ""
    return bool(validate_host(hostname, list(django_settings.ALLOWED_HOSTS) or ["localhost", "127.0.0.1", "[::1]"]))


def frame_send(send: Any) -> Any:
    """The ASGI send under Channels' session wrappers, for websocket frames.

    A session wrapper reads its (lazy) session on every message to decide whether to
    save it, which only HTTP responses ever do; per frame that read was ~5% of the
    server's time under round trips. Frames skip it; accept and close still pass it.
    """
    wrapper = getattr(send, "__self__", None)
    if isinstance(wrapper, InstanceSessionWrapper) and callable(getattr(wrapper, "real_send", None)):
        return frame_send(wrapper.real_send)
    return send


#: ASGI servers whose websocket send copies a binary frame's payload before it returns,
#: so they take a memoryview safely (tests/server/test_uvicorn.py pulls 16 MB through one).
_SERVERS_TAKING_VIEWS = (
    "uvicorn.protocols.websockets.websockets_impl",
    "uvicorn.protocols.websockets.websockets_sansio_impl",
    "uvicorn.protocols.websockets.wsproto_impl",
)


def takes_views(send: Any) -> bool:
    """Tell whether ``send`` (the innermost ASGI send) accepts memoryviews as binary payloads.

    ASGI says bytes, so a buffer is copied into bytes at this boundary. Servers known to
    copy the payload into their frame anyway are handed the view, saving one copy of
    every array (a third of the server's time in a 16 MB pull).
    """
    owner = getattr(send, "__self__", None)
    return type(owner).__module__ in _SERVERS_TAKING_VIEWS


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


class DocumentConsumer(AsyncWebsocketConsumer):
    """One websocket: authenticates its token, attaches to a session, relays messages."""

    session: Any = None
    # No per-consumer channel: relayed frames arrive through the process's cluster
    # channel, so a websocket never depends on the channel layer by itself.
    channel_layer_alias = "docsync-consumers-have-no-channel"

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Handle ASGI messages one after another, straight from ``receive``.

        Channels' loop waits on the client and on the consumer's channel together, with
        a new task and an ``asyncio.wait`` per frame (~10% of the server's time under
        round trips); a consumer without a channel has only the client to wait on.
        """
        self.scope = scope
        self.channel_layer = None
        self.base_send = send
        self._send_frame = frame_send(send)
        self._send_views = takes_views(self._send_frame)
        try:
            while True:
                await self.dispatch(await receive())
        except StopConsumer:
            pass

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Run the handler of an ASGI message, without Channels' per-message DB cleanup.

        Channels closes stale database connections before every message, which costs a
        thread hop per frame. This consumer never touches the database on the event
        loop: user code runs in docsync's worker threads, which clean up around each
        call (access rules that query the database run there too).
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"no handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        allow_protocol_close_codes()
        settings = docsync_settings()
        self.session = None
        self.relay_owner: str | None = None
        self.refused = False
        self.origin = secrets.token_hex(8)
        self.fence = 0
        self.connected_at = time.time()
        self.remote = f"{(self.scope.get('client') or ['?'])[0]}"
        self.user_agent = _header(self.scope, b"user-agent") or ""
        self.stats = {"messages_in": 0, "messages_out": 0, "bytes_in": 0, "bytes_out": 0}
        self.receiver = Receiver(
            max_frame_bytes=settings.MAX_FRAME_BYTES,
            max_message_bytes=settings.MAX_MESSAGE_BYTES,
            max_buffers=settings.MAX_BUFFERS,
        )
        self.rate = RateLimiter(float(settings.MAX_PATCHES_PER_SECOND))
        self.app_path = str(self.scope["url_route"]["kwargs"]["app_path"]).strip("/")
        protocols = list(self.scope.get("subprotocols") or [])
        try:
            self.dialect = get_registry().dialect(self.app_path)
        except Exception as exc:  # a kind whose package is not installed
            logger.exception("application %s cannot be served", self.app_path)
            await self.accept()
            await self.refuse(CloseCode.SERVER_ERROR, f"application error: {type(exc).__name__}")
            return
        subprotocol = self.dialect.subprotocol
        if len(protocols) < 2 or protocols[0] != subprotocol:
            await self.accept()
            await self.refuse(CloseCode.POLICY, f"missing token: use subprotocols [{subprotocol!r}, <token>]")
            return
        await self.accept(subprotocol)
        if not origin_allowed(_header(self.scope, b"origin"), _header(self.scope, b"host")):
            await self.refuse(CloseCode.POLICY, "origin not allowed")
            return
        await self._open_session(protocols[1], settings)

    async def _open_session(self, token_text: str, settings: Any) -> None:
        registry = get_registry()
        try:
            token = read_token(token_text, max_age=float(settings.SESSION_TOKEN_REUSE))
        except TokenError as exc:
            await self.refuse(CloseCode.POLICY, str(exc))
            return
        if token.app_path != self.app_path:
            await self.refuse(CloseCode.POLICY, "token is for another application")
            return
        user = self.scope.get("user")
        user_id = str(user.pk) if user is not None and getattr(user, "is_authenticated", False) else None
        if token.user_id != user_id:
            await self.refuse(CloseCode.POLICY, "token belongs to another user or a closed login")
            return
        context = registry.get_context(self.app_path)
        if context is None:
            await self.refuse(CloseCode.NO_SUCH_APP, f"no application at {self.app_path!r}")
            return
        spec = registry.specs()[self.app_path]
        rule = spec.access if spec.access is not None else settings.ACCESS
        # Permission and callable rules may query the database: not on the event loop.
        try:
            if rule in _RULES_WITHOUT_QUERIES:
                allowed = check_access(rule, user, self.app_path)
            else:
                allowed = await run_sync(check_access, rule, user, self.app_path)
        except Exception:
            logger.exception("access rule of %s failed", self.app_path)
            allowed = False
        if not allowed:
            await self.refuse(CloseCode.POLICY, "access denied")
            return
        session = context.get_session(token.session_id)
        if session is None and await self._relayed(registry, token, user_id, settings):
            return
        if session is None and token.age > float(settings.SESSION_TOKEN_EXPIRATION):
            await self.refuse(CloseCode.POLICY, "token expired")
            return
        if session is not None and len(session.connections) >= settings.MAX_CONNECTIONS_PER_SESSION:
            await self.refuse(CloseCode.TOO_MANY_CONNECTIONS, "too many connections to this session")
            return
        self.created_session = session is None
        request = {"arguments": token.arguments, "user": user, "path": self.app_path}
        try:
            session = await registry.open_session(self.app_path, token.session_id, request)
        except SessionLimitError as exc:
            await self.refuse(CloseCode.TRY_AGAIN, str(exc))
            return
        except Exception as exc:
            logger.exception("application %s failed to create a session", self.app_path)
            # What failed, its traceback and paths reach the client only while DEBUG is on.
            if django_settings.DEBUG:
                trace = "".join(traceback.format_exception(exc))
                if context.application.failed and context.application.error_detail:
                    trace = context.application.error_detail  # where loading failed, not where it showed
                await self.refuse(CloseCode.SERVER_ERROR, f"application error: {type(exc).__name__}: {exc}", trace)
            else:
                await self.refuse(CloseCode.SERVER_ERROR, "application error")
            return
        self.session = session
        session.attach(self)
        await self.send_message(ack())

    async def _relayed(self, registry: Any, token: Any, user_id: str | None, settings: Any) -> bool:
        """In a cluster, relay to the owning process when it is not this one.

        Returns True when the connection was relayed or refused here.
        """
        try:
            cluster = await registry.ensure_cluster()
            if cluster is None:
                return False
            owner = await cluster.claim(token.session_id)
        except Exception:
            logger.warning("cluster directory unavailable for a new session", exc_info=True)
            await self.refuse(CloseCode.TRY_AGAIN, "session directory unavailable; try again")
            return True
        if owner == registry.process_id:
            return False
        if token.age > float(settings.SESSION_TOKEN_EXPIRATION):
            arguments = {**token.arguments, "__token_old__": ["1"]}
        else:
            arguments = token.arguments
        if not await cluster.open_relay(self, owner, token.session_id, user_id, arguments):
            await self.refuse(CloseCode.TRY_AGAIN, "the process holding this session is unavailable; try again")
        return True

    async def relay_frames(self, frames: list[Any]) -> None:
        """Write frames the owning process sent for this relayed websocket."""
        for frame in frames:
            await self._send_one(frame)
        self._count("messages_out", 1)
        self._count("bytes_out", sum(frame_nbytes(f) for f in frames))

    async def refuse(self, code: int, reason: str, detail: str | None = None) -> None:
        """Send an ERROR naming the reason (and ``detail``, if any), then close with ``code``.

        The ERROR carries the reason because some servers (daphne) drop close reasons.
        Frames the client sent after the refused one are dropped unread: the client
        is told the connection is over, so nothing more of it may change the session.
        """
        self.refused = True
        message = error(None, reason, f"close-{code}")
        if detail is not None:
            message.content["detail"] = detail
        try:
            await self.send_message(message)
        finally:
            await self.close(code=code, reason=reason[:120])

    async def disconnect(self, code: int) -> None:
        if self.relay_owner is not None:
            cluster = get_registry().cluster
            if cluster is not None:
                await cluster.relay_closed(self)
            self.relay_owner = None
        if self.session is not None:
            self.session.detach(self)
            self.session = None

    async def send_message(self, message: Message) -> None:
        """Send every frame of ``message``."""
        frames = message.to_frames()
        for frame in frames:
            await self._send_one(frame)
        size = sum(frame_nbytes(f) for f in frames)
        self._count("messages_out", 1)
        self._count("bytes_out", size)

    async def _send_one(self, frame: str | bytes | bytearray | memoryview) -> None:
        if isinstance(frame, str):
            await self._send_frame({"type": "websocket.send", "text": frame})
        elif self._send_views and isinstance(frame, memoryview):
            await self._send_frame({"type": "websocket.send", "bytes": frame})
        else:
            # ASGI carries bytes: a memoryview is copied once here, at the boundary.
            await self._send_frame({"type": "websocket.send", "bytes": bytes(frame)})

    def _count(self, name: str, amount: int) -> None:
        self.stats[name] += amount
        if self.session is not None:
            self.session.stats[name] += amount

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        frame: str | bytes = text_data if text_data is not None else (bytes_data or b"")
        self._count("bytes_in", frame_nbytes(frame))
        if self.refused or (self.session is None and self.relay_owner is None):
            return
        try:
            message = self.receiver.receive(frame)
        except ProtocolError as exc:
            text = str(exc)
            too_big = text.startswith(("frame too large", "message too large", "too many buffers"))
            await self.refuse(CloseCode.TOO_BIG if too_big else CloseCode.PROTOCOL_ERROR, text)
            return
        if message is None:
            return
        self._count("messages_in", 1)
        await self.handle(message)

    async def handle(self, message: Message) -> None:
        """Dispatch one complete message (to the local session, or to the relay)."""
        if message.msgtype == PATCH_DOC and not self.rate.allow():
            await self.refuse(CloseCode.RATE_LIMITED, "too many patches per second")
            return
        if self.relay_owner is not None:
            cluster = get_registry().cluster
            if cluster is not None:
                await cluster.forward(self, frames_of(message))
            return
        await self.dialect.dispatch(self.session, self, message, self.created_session)
