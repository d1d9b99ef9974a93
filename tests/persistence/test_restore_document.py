"""Laying a saved document over the one its application makes again: ids, values, callbacks kept."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

from docsync.document import Document
from docsync.document.models import Div, Slider
from docsync.document.restore import match_models, restore_document
from docsync.exceptions import DeserializationError, ValidationError
from docsync.server.persistence import Snapshot, decode_snapshot, encode_snapshot

from .apps import Notes, board


def by_id(doc_json: dict) -> dict:
    """Document JSON with its models by id (their order follows how the index was walked)."""
    return {**doc_json, "models": {m["id"]: m for m in doc_json["models"]}}


def made() -> tuple[Document, list[str]]:
    doc = Document()
    board(doc)
    return doc, list(doc.models)


def edited() -> tuple[dict, dict, list[str]]:
    """A board changed as a session would change it: the saved JSON, buffers, app ids."""
    doc, app_ids = made()
    slider = next(m for m in doc.models.values() if isinstance(m, Slider))
    slider.value = 7  # its callback sets echo and the array
    notes = doc.get_model_by_name("notes")
    notes.items.extend(["one", "two"])  # type: ignore[union-attr]
    doc.add_root(Div(text="added later", name="later"))
    doc_json, buffers = doc.to_json()
    return doc_json, {i: bytes(memoryview(b).cast("B")) for i, b in buffers}, app_ids


def test_the_restored_document_carries_the_saved_ids_and_values() -> None:
    saved, buffers, app_ids = edited()
    doc, _ = made()
    matches = match_models(doc, saved, app_ids)
    restore_document(doc, saved, buffers, matches, max_array_elements=1 << 20)
    again, again_buffers = doc.to_json()
    assert by_id(again) == by_id(saved)
    assert sorted(bytes(memoryview(b).cast("B")) for _, b in again_buffers) == sorted(buffers.values())
    assert doc.get_model_by_name("echo").text.startswith("value=7 ")  # type: ignore[union-attr]
    np.testing.assert_array_equal(doc.get_model_by_name("source").data["x"], np.arange(10) * 0.5)  # type: ignore[union-attr]


def test_the_application_callbacks_stay_wired_to_the_restored_models() -> None:
    saved, buffers, app_ids = edited()
    doc, _ = made()
    restore_document(doc, saved, buffers, match_models(doc, saved, app_ids), max_array_elements=1 << 20)
    slider = next(m for m in doc.models.values() if isinstance(m, Slider))
    assert slider.id in app_ids  # the unnamed slider, matched by creation order
    slider.value = 12
    assert doc.get_model_by_name("echo").text.startswith("value=12 ")  # type: ignore[union-attr]
    assert len(doc.get_model_by_name("source").data["x"]) == 15  # type: ignore[union-attr]


def test_restoring_reports_no_change_and_runs_no_callback() -> None:
    saved, buffers, app_ids = edited()
    doc, _ = made()
    events: list[object] = []
    doc.on_change(events.append)
    restore_document(doc, saved, buffers, match_models(doc, saved, app_ids), max_array_elements=1 << 20)
    assert events == []


def test_a_model_is_matched_by_its_name_without_its_order() -> None:
    saved, _buffers, _app_ids = edited()
    doc, _ = made()
    matches = match_models(doc, saved, [])  # no creation order known: names alone pair models
    named = {d["attributes"]["name"]: d["id"] for d in saved["models"] if d["attributes"].get("name")}
    assert {name: matches.get(saved_id) for name, saved_id in named.items() if name != "later"} == {
        "echo": doc.get_model_by_name("echo"),
        "notes": doc.get_model_by_name("notes"),
        "source": doc.get_model_by_name("source"),
    }
    assert not any(isinstance(model, Slider) for model in matches.values())


def test_an_application_that_changed_is_refused_and_the_document_left_as_it_was() -> None:
    saved, _buffers, app_ids = edited()
    doc = Document()
    doc.add_root(Div(text="another app"))  # where the board made a Column
    before = copy.deepcopy(doc.to_json()[0])
    with pytest.raises(DeserializationError, match="the application changed: it now makes a Div"):
        match_models(doc, saved, app_ids)
    assert doc.to_json()[0] == before


def test_a_bad_value_in_the_snapshot_changes_nothing() -> None:
    saved, buffers, app_ids = edited()
    broken = copy.deepcopy(saved)
    notes = next(d for d in broken["models"] if d["attributes"].get("name") == "notes")
    notes["attributes"]["items"] = [1, 2]  # not strings
    doc, _ = made()
    before = doc.to_json()[0]
    with pytest.raises(DeserializationError):
        restore_document(doc, broken, buffers, match_models(doc, broken, app_ids), max_array_elements=1 << 20)
    assert doc.to_json()[0] == before
    assert isinstance(doc.get_model_by_name("notes"), Notes)


def test_a_value_at_the_depth_bound_is_restored_from_a_snapshot_and_one_past_never_taken() -> None:
    # The application's value one level past the bound was taken: its snapshot then
    # failed to restore ("value nested deeper than 64 levels", the Decoder's), and the
    # session was lost with it. At the bound, the snapshot's binary form round-trips.
    def deep(levels: int) -> Any:
        value: Any = 1.5
        for _ in range(levels):
            value = [value]
        return value

    doc, app_ids = made()
    source = doc.get_model_by_name("source")
    with pytest.raises(ValidationError, match=r"^ColumnDataSource.data nested deeper than 64 JSON levels$"):
        source.data = {"x": [1.0], "s": [deep(63)]}  # type: ignore[union-attr]  # data, column, item: 65
    source.data = {"x": [1.0], "s": [deep(62)]}  # type: ignore[union-attr]
    saved, buffers = doc.to_json()
    snapshot = Snapshot(
        session_id="s1",
        app_path="board",
        incarnation="abc123",
        seq=1,
        user_id=None,
        created=1.5,
        saved=2.5,
        doc=saved,
        buffers=[(i, bytes(memoryview(b).cast("B"))) for i, b in buffers],
        app_ids=app_ids,
        fences={},
        answers=[],
        forgotten_seq=0,
        client_models=0,
    )
    read = decode_snapshot(encode_snapshot(snapshot, 1 << 20), app_path="board", session_id="s1", max_bytes=1 << 20)
    restored, _ = made()
    restore_document(
        restored, read.doc, dict(read.buffers), match_models(restored, read.doc, app_ids), max_array_elements=1 << 20
    )
    assert restored.get_model_by_name("source").data["s"] == [deep(62)]  # type: ignore[union-attr]
    assert by_id(restored.to_json()[0]) == by_id(saved)
