"""RESUME-REPLY content: what a reconnecting client missed, or the whole document.

Pure helpers of the :class:`~docsync.sync.sequencer.Sequencer`, which decides between
a replay and a full reply (and moves the client's fence).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..document import DocumentLimits
from ..protocol import Message, new_message
from ..protocol.message import frame_nbytes
from ..protocol.msgtypes import RESUME_REPLY
from ..protocol.wire_json import dumps
from ..serialization import Buffer
from .encoded_documents import DOC, EncodedDocument, EncodedDocuments
from .patch_log import LogEntry, PatchLog
from .patches import FrozenMessage, defined_once

__all__ = ["MAX_PENDING", "KeptReplay", "fits", "full_reply", "pending_answers", "replay_reply"]

#: At most this many msgids in a RESUME-REQ's ``pending`` are looked up.
MAX_PENDING = 16


def full_reply(document: EncodedDocument, seq: int, incarnation: str, *, fresh: bool, **extra: Any) -> Message:
    """Build a full RESUME-REPLY: the whole (encoded) document at position ``seq``, and ``extra`` fields."""
    content = {"mode": "full", "fresh": fresh, "doc": DOC, "seq": seq, "incarnation": incarnation, **extra}
    return document.message(RESUME_REPLY, content)


def replay_reply(
    log: PatchLog, origin: str, last_seq: int, incarnation: str, origins: set[str] | None = None
) -> Message:
    """Build a replay RESUME-REPLY: the log's patches after ``last_seq``, without ``origin``'s own changes.

    ``origins``, when given, receives the origins of the changes after ``last_seq``.
    """
    patches = []
    buffers: list[Any] = []
    for entry in log.since(last_seq):
        if origins is not None:
            origins.update([e.origin for e in entry.events if e.origin is not None])
        # The client already holds its own changes: replaying them would apply them twice.
        events = [e for e in entry.events if e.origin is None or e.origin != origin]
        if not events:
            continue
        references = [r for e in events for r in e.references]
        if len(references) > 1:
            # Each model once, as the live PATCH-DOC of the position defines it: a client
            # refuses a patch defining one twice ("duplicate model id"; seed 2110444279).
            references = defined_once(references)
        patches.append({"events": [e.json for e in events], "references": references, "seq": entry.seq})
        buffers += [b for e in events for b in e.buffers]
    content = {"mode": "replay", "patches": patches, "seq": log.seq, "incarnation": incarnation}
    return new_message(RESUME_REPLY, content, buffers=buffers)


@dataclass(frozen=True, slots=True)
class _Replay:
    newest: LogEntry | None  # the log's newest entry when it was built: the log unchanged since
    last_seq: int
    incarnation: str
    origins: frozenset[str]  # of the changes it replays: their clients get their own
    content: dict[str, Any]
    text: str
    buffers: list[tuple[str, Buffer]]


class KeptReplay:
    """The last replay a session's resumes built, kept (within the process's bound) for the next client.

    After a network blip every client of a session resumes from about the same old
    position: each replay of a full log (1 MiB) was built and encoded again, 6 ms of the
    event loop per client. A client whose own changes are among those replayed gets its
    own (they are left out of it); any change to the log makes the next replay anew.
    """

    __slots__ = ("_bound", "_kept")

    def __init__(self, bound: EncodedDocuments | None) -> None:
        self._bound = bound
        self._kept: _Replay | None = None

    def reply(self, log: PatchLog, origin: str, last_seq: int, incarnation: str) -> Message:
        """The replay RESUME-REPLY for ``origin`` from ``last_seq`` (``replay_reply``'s), its frames built."""
        kept = self._kept
        if (
            kept is not None
            and kept.newest is log.newest
            and kept.last_seq == last_seq
            and kept.incarnation == incarnation
            and origin not in kept.origins
        ):
            if self._bound is not None:
                self._bound.used(self)
            return FrozenMessage(new_message(RESUME_REPLY, kept.content, buffers=kept.buffers), kept.text)
        origins: set[str] = set()
        reply = replay_reply(log, origin, last_seq, incarnation, origins)
        text = dumps(reply.content)
        if self._bound is not None and origin not in origins:
            replay = _Replay(log.newest, last_seq, incarnation, frozenset(origins), reply.content, text, reply.buffers)
            # As an encoded document counts: its JSON twice (the content and its text), its buffers.
            nbytes = 2 * len(text) + sum([frame_nbytes(data) for _, data in reply.buffers])
            if self._bound.keep(self, nbytes, self._drop):
                self._kept = replay
        return FrozenMessage(reply, text)

    def _drop(self) -> None:
        self._kept = None


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
