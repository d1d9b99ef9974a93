"""Between a live ServerSession and its Snapshot: take one (under the lock), restore from one.

The only module of this package that reads a session's sequencer (its log, answers,
fences and incarnation), so that a change of its shape is met here alone.
"""

from __future__ import annotations

import time
from typing import Any

from ...document.restore import match_models, restore_document
from ...exceptions import DeserializationError, SnapshotError
from ...sync.answers import Answer
from ..session import ServerSession
from .snapshot import Snapshot

__all__ = ["app_model_ids", "apply_snapshot", "take_snapshot"]


def user_id_of(user: Any) -> str | None:
    """The id a session's user is known by, as tokens bind it: the pk, or None for anonymous users."""
    return str(user.pk) if user is not None and getattr(user, "is_authenticated", False) else None


def app_model_ids(session: ServerSession) -> list[str]:
    """The ids of the models the application made, in order (read right after it made them)."""
    return list(session.document.models)


def take_snapshot(session: ServerSession, app_ids: list[str]) -> Snapshot:
    """Capture ``session`` now; call with its lock held (the buffers are copied here)."""
    sequencer = session.sequencer
    doc_json, buffers = session.document.to_json()
    answers = sequencer.log.answers
    remembered = [
        [origin, msgid, a.seq, a.rejected, list(a.error) if a.error else None, list(a.lost)]
        for (origin, msgid), a in answers.items()  # oldest first, as they are remembered
    ]
    return Snapshot(
        session_id=session.id,
        app_path=session.app_path,
        incarnation=sequencer.incarnation,
        seq=sequencer.log.seq,
        user_id=user_id_of(session.request.get("user")),
        created=session.created,
        saved=time.time(),
        doc=doc_json,
        # Copied under the lock: a stream or patch applied later must not change them.
        buffers=[(buffer_id, bytes(memoryview(buffer).cast("B"))) for buffer_id, buffer in buffers],
        app_ids=app_ids,
        fences=dict(sequencer.fences),
        answers=remembered,
        forgotten_seq=answers.forgotten_seq,
        client_models=sequencer.client_models,
    )


def apply_snapshot(session: ServerSession, snapshot: Snapshot, max_array_elements: int) -> list[str]:
    """Lay ``snapshot`` over ``session``, whose application just made its document (lock held).

    Returns the ids of the models the application made, in order, as they are now
    (the matched ones carry their saved ids). Raises SnapshotError, with the session
    unchanged, if the snapshot does not fit.
    """
    document = session.document
    made = list(document.models.values())
    if user_id_of(session.request.get("user")) != snapshot.user_id:
        raise SnapshotError("snapshot of a session made for another user")
    try:
        matches = match_models(document, snapshot.doc, snapshot.app_ids)
        restore_document(document, snapshot.doc, dict(snapshot.buffers), matches, max_array_elements=max_array_elements)
    except DeserializationError as exc:
        raise SnapshotError(f"snapshot does not fit the application: {exc}") from None
    # The session is the one its clients knew: same incarnation, same positions.
    sequencer = session.sequencer
    sequencer.incarnation = snapshot.incarnation
    session.created = snapshot.created
    sequencer.log.clear()
    sequencer.log.seq = snapshot.seq
    sequencer.client_models = snapshot.client_models
    sequencer.fences.update(snapshot.fences)
    answers = sequencer.log.answers
    for origin, msgid, seq, rejected, error, lost in snapshot.answers:
        answers.remember(origin, msgid, Answer(seq, rejected, tuple(error) if error else None, tuple(lost)))
    answers.forget_before(snapshot.forgotten_seq)
    session.creating = False
    session.model_count = len(document.models)
    return [model.id for model in made]
