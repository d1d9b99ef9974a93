"""Admission: who may open or join which session — one policy for every websocket.

A websocket is admitted in two steps, wherever it lands:

1. :func:`check_grant`, on the process holding the socket (it has the user's cookie):
   the token is valid, for this app, for this user (for an anonymous visitor, this
   browser: visitors.py), and the app's access rule allows the user.
2. :func:`open_session`, on the process that owns the session (the same one, or the
   owner a cluster relays to): an expired token may only rejoin a live session, a
   session takes at most ``MAX_CONNECTIONS_PER_SESSION`` connections, at most
   ``MAX_CONNECTIONS_PER_SESSION_PER_CLIENT`` of them one client's (local and relayed
   alike: the owner sees them all), a process at most
   ``MAX_SESSIONS``, a client at most ``MAX_SESSIONS_PER_CLIENT`` of them (its websockets,
   ``MAX_CONNECTIONS_PER_CLIENT``, are counted where they are held), and an application
   that fails makes no session (nor tries again at once: see ``failed_sessions``).

Every refusal is a :class:`~docsync.exceptions.ConnectionClosingError` carrying its close
code; the caller sends it (an ERROR, then the close).
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings as django_settings

from ...conf import Settings
from ...exceptions import (
    AccessRefusedError,
    ApplicationError,
    ConnectionClosingError,
    NoSuchApplicationError,
    ServerDrainingError,
    SnapshotError,
    StoreUnavailableError,
    TokenError,
    TooManyConnectionsError,
)
from ...handlers import Application
from ..executor import run_sync
from ..persistence import keeper_of
from ..registry import SessionRegistry
from ..session import ServerSession
from .access import check_access
from .tokens import SessionToken, read_token

__all__ = [
    "OpenedSession",
    "check_grant",
    "may_join",
    "may_join_stored",
    "open_session",
    "owner_of",
    "shareable",
    "user_id_of",
]

logger = logging.getLogger("docsync.server")

#: Rules that read only the user already loaded (no permission or callable lookups).
_RULES_WITHOUT_QUERIES = (None, "public", "login_required", "staff")


@dataclass(frozen=True, slots=True)
class OpenedSession:
    """A session a websocket was admitted to, whether it was made for it, and whether it may push."""

    session: ServerSession
    created: bool
    #: PUSH-DOC is allowed: the session was made for this connection and the app's
    #: ``"push"`` rule (an access rule; none by default) lets its user push.
    may_push: bool = False


def user_id_of(user: Any) -> str | None:
    """Return the id tokens bind to: the user's pk, or None for anonymous users."""
    return str(user.pk) if user is not None and getattr(user, "is_authenticated", False) else None


def owner_of(user: Any, visitor: str | None) -> tuple[str, str | None]:
    """Whom a session made (or joined) with ``user`` and ``visitor`` belongs to: the user, or else the visitor."""
    user_id = user_id_of(user)
    return ("user", user_id) if user_id is not None else ("visitor", visitor)


def shareable(context: Any) -> bool:
    """Tell whether users other than a session's own may join it: shared (room) apps, or ``"shareable": True``."""
    application = getattr(context, "application", None)
    options = getattr(context, "options", None) or {}
    return bool(getattr(application, "shared", False) or options.get("shared") or options.get("shareable"))


def may_join(session: Any, user: Any, context: Any, visitor: str | None = None) -> bool:
    """Tell whether ``user`` may join ``session``: its own user, or anyone when the app is shareable.

    Anonymous, its own visitor (``visitor``, the browser's id: visitors.py): every
    anonymous request is the same ``AnonymousUser``.
    """
    if shareable(context):
        return True
    request = session.request
    return owner_of(user, visitor) == owner_of(request.get("user"), request.get("visitor"))


def session_holder(session: Any) -> str | None:
    """Whom ``session`` belongs to, as a cluster's directory names it (JSON of :func:`owner_of`); None: unknown."""
    request = getattr(session, "request", None)
    if not isinstance(request, dict):
        return None  # a session of another dialect: its pages decide on their own
    return json.dumps(owner_of(request.get("user"), request.get("visitor")))


async def may_join_elsewhere(
    registry: SessionRegistry, context: Any, session_id: str, user_id: str | None, visitor: str | None
) -> bool:
    """Tell whether a page of ``user_id`` (anonymous: ``visitor``) may join ``session_id``, live in another process.

    Decided as :func:`may_join` decides on the process holding the session, from the
    holder the cluster's directory names (its user's pk, else its visitor): without it a
    page served by another process than the session's handed out a new session, so that
    behind a load balancer ``?session_id=`` joined only by chance. False when no cluster
    is configured, no live process holds the session, or Redis cannot be read.
    """
    cluster = registry.cluster
    if cluster is None:
        return False
    try:
        holder = await cluster.session_holder(session_id)
    except Exception as exc:
        logger.warning("%s: page naming session %s of another process not joined: %s", context.path, session_id, exc)
        return False
    if holder is None:
        return False
    if shareable(context):
        return True
    if user_id is None and visitor is None:
        return False  # a visitor with no id of its own yet owns no session
    return holder == json.dumps(owner_of(None, visitor) if user_id is None else ("user", user_id))


async def may_join_stored(
    registry: SessionRegistry, context: Any, session_id: str, user_id: str | None, visitor: str | None
) -> bool:
    """Tell whether a page of ``user_id`` (anonymous: ``visitor``) may join ``session_id``, held by no process here.

    Decided as :func:`may_join` decides for a live session, from the owner its snapshot
    names (the user's pk, else the visitor): a session its process did not outlive in
    memory is joined by whom it was joined by before. False when the store holds no
    snapshot of it, cannot be read, or its snapshot names no owner (written before
    visitors were saved): never a guess. Its websocket then restores it (or, in a
    cluster, is relayed to the process holding it), with the limits of any restore.
    """
    keeper = keeper_of(registry)
    if keeper is None or keeper.draining:
        return False
    if not shareable(context) and user_id is None and visitor is None:
        return False  # a visitor with no id of its own yet owns no stored session: no store read
    try:
        owner = await keeper.stored_owner(context, session_id)
    except (StoreUnavailableError, SnapshotError) as exc:
        logger.warning("%s: page naming stored session %s not joined: %s", context.path, session_id, exc)
        return False
    if owner is None:
        return False
    if shareable(context):
        return True
    if owner.user_id is not None or user_id is not None:
        return owner.user_id == user_id
    return owner.visitor is not None and owner.visitor == visitor


async def check_grant(
    registry: SessionRegistry,
    token_text: str,
    *,
    app_path: str,
    user: Any,
    settings: Settings,
    visitor: Callable[[], Awaitable[str | None]] | None = None,
) -> SessionToken:
    """Return the token's grant if it lets ``user`` open app ``app_path``; raise the refusal otherwise.

    ``visitor``: reads the websocket's visitor id (asked only for an anonymous token
    bound to a visitor the browser had shown: a fresh one stands alone, visitors.py).
    """
    token = read_token(token_text, max_age=float(settings.SESSION_TOKEN_REUSE))
    if token.app_path != app_path:
        raise TokenError("token is for another application")
    if token.user_id != user_id_of(user):
        raise TokenError("token belongs to another user or a closed login")
    bound_visitor = token.user_id is None and token.visitor is not None and not token.visitor_fresh
    # As for a user: the browser must show the visitor the token was made for (its signed
    # cookie, or the Django session a site's view saved it in: visitors.py).
    if bound_visitor and (visitor is None or await visitor() != token.visitor):
        raise TokenError("token belongs to another user or a closed login")
    if registry.get_context(app_path) is None:
        raise NoSuchApplicationError(f"no application at {app_path!r}")
    spec = registry.specs()[app_path]
    rule = spec.access if spec.access is not None else settings.ACCESS
    if not await _rule_allows(rule, user, app_path):
        raise AccessRefusedError("access denied")
    return token


async def _rule_allows(rule: Any, user: Any, app_path: str) -> bool:
    # Permission and callable rules may query the database: not on the event loop.
    try:
        if rule in _RULES_WITHOUT_QUERIES:
            return check_access(rule, user, app_path)
        return bool(await run_sync(check_access, rule, user, app_path))
    except Exception:
        logger.exception("access rule of %s failed", app_path)
        return False


async def open_session(
    registry: SessionRegistry,
    *,
    app_path: str,
    session_id: str,
    request: dict[str, Any],
    token_expired: bool,
    settings: Settings,
    client: str | None = None,
) -> OpenedSession:
    """Return the session a granted websocket joins, creating it if needed; raise the refusal otherwise.

    ``request``: what the session sees of its page request, with ``"user"`` and, for an
    anonymous visitor, ``"visitor"`` (its id, visitors.py): whom a new session belongs to.

    ``token_expired``: the token is older than ``SESSION_TOKEN_EXPIRATION``, so it may
    rejoin its live session but not create one.

    ``client``: whom a session made now counts against (``MAX_SESSIONS_PER_CLIENT``:
    server/clients.py; joining a live session takes none of it), and whose share of the
    session's connections this one is (``MAX_CONNECTIONS_PER_SESSION_PER_CLIENT``).
    """
    context = registry.get_context(app_path)
    if context is None:
        raise NoSuchApplicationError(f"no application at {app_path!r}")
    keeper = keeper_of(registry)
    if keeper is not None and keeper.draining:
        raise ServerDrainingError("server draining: connect again")
    session = context.get_session(session_id)
    if (
        session is None
        and token_expired
        and not (keeper is not None and await keeper.has_snapshot(context, session_id))
    ):
        raise TokenError("token expired")
    user, visitor = request.get("user"), request.get("visitor")
    if session is not None and not may_join(session, user, context, visitor):
        raise AccessRefusedError("session belongs to another user")
    if session is not None:
        _check_room(session, client, settings, registry.connection_refusals)
    created = session is None
    if created:
        refusal = context.failed_sessions.refusal(session_id)
        if refusal is not None:
            raise refusal  # backing off, or given up: the application is not run
    try:
        session = await registry.open_session(app_path, session_id, request, client=client)
    except ConnectionClosingError as exc:
        if not isinstance(exc, ApplicationError):
            raise  # a limit: its own code and reason
        raise _failed(context, session_id, exc) from exc
    except Exception as exc:
        raise _failed(context, session_id, exc) from exc
    context.failed_sessions.succeeded(session_id)
    if not may_join(session, user, context, visitor):
        raise AccessRefusedError("session belongs to another user")  # made by another user meanwhile
    created = created and session.request is request
    if created and registry.cluster is not None:
        await _announce(registry.cluster, session)
    if created and keeper is not None and keeper.restored(session):
        created = False  # made again from its snapshot: its clients resume it as they knew it
    spec = registry.specs().get(app_path)
    push_rule = spec.options.get("push") if spec is not None else None
    may_push = created and push_rule is not None and await _rule_allows(push_rule, user, app_path)
    # Again after the last await: connections that waited for the session's making (or for
    # the push rule) were not counted above, and the caller attaches with no await after this.
    _check_room(session, client, settings, registry.connection_refusals)
    return OpenedSession(session, created, may_push)


async def _announce(cluster: Any, session: ServerSession) -> None:
    """Tell the cluster whom ``session``, just made here, belongs to (pages of other processes join it by id)."""
    holder = session_holder(session)
    if holder is None:
        return
    try:
        await cluster.announce_holder(session.id, holder)
    except Exception:  # Redis away: the next heartbeat says it
        logger.warning("cluster: could not announce session %s; the next heartbeat will", session.id, exc_info=True)


def _check_room(session: ServerSession, client: str | None, settings: Settings, refused: dict[str, int]) -> None:
    """Raise the refusal when ``session`` takes no other connection, or none more of ``client``.

    Counted from the session's own connections (each knows its client): whatever ends a
    connection detaches it, and so gives its place back. A refusal is counted in
    ``refused`` by the setting's name (``/docsync-metrics``).
    """
    connections = session.connections
    if len(connections) >= settings.MAX_CONNECTIONS_PER_SESSION:
        refused["MAX_CONNECTIONS_PER_SESSION"] += 1
        raise TooManyConnectionsError("too many connections to this session")
    share = settings.MAX_CONNECTIONS_PER_SESSION_PER_CLIENT
    # Without a share one client (an anonymous tab holding a shared session's token) opened
    # all of its connections and every other tab and user was refused 4008.
    if client is None or share is None or len(connections) < share:
        return
    if sum(1 for connection in connections if connection.client == client) >= share:
        refused["MAX_CONNECTIONS_PER_SESSION_PER_CLIENT"] += 1
        raise TooManyConnectionsError(
            f"this client holds its maximum of {share} connections to this session "
            "(MAX_CONNECTIONS_PER_SESSION_PER_CLIENT)"
        )


def _failed(context: Any, session_id: str, exc: Exception) -> ApplicationError:
    logger.exception("application %s failed to create a session", context.path)
    context.failed_sessions.failed(session_id)
    return _application_error(exc, context.application)


def _application_error(exc: Exception, application: Application) -> ApplicationError:
    # What failed, its traceback and paths reach the client only while DEBUG is on.
    if not django_settings.DEBUG:
        return ApplicationError("application error")
    trace = "".join(traceback.format_exception(exc))
    if application.failed and application.error_detail:
        trace = application.error_detail  # where loading failed, not where it showed
    return ApplicationError(f"application error: {type(exc).__name__}: {exc}", detail=trace)
