"""Dispatch one complete client message to its session (for local and relayed connections)."""

from __future__ import annotations

from collections.abc import Awaitable

from ... import __version__
from ...protocol import Message, VersionInfo, error, server_info_reply
from ...protocol.msgtypes import ACK, ERROR, OK, PATCH_DOC, PULL_DOC_REQ, PUSH_DOC, RESUME_REQ, SERVER_INFO_REQ
from ...sync.sequencer import MAX_CLIENT_ID, client_id_in
from .session import Connection, ServerSession

__all__ = ["client_id_refusal", "dispatch", "push_refusal", "take_client_id"]


def take_client_id(connection: Connection, message: Message) -> None:
    """Adopt the client id a PULL-DOC-REQ or RESUME-REQ names (it identifies the
    client's changes across reconnects)."""
    client_id = client_id_in(message)
    if client_id is not None:
        connection.origin = client_id


def client_id_refusal(message: Message) -> str | None:
    """Say why the ``client_id`` a PULL-DOC-REQ or RESUME-REQ names cannot be adopted, or None."""
    # Absent is fine (BokehJS-style clients name none); present, it must be one the server
    # adopts: one it dropped silently would leave the client believing its resent patches
    # are recognised (never applied twice) when they are not.
    if "client_id" not in message.content or client_id_in(message) is not None:
        return None
    value = message.content["client_id"]
    return f"client_id must be a string of 1 to {MAX_CLIENT_ID} characters, got {value!r:.80}"


def push_refusal(session: ServerSession, connection: Connection) -> str | None:
    """Say why ``connection`` may not push a document into ``session`` now, or None.

    A document may be pushed only by a client creating its session (the Python
    client's ``push_session``), as a user the app's ``"push"`` rule allows, before
    anything else changed the session or joined it.
    """
    if not getattr(connection, "may_push", False):
        return "only a client creating its session may push, and only where the application allows it"
    if not session.creating:
        return "the session is no longer being created (another connection joined, or it was changed)"
    return None


def dispatch(
    session: ServerSession, connection: Connection, message: Message, created_session: bool
) -> Awaitable[None]:
    """Handle one message from ``connection`` on ``session`` (await what it returns)."""
    if message.msgtype == PATCH_DOC:  # nearly every message: the session's own coroutine, none around it
        session.creating = False
        return session.patch(connection, message)
    return _dispatch_request(session, connection, message, created_session)


async def _dispatch_request(
    session: ServerSession, connection: Connection, message: Message, created_session: bool
) -> None:
    msgtype = message.msgtype
    if msgtype in (PULL_DOC_REQ, RESUME_REQ):
        refusal = client_id_refusal(message)
        if refusal is not None:
            connection.queue_message(error(message.msgid, refusal, "bad-request"))
            return
        if msgtype == PULL_DOC_REQ:
            take_client_id(connection, message)
            await session.pull(connection, message)
        else:  # adopted with the resume, not before: a refused one leaves the connection as it was
            await session.resume(connection, message, created_session)
    elif msgtype == PUSH_DOC:
        refusal = push_refusal(session, connection)
        if refusal is not None:
            connection.queue_message(error(message.msgid, f"PUSH-DOC not allowed: {refusal}", "push-not-allowed"))
            return
        await session.push(connection, message)  # a refused push leaves the session being created
    elif msgtype == SERVER_INFO_REQ:
        info: VersionInfo = {"docsync": __version__, "server": "docsync"}
        connection.queue_message(server_info_reply(message.msgid, info))
    elif msgtype in (ACK, OK, ERROR):
        return
    else:
        text = f"unexpected message type {msgtype!r}"
        connection.queue_message(error(message.msgid, text, "bad-request"))
