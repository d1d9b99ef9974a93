"""A restore after a callback renamed the application's named model and gave its name to another one.

``apps.renamed`` builds input ``a`` and an unnamed input, each with its own callback; a
slider's callback renames ``a`` to None and names the other ``a``. Matched by the names
the snapshot holds, the second came back running a's callback and the first none: the
snapshot now records the names the application built its models with (``app_names``),
and the restore matches by those. A snapshot of an earlier release (no ``app_names``: a
fixture that release wrote) is still restored by the names of now, as it was.

In memory, through the server's own pieces (``Sequencer``, ``ServerSession``,
``take_snapshot``, the binary form, ``apply_snapshot``); test_restore_matching.py does
it with a real server process killed and started again.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from docsync.document import Document
from docsync.document.models import TextInput
from docsync.exceptions import SnapshotError
from docsync.server.persistence import Snapshot, decode_snapshot, encode_snapshot
from docsync.server.persistence.capture import app_model_ids, app_model_names, apply_snapshot, take_snapshot
from docsync.server.persistence.snapshot import MAGIC, pack, unpack
from docsync.server.session.session import ServerSession
from docsync.sync.sequencer import Sequencer

from .apps import renamed

pytestmark = pytest.mark.asyncio

MAX = 1 << 20
#: Written by the release before ``app_names`` (commit abca4ce) for a session of ``apps.renamed``
#: whose slider's callback swapped the name (session "renamed-old" of "board_renamed").
OLD_SNAPSHOT = Path(__file__).parents[1] / "fixtures" / "persistence" / "renamed_before_app_names.snap"


def new_session(
    session_id: str = "s1", *, allow_client_structure: bool = False, max_client_models: int = 10
) -> ServerSession:
    """A session of ``apps.renamed`` as the server makes one: built, at position 0."""
    document = Document()
    sequencer = Sequencer(
        document,
        allow_client_structure=allow_client_structure,
        log_entries=100,
        log_bytes=MAX,
        max_client_models=max_client_models,
        max_array_elements=MAX,
        filling=True,
    )
    session = ServerSession(session_id, sequencer, app_path="board_renamed", request={})
    renamed(document)
    sequencer.flush()
    sequencer.restart()
    return session


def inputs(document: Document) -> tuple[TextInput, TextInput]:
    """The application's two inputs, in the order it built them (by their titles)."""
    (first,) = [m for m in document.models.values() if isinstance(m, TextInput) and m.title == "first"]
    (second,) = [m for m in document.models.values() if isinstance(m, TextInput) and m.title == "second"]
    return first, second


def runs(document: Document, model: TextInput) -> str:
    """Whose callback ``model`` runs: what the echo says once its value is set ('' for none)."""
    echo = document.get_model_by_name("echo")
    echo.text = ""  # type: ignore[union-attr]
    model.value = f"{model.value}!"
    return str(echo.text).split(" saw ")[0]  # type: ignore[union-attr]


def through_binary_form(snapshot: Snapshot) -> Snapshot:
    return decode_snapshot(encode_snapshot(snapshot, MAX), app_path="board_renamed", session_id="s1", max_bytes=MAX)


async def test_the_model_a_callback_renamed_and_the_one_it_gave_the_name_to_keep_their_own_callbacks() -> None:
    session = new_session()
    app_ids, app_names = app_model_ids(session), app_model_names(session)
    first, second = inputs(session.document)
    echo, renames = (session.document.get_model_by_name(name) for name in ("echo", "renames"))
    assert app_names == {first.id: "a", echo.id: "echo", renames.id: "renames"}  # type: ignore[union-attr]
    renames.value = 1  # type: ignore[union-attr]
    assert (first.name, second.name) == (None, "a")
    stored = through_binary_form(take_snapshot(session, app_ids, app_names, None))
    assert stored.app_names == app_names

    restored = new_session()
    ids, names = apply_snapshot(restored, stored, MAX)
    new_first, new_second = inputs(restored.document)
    assert (new_first.id, new_second.id) == (first.id, second.id)
    assert (new_first.name, new_second.name) == (None, "a")
    assert runs(restored.document, new_second) == "second's"  # ran a's before
    assert runs(restored.document, new_first) == "first's"  # ran none before
    assert ids == app_ids  # each built model under its own saved id
    # The next snapshot records the build's names again, by the ids the models keep.
    assert names == app_names


async def test_a_snapshot_of_the_release_before_is_restored_by_the_names_of_now_as_it_was() -> None:
    data = OLD_SNAPSHOT.read_bytes()
    header, _ = unpack(data, MAGIC, "snapshot")
    assert "app_names" not in header and header["version"] == 1
    stored = decode_snapshot(data, app_path="board_renamed", session_id="renamed-old", max_bytes=MAX)
    assert stored.app_names is None

    restored = new_session("renamed-old")
    ids, names = apply_snapshot(restored, stored, MAX)
    doc_json, _ = restored.document.to_json()
    assert {m["id"]: m for m in doc_json["models"]} == {m["id"]: m for m in header["doc"]["models"]}
    # Matched as before: the input named "a" now takes a's callbacks, the renamed one none.
    document = restored.document
    now_a, echo, renames = (document.get_model_by_name(name) for name in ("a", "echo", "renames"))
    (unnamed,) = [m for m in document.models.values() if isinstance(m, TextInput) and m.name is None]
    assert runs(document, now_a) == "first's"  # type: ignore[arg-type]
    assert runs(document, unnamed) == ""
    # Its next snapshot records the names this build made its models with, by their ids.
    assert names == {now_a.id: "a", echo.id: "echo", renames.id: "renames"}  # type: ignore[union-attr]
    assert set(ids) >= set(names)


async def test_the_build_names_count_against_max_snapshot_bytes_and_bad_ones_are_refused() -> None:
    session = new_session()
    app_ids = app_model_ids(session)
    long_names = {app_ids[0]: "n" * 1000}
    snapshot = take_snapshot(session, app_ids, long_names, None)
    with_names = encode_snapshot(snapshot, MAX)
    assert len(with_names) >= len(encode_snapshot(dataclasses.replace(snapshot, app_names={}), MAX)) + 1000
    with pytest.raises(SnapshotError, match="MAX_SNAPSHOT_BYTES"):
        encode_snapshot(snapshot, len(with_names) - 1)
    bad: object
    for bad in ([], {app_ids[0]: 7}, "a"):
        header, _ = unpack(with_names, MAGIC, "snapshot")
        header["app_names"] = bad
        data = pack(MAGIC, json.dumps(header).encode(), [], MAX, "snapshot")
        with pytest.raises(SnapshotError, match="corrupt snapshot: bad app_names"):
            decode_snapshot(data, app_path="board_renamed", session_id="s1", max_bytes=MAX)
