"""RESUME-REQ: send a reconnecting client only what it missed, or the whole document."""

from __future__ import annotations

from typing import Any

from ...protocol import Message, new_message
from ...protocol.message import frame_nbytes
from ...protocol.msgtypes import RESUME_REPLY
from .patches import FrozenMessage
from .session import Connection, ServerSession

__all__ = ["resume"]


def _full(session: ServerSession, fresh: bool) -> Message:
    doc_json, buffers = session.document.to_json()
    content = {
        "mode": "full",
        "fresh": fresh,
        "doc": doc_json,
        "seq": session.log.seq,
        "incarnation": session.incarnation,
    }
    return new_message(RESUME_REPLY, content, buffers=buffers)


def _replay(session: ServerSession, origin: str, last_seq: int) -> Message:
    patches = []
    buffers: list[Any] = []
    for entry in session.log.since(last_seq):
        # The client already holds its own changes: replaying them would apply them twice.
        events = [e for e in entry.events if e.origin is None or e.origin != origin]
        if not events:
            continue
        patches.append(
            {
                "events": [e.json for e in events],
                "references": [r for e in events for r in e.references],
                "seq": entry.seq,
            }
        )
        buffers.extend(b for e in events for b in e.buffers)
    content = {"mode": "replay", "patches": patches, "seq": session.log.seq, "incarnation": session.incarnation}
    return new_message(RESUME_REPLY, content, buffers=buffers)


def _fits(reply: Message, limits: Any) -> bool:
    """Tell whether a replay is no bigger than a full reply may be (clients accept those)."""
    if limits is None:
        return True
    frames = reply.to_frames()
    return bool(
        len(reply.buffers) <= limits.max_buffers
        and frame_nbytes(frames[2]) <= limits.max_json_bytes
        and sum(frame_nbytes(f) for f in frames) <= limits.max_document_bytes
    )


#: At most this many msgids in a RESUME-REQ's ``pending`` are looked up.
MAX_PENDING = 16


def _answers(session: ServerSession, origin: str, pending: Any) -> list[dict[str, Any]]:
    """How the patches the client still waits for were answered, for those that were."""
    if not isinstance(pending, list):
        return []
    answers: list[dict[str, Any]] = []
    for msgid in pending[:MAX_PENDING]:
        answer = session.log.answer(origin, msgid) if isinstance(msgid, str) else None
        if answer is None:
            continue
        if answer.error is not None:
            answers.append({"msgid": msgid, "error": answer.error[0], "code": answer.error[1]})
        else:
            answers.append({"msgid": msgid, "seq": answer.seq, "rejected": answer.rejected, "lost": list(answer.lost)})
    return answers


async def resume(session: ServerSession, connection: Connection, request: Message, created_session: bool) -> None:
    """Answer RESUME-REQ ``{"last_seq", "client_id", "incarnation"?, "pending"?}`` under the session lock."""
    last_seq = request.content.get("last_seq")
    known = request.content.get("incarnation")
    # A client that names another incarnation knew a session that no longer exists.
    fresh = created_session or (known is not None and known != session.incarnation)
    async with session.lock:
        # A client whose document was reset at a position it never received (the
        # PUSH-DOC went to the socket that died) must be reset now.
        reset_unseen = type(last_seq) is int and session.fences.get(connection.origin, 0) > last_seq
        if fresh or reset_unseen or type(last_seq) is not int or not session.log.reaches_back_to(last_seq):
            if fresh:
                # Its changes were made on a session that is gone, based at most on its
                # last position there: a position of its own after that one (sent to no
                # one, as a reset's) puts the fence after every base they can name.
                session.log.skip_past(last_seq if type(last_seq) is int and last_seq >= 0 else 0)
            reply = _full(session, fresh=fresh)
            # Changes the client made before this reset were wiped from its document:
            # if it resends them they must lose, so that the documents converge.
            session.set_fence(connection, session.log.seq)
        else:
            reply = _replay(session, connection.origin, last_seq)
            reply.header["reqid"] = request.msgid
            reply = FrozenMessage(reply)
            if not _fits(reply, session.limits):
                # Many patches (each with its buffers) can outgrow what a client accepts
                # in one message, where the document itself cannot: send the document.
                reply = _full(session, fresh=False)
                session.set_fence(connection, session.log.seq)
        if not fresh:
            # The patches the client sent and never saw answered: those the server saw
            # are answered here, by position, so that the client places its own changes
            # among the replayed ones (and does not send them again).
            answers = _answers(session, connection.origin, request.content.get("pending"))
            if answers:
                reply = new_message(reply.msgtype, {**reply.content, "answers": answers}, buffers=reply.buffers)
        reply.header["reqid"] = request.msgid
        await connection.send_message(reply)
