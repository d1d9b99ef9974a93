"""RESUME-REPLY content: what a reconnecting client missed, or the whole document.

Pure helpers of the :class:`~docsync.sync.sequencer.Sequencer`, which decides between
a replay and a full reply (and moves the client's fence).
"""

from __future__ import annotations

from typing import Any

from ..document import DocumentLimits
from ..protocol import Message, new_message
from ..protocol.message import frame_nbytes
from ..protocol.msgtypes import RESUME_REPLY
from .encoded_documents import EncodedDocument
from .patch_log import PatchLog

__all__ = ["MAX_PENDING", "fits", "full_reply", "pending_answers", "replay_reply"]

#: At most this many msgids in a RESUME-REQ's ``pending`` are looked up.
MAX_PENDING = 16


def full_reply(document: EncodedDocument, seq: int, incarnation: str, *, fresh: bool, **extra: Any) -> Message:
    """Build a full RESUME-REPLY: the whole (encoded) document at position ``seq``, and ``extra`` fields."""
    content = {"mode": "full", "fresh": fresh, "doc": document.json, "seq": seq, "incarnation": incarnation, **extra}
    return document.message(RESUME_REPLY, content)


def replay_reply(log: PatchLog, origin: str, last_seq: int, incarnation: str) -> Message:
    """Build a replay RESUME-REPLY: the log's patches after ``last_seq``, without ``origin``'s own changes."""
    patches = []
    buffers: list[Any] = []
    for entry in log.since(last_seq):
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
    content = {"mode": "replay", "patches": patches, "seq": log.seq, "incarnation": incarnation}
    return new_message(RESUME_REPLY, content, buffers=buffers)


def fits(reply: Message, limits: DocumentLimits | None) -> bool:
    """Tell whether a replay is no bigger than a full reply may be (clients accept those)."""
    if limits is None:
        return True
    frames = reply.to_frames()
    return (
        len(reply.buffers) <= limits.max_buffers
        and frame_nbytes(frames[2]) <= limits.max_json_bytes
        and sum(frame_nbytes(f) for f in frames) <= limits.max_document_bytes
    )


def pending_answers(log: PatchLog, origin: str, pending: Any) -> list[dict[str, Any]]:
    """How the patches the client still waits for were answered, for those that were."""
    if not isinstance(pending, list):
        return []
    answers: list[dict[str, Any]] = []
    for msgid in pending[:MAX_PENDING]:
        answer = log.answer(origin, msgid) if isinstance(msgid, str) else None
        if answer is None:
            continue
        if answer.error is not None:
            answers.append({"msgid": msgid, "error": answer.error[0], "code": answer.error[1]})
        else:
            answers.append({"msgid": msgid, "seq": answer.seq, "rejected": answer.rejected, "lost": list(answer.lost)})
    return answers
