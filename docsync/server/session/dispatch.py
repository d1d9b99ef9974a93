"""Dispatch one complete client message to its session (for local and relayed connections)."""

from __future__ import annotations

from ... import __version__
from ...protocol import Message, VersionInfo, error, server_info_reply
from ...protocol.msgtypes import ACK, ERROR, OK, PATCH_DOC, PULL_DOC_REQ, PUSH_DOC, RESUME_REQ, SERVER_INFO_REQ
from .resume import resume
from .session import Connection, ServerSession

__all__ = ["dispatch", "take_client_id"]


def take_client_id(connection: Connection, message: Message) -> None:
    """Adopt the client id a PULL-DOC-REQ or RESUME-REQ names (it identifies the
    client's changes across reconnects)."""
    client_id = message.content.get("client_id")
    if isinstance(client_id, str) and 0 < len(client_id) <= 64:
        connection.origin = client_id


async def dispatch(session: ServerSession, connection: Connection, message: Message, created_session: bool) -> None:
    """Handle one message from ``connection`` on ``session``."""
    msgtype = message.msgtype
    if msgtype == PATCH_DOC:
        await session.patch(connection, message)
    elif msgtype == PULL_DOC_REQ:
        take_client_id(connection, message)
        await session.pull(connection, message)
    elif msgtype == RESUME_REQ:
        take_client_id(connection, message)
        await resume(session, connection, message, created_session)
    elif msgtype == PUSH_DOC:
        await session.push(connection, message)
    elif msgtype == SERVER_INFO_REQ:
        info: VersionInfo = {"docsync": __version__, "server": "docsync"}
        await connection.send_message(server_info_reply(message.msgid, info))
    elif msgtype in (ACK, OK, ERROR):
        return
    else:
        text = f"unexpected message type {msgtype!r}"
        await connection.send_message(error(message.msgid, text, "bad-request"))
