"""Between a live ServerSession and its Snapshot: take one (under the lock), restore from one.

The only module of this package that reads a session's sequencer (its log, answers,
fences and incarnation), so that a change of its shape is met here alone.
"""

from __future__ import annotations

import time
from typing import Any

from ...document import Document, Model
from ...document.restore import match_models, restore_document
from ...exceptions import DeserializationError, PatchError, SnapshotError
from ...serialization import Buffer
from ...sync.answers import Answer
from ..session import ServerSession
from .journal import Record, usable_records
from .snapshot import Snapshot

__all__ = ["app_model_ids", "app_model_names", "apply_snapshot", "take_snapshot", "user_id_of", "visitor_of"]


def user_id_of(user: Any) -> str | None:
    """The id a session's user is known by, as tokens bind it: the pk, or None for anonymous users."""
    return str(user.pk) if user is not None and getattr(user, "is_authenticated", False) else None


def visitor_of(request: dict[str, Any]) -> str | None:
    """The anonymous visitor a session made for ``request`` belongs to (None: a user's)."""
    visitor = request.get("visitor")
    return str(visitor) if visitor and user_id_of(request.get("user")) is None else None


def app_model_ids(session: ServerSession) -> list[str]:
    """The ids of the models the application made, in order (read right after it made them).

    Each is kept for its type (``Sequencer.app_types``): no client may define a model of
    another type under it, which the next restore would take for the application changed.
    """
    models = session.document.models
    session.sequencer.app_types = {model_id: model.__type_name__ for model_id, model in models.items()}
    return list(models)


def app_model_names(session: ServerSession) -> dict[str, str]:
    """The names the application gave its models, by id (read right after it made them, as ``app_model_ids``)."""
    models = list(session.document.models.values())
    return _names(models, [model.name for model in models])


def _names(models: list[Model], names: list[Any]) -> dict[str, str]:
    """``models``' ids with ``names`` (those they were made with), the named ones."""
    return {model.id: name for model, name in zip(models, names, strict=True) if type(name) is str}


def take_snapshot(
    session: ServerSession, app_ids: list[str], app_names: dict[str, str], request: dict[str, Any] | None
) -> Snapshot:
    """Capture ``session`` now; call with its lock held (the buffers are copied here).

    ``app_names``: the names its application's models were made with (``app_model_names``);
    ``request``: what it saves of the session's request (``saved_request``, read once).
    """
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
        visitor=visitor_of(session.request),
        request=request,
        created=session.created,
        saved=time.time(),
        doc=doc_json,
        # Copied under the lock: a stream or patch applied later must not change them.
        buffers=[(buffer_id, bytes(memoryview(buffer).cast("B"))) for buffer_id, buffer in buffers],
        app_ids=app_ids,
        app_names=app_names,
        fences=dict(sequencer.fences),
        answers=remembered,
        # Every id's forget point as one (conservative): a restored session tells no id apart by it.
        forgotten_seq=answers.floor,
        client_models=sequencer.client_models,
        journal=session.records,
    )


def _replayed(
    snapshot: Snapshot, later: list[Record], max_array_elements: int
) -> tuple[dict[str, Any], list[tuple[str, Buffer]]]:
    """The snapshot's document with the changes of ``later`` records applied, in order.

    Applied to a document of its own, with no callback: the records hold what the
    callbacks made of each change already.
    """
    if not any(entry.events for record in later for entry in record.entries):
        return snapshot.doc, snapshot.buffers
    try:
        document = Document.from_json(snapshot.doc, dict(snapshot.buffers), max_array_elements=max_array_elements)
        for record in later:
            for entry in record.entries:
                if not entry.events:
                    continue
                content = {
                    "events": [e.json for e in entry.events],
                    "references": [r for e in entry.events for r in e.references],
                }
                buffers = {i: b for e in entry.events for i, b in e.buffers}
                decoded = document.decode_patch(
                    content, buffers, max_array_elements=max_array_elements, skip_unknown=True, keep_known=True
                )
                document.apply_patch(decoded)
    except (DeserializationError, PatchError, ValueError, TypeError) as exc:
        raise SnapshotError(f"journal does not apply to its snapshot: {exc}") from None
    return document.to_json()


def apply_snapshot(
    session: ServerSession, snapshot: Snapshot, max_array_elements: int, *, any_user: bool = False
) -> tuple[list[str], dict[str, str]]:
    """Lay ``snapshot`` (and the journal records read with it) over ``session``, just made (lock held).

    Returns the ids of the models the application made, in order (the matched ones
    carry their saved ids), and the names it made them with, by those ids. Raises
    SnapshotError, with the session unchanged, if the snapshot does not fit, or was made
    for another user (``any_user``: a shareable app's, which any user may join, and so
    restore).
    """
    document = session.document
    made = list(document.models.values())
    built_names = [model.name for model in made]  # the saved values replace them
    if not any_user and user_id_of(session.request.get("user")) != snapshot.user_id:
        raise SnapshotError("snapshot of a session made for another user")
    records = usable_records(snapshot.records, snapshot.incarnation, snapshot.journal)
    later = [r for r in records if r.number > snapshot.journal]
    doc, buffers = _replayed(snapshot, later, max_array_elements)
    try:
        matches = match_models(document, doc, snapshot.app_ids, snapshot.app_names)
        restore_document(document, doc, dict(buffers), matches, max_array_elements=max_array_elements)
    except DeserializationError as exc:
        raise SnapshotError(f"snapshot does not fit the application: {exc}") from None
    # The session is the one its clients knew: same incarnation, same positions.
    sequencer = session.sequencer
    sequencer.incarnation = snapshot.incarnation
    session.created = snapshot.created
    log = sequencer.log
    log.clear()
    # The records are the log's tail (those before the snapshot too): a client resuming
    # from a position they hold is sent what it missed, not the whole document.
    for record in records:
        for entry in record.entries:
            if entry.seq > log.seq:
                log.seq = entry.seq - 1
                log.append(entry.events)
    log.seq = max(log.seq, snapshot.seq, *(r.seq for r in later))
    clients_defined = later[-1].client_models if later else snapshot.client_models
    sequencer.fences.update(snapshot.fences)
    answers = log.answers
    # First, so that every id the snapshot remembers starts at its point (``floor``: one for all).
    answers.forget_before(snapshot.forgotten_seq)
    for origin, msgid, seq, rejected, error, lost in snapshot.answers:
        answers.remember(origin, msgid, Answer(seq, rejected, tuple(error) if error else None, tuple(lost)))
    for record in later:
        if record.fences is not None:
            sequencer.fences.clear()
            sequencer.fences.update(record.fences)
        if record.answer is not None:
            origin, msgid, seq, rejected, error, lost = record.answer
            answers.remember(origin, msgid, Answer(seq, rejected, tuple(error) if error else None, tuple(lost)))
    session.creating = False
    session.model_count = len(document.models)
    # The next restore pairs these ids with the build's places, by type (``app_model_ids``).
    sequencer.app_types = {model.id: model.__type_name__ for model in made}
    if clients_defined:
        # Which models clients defined is not saved, only how many: those the application
        # did not build again are theirs (a model an app callback built later counts too).
        built = {model.id for model in made}
        sequencer.client_made.replace({i: m for i, m in document.models.items() if i not in built})
    return [model.id for model in made], _names(made, built_names)
