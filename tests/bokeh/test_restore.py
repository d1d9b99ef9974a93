"""A Bokeh session's snapshot and journal, read back and laid over the document the app builds again.

No server here: documents built by a function as a Bokeh app would build them, their
snapshot's binary form, the journal's records, and the matching of models (by name,
then build order) that ``docsync.bokeh.restore`` does.
"""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
import orjson
import pytest

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")

from bokeh.document import Document
from bokeh.layouts import column
from bokeh.models import ColumnDataSource, CustomJS, Div, Paragraph, Slider
from bokeh.plotting import figure

from docsync.bokeh.compat import advance_simple_ids
from docsync.bokeh.datetime_columns import datetime_columns
from docsync.bokeh.persistence import (
    SNAPSHOT_MAGIC,
    BokehKeeper,
    BokehRecord,
    BokehSnapshot,
    decode_bokeh_record,
    decode_bokeh_snapshot,
    replayed_document,
)
from docsync.bokeh.restore import build_names, build_order, restore_document
from docsync.bokeh.wire import document_content, encode_event
from docsync.exceptions import SnapshotError
from docsync.server.persistence.snapshot import pack, unpack

MAX = 64 * 2**20


def build(*, names: bool = True, swap: bool = False, text_type: type = Div) -> tuple[Document, list[Any]]:
    """An app's build: two sliders, a plot of a source, a text; the sliders' callback reshapes the source."""
    document = Document()
    source = ColumnDataSource(data={"x": [0.0, 1.0, 2.0], "y": [0.0, 0.0, 0.0]}, name="source" if names else None)
    low = Slider(start=0, end=10, value=1, step=1, title="low", name="low" if names else None)
    high = Slider(start=0, end=10, value=5, step=1, title="high", name="high" if names else None)
    plot = figure(width=200, height=200)
    line = plot.line("x", "y", source=source)
    text = text_type(text="start")
    calls: list[Any] = []

    def reshape(attr: str, old: Any, new: Any) -> None:
        calls.append((attr, old, new))
        source.data = {"x": [0.0, 1.0, 2.0], "y": [low.value, high.value, low.value + high.value]}

    low.on_change("value", reshape)
    high.on_change("value", reshape)
    sliders = [high, low] if swap else [low, high]
    document.add_root(column(*sliders, plot, text))
    return document, [calls, low, high, line, text, source]


def snapshot_of(document: Document, app_ids: list[str], **fields: Any) -> BokehSnapshot:
    """The snapshot of ``document`` as a session takes it, through its binary form."""
    doc, buffers = document_content(document)
    snapshot = BokehSnapshot(
        session_id=fields.get("session_id", "s1"),
        app_path="app",
        incarnation="i1",
        seq=3,
        user_id=None,
        created=1.0,
        saved=2.0,
        doc=doc,
        buffers=[(i, bytes(b)) for i, b in buffers],
        app_ids=app_ids,
        app_names=fields.get("app_names"),
        client_code=fields.get("client_code", []),
        client_created=fields.get("client_created", 0),
        journal=fields.get("journal", 0),
        datetimes=datetime_columns(document.models, with_none=False),
    )
    return decode_bokeh_snapshot(snapshot.encode(MAX), app_path="app", session_id="s1", max_bytes=MAX)


def first_session() -> tuple[Document, list[Any], list[str]]:
    document, parts = build()
    return document, parts, [m.id for m in build_order(document)]


def test_saved_values_land_on_the_new_build_whose_callbacks_stay_wired_and_silent() -> None:
    document, (calls, low, _high, line, _, source), app_ids = first_session()
    low.value = 3  # the app's callback reshapes the source: both are saved
    line.glyph.line_color = "red"  # an unnamed model: matched by build order
    assert calls and list(source.data["y"]) == [3, 5, 8]
    snapshot = snapshot_of(document, app_ids)

    again, (new_calls, new_low, _, new_line, _, new_source) = build()
    matches, exact = restore_document(again, replayed_document(snapshot), snapshot.app_ids)

    assert new_low.value == 3 and list(new_source.data["y"]) == [3, 5, 8]
    assert new_line.glyph.line_color == "red"
    assert new_calls == []  # nothing ran while the saved state was laid over the build
    assert matches[low.id] is new_low and len(matches) == len(app_ids)
    # The new build keeps its own objects, under the saved ids (the journal names models
    # by them), and its callbacks run.
    assert exact and again.get_model_by_id(low.id) is new_low and new_low.id == low.id
    assert {m.id for m in again.models} == {m.id for m in document.models}
    new_low.value = 4
    assert new_calls == [("value", 3, 4)] and list(new_source.data["y"]) == [4, 5, 9]


def test_named_models_are_matched_by_name_even_when_the_build_order_changed() -> None:
    document, (_, low, high, *_), app_ids = first_session()
    low.value, high.value = 2, 7
    snapshot = snapshot_of(document, app_ids)

    again, (_, new_low, new_high, *_) = build(swap=True)  # the sliders come in the other order
    restore_document(again, replayed_document(snapshot), snapshot.app_ids)
    assert (new_low.value, new_high.value) == (2, 7)


def renaming_build() -> tuple[Document, tuple[Div, Div], list[str]]:
    """Div 'a' and an unnamed Div, each with a callback that logs whose it is (in ``fired``)."""
    document = Document()
    named, unnamed = Div(text="a", name="a"), Div(text="second")
    fired: list[str] = []
    named.on_change("text", lambda attr, old, new: fired.append("a's"))
    unnamed.on_change("text", lambda attr, old, new: fired.append("second's"))
    document.add_root(column(named, unnamed))
    return document, (named, unnamed), fired


def _runs(model: Div, fired: list[str]) -> list[str]:
    fired.clear()
    model.text = f"{model.text}!"
    return list(fired)


def test_a_model_renamed_by_a_callback_keeps_its_callbacks_and_its_name_gives_none_to_another() -> None:
    # The callback renamed the app's Div 'a' to None and gave 'a' to the unnamed Div: matched
    # by the names of now, the second ran a's callback and the first none.
    document, (named, unnamed), _ = renaming_build()
    built = build_order(document)
    app_ids = [m.id for m in built]
    app_names = build_names(built, [m.name for m in built])
    assert app_names == {named.id: "a"}
    named.name, unnamed.name = None, "a"
    snapshot = snapshot_of(document, app_ids, app_names=app_names)
    assert snapshot.app_names == {named.id: "a"}  # through the binary form

    again, (new_named, new_unnamed), fired = renaming_build()
    restored = BokehKeeper(None).restore(again, snapshot, {})  # type: ignore[arg-type]
    assert restored.exact and (new_named.id, new_unnamed.id) == (named.id, unnamed.id)
    assert (new_named.name, new_unnamed.name) == (None, "a")
    assert _runs(new_named, fired) == ["a's"] and _runs(new_unnamed, fired) == ["second's"]


def test_a_snapshot_without_the_build_names_matches_by_the_names_of_now_as_before() -> None:
    # An earlier release's snapshot (no ``app_names`` in its header): restored as it was.
    document, (named, unnamed), _ = renaming_build()
    app_ids = [m.id for m in build_order(document)]
    named.name, unnamed.name = None, "a"
    snapshot = snapshot_of(document, app_ids)
    assert snapshot.app_names is None and b"app_names" not in snapshot_bytes(document, app_ids)

    again, (new_named, new_unnamed), fired = renaming_build()
    restored = BokehKeeper(None).restore(again, snapshot, {})  # type: ignore[arg-type]
    assert restored.exact and {m.id for m in again.models} == {m.id for m in document.models}
    assert new_named.id == unnamed.id and new_named.name == "a"  # paired by the name it has now
    assert _runs(new_named, fired) == ["a's"]
    assert all(model is not new_unnamed for model in again.models)  # the saved one, adopted: no callback
    assert _runs(again.get_model_by_id(named.id), fired) == []  # type: ignore[arg-type]


def snapshot_bytes(document: Document, app_ids: list[str], **fields: Any) -> bytes:
    """A snapshot's binary form, as ``snapshot_of`` writes it."""
    return BokehSnapshot(**_fields(document, app_ids), app_names=fields.get("app_names")).encode(MAX)


def test_the_build_names_count_against_max_snapshot_bytes_and_bad_ones_are_refused() -> None:
    document, (named, _), _ = renaming_build()
    app_ids = [m.id for m in build_order(document)]
    long_names = {named.id: "n" * 1000}
    size = len(snapshot_bytes(document, app_ids, app_names=long_names))
    assert size >= len(snapshot_bytes(document, app_ids)) + 1000
    with pytest.raises(SnapshotError, match="MAX_SNAPSHOT_BYTES"):
        BokehSnapshot(**_fields(document, app_ids), app_names=long_names).encode(size - 1)
    header, views = unpack(snapshot_bytes(document, app_ids, app_names=long_names), SNAPSHOT_MAGIC, "x")
    header["app_names"] = {named.id: 7}
    bad = pack(SNAPSHOT_MAGIC, orjson.dumps(header), [bytes(v) for v in views], MAX, "snapshot")
    with pytest.raises(SnapshotError, match="bad app_names"):
        decode_bokeh_snapshot(bad, app_path="app", session_id="s1", max_bytes=MAX)


def _fields(document: Document, app_ids: list[str]) -> dict[str, Any]:
    doc, buffers = document_content(document)
    return {
        "session_id": "s1",
        "app_path": "app",
        "incarnation": "i1",
        "seq": 3,
        "user_id": None,
        "created": 1.0,
        "saved": 2.0,
        "doc": doc,
        "buffers": [(i, bytes(b)) for i, b in buffers],
        "app_ids": app_ids,
    }


def test_unnamed_models_follow_the_build_order_with_its_limit() -> None:
    # Without names, swapped sliders take each other's values: the documented limit.
    document, (_, low, *_) = build(names=False)
    app_ids = [m.id for m in build_order(document)]
    low.value = 2
    snapshot = snapshot_of(document, app_ids)
    again, (_, new_low, new_high, *_) = build(names=False, swap=True)
    restore_document(again, replayed_document(snapshot), snapshot.app_ids)
    assert (new_low.title, new_high.title) == ("high", "low")  # the saved values, titles included
    assert new_high.value == 2


def test_an_application_that_changed_is_refused_and_its_document_left_as_built() -> None:
    document, _, app_ids = first_session()
    snapshot = snapshot_of(document, app_ids)
    again, (_, _, _, _, _text, _) = build(text_type=Paragraph)
    before = again.to_json(deferred=False)
    with pytest.raises(SnapshotError, match="the application changed: it now makes a Paragraph"):
        restore_document(again, replayed_document(snapshot), snapshot.app_ids)
    assert again.to_json(deferred=False) == before


def test_models_made_after_the_build_keep_their_ids_and_later_models_take_none_of_them() -> None:
    document, (_, _low, *_), app_ids = first_session()
    layout = document.roots[0]
    added = Div(text="added by a callback")
    layout.children.append(added)
    snapshot = snapshot_of(document, app_ids)
    # As a snapshot another process wrote: its counter had gone far past this one's.
    header, views = unpack(snapshot.encode(MAX), SNAPSHOT_MAGIC, "snapshot")
    far = int(header["app_ids"][-1][1:]) + 10_000
    text = orjson.dumps(header).decode().replace(f'"{added.id}"', f'"p{far}"')
    moved = pack(SNAPSHOT_MAGIC, text.encode(), [bytes(v) for v in views], MAX, "snapshot")
    snapshot = decode_bokeh_snapshot(moved, app_path="app", session_id="s1", max_bytes=MAX)

    again, _ = build()
    _, exact = restore_document(again, replayed_document(snapshot), snapshot.app_ids)
    restored = again.roots[0].children[-1]
    assert isinstance(restored, Div) and restored.text == "added by a callback"
    assert exact and restored.id == f"p{far}" and again.get_model_by_id(restored.id) is restored
    assert len(again.models) == len(document.models)
    # Bokeh's simple-id counter moved past it: the next model of this process is another.
    later = Div(text="made after the restore")
    assert int(later.id[1:]) > far


def test_sessions_restored_at_once_leave_the_counter_past_each_ones_ids() -> None:
    # Ids need only be unique within a document: two sessions (of two processes) may
    # hold the same ones. The counter only grows, whichever restore moves it last.
    documents = [first_session() for _ in range(2)]
    snapshots = [snapshot_of(document, app_ids) for document, _, app_ids in documents]
    highest = max(int(m.id[1:]) for document, _, _ in documents for m in document.models)
    agains = [build()[0] for _ in snapshots]
    for again, snapshot in zip(reversed(agains), reversed(snapshots), strict=True):
        restore_document(again, replayed_document(snapshot), snapshot.app_ids)
    for again, (document, _, _) in zip(agains, documents, strict=True):
        assert sorted(m.id for m in again.models) == sorted(m.id for m in document.models)
    assert advance_simple_ids([]) >= highest and int(Div().id[1:]) > highest


def test_uuid_ids_are_restored_as_they_are_and_leave_the_counter_alone() -> None:
    document, (_, low, *_), app_ids = first_session()
    low.value = 6
    snapshot = snapshot_of(document, app_ids)
    header, views = unpack(snapshot.encode(MAX), SNAPSHOT_MAGIC, "snapshot")
    text = orjson.dumps(header).decode()
    uuids = {m.id: str(uuid.uuid4()) for m in document.models}  # as with BOKEH_SIMPLE_IDS=no
    for old, new in uuids.items():
        text = text.replace(f'"{old}"', f'"{new}"')
    as_uuids = pack(SNAPSHOT_MAGIC, text.encode(), [bytes(v) for v in views], MAX, "snapshot")
    snapshot = decode_bokeh_snapshot(as_uuids, app_path="app", session_id="s1", max_bytes=MAX)
    again, (_, new_low, *_) = build()
    saved = replayed_document(snapshot)  # (Bokeh's reader draws ids it then overwrites)
    counter = advance_simple_ids([])
    _, exact = restore_document(again, saved, snapshot.app_ids)
    assert exact and new_low.id == uuids[low.id] and new_low.value == 6
    assert {m.id for m in again.models} == set(uuids.values())
    assert advance_simple_ids([]) == counter


def test_an_app_model_the_snapshot_does_not_hold_that_stays_is_told_and_takes_a_new_id() -> None:
    # The app's new release adds a CustomJS to its named text: the saved text has none,
    # and Bokeh's default would be a new model, so the build's stays. The restored
    # document then holds a model no snapshot does: it must be saved again (persistence.py).
    def text_app() -> Document:
        document = Document()
        document.add_root(Div(text="start", name="text"))
        return document

    document = text_app()
    snapshot = snapshot_of(document, [m.id for m in build_order(document)])
    again = text_app()
    again.roots[0].js_on_change("text", CustomJS(code="new in this release"))
    (added,) = again.roots[0].js_property_callbacks["change:text"]
    _, exact = restore_document(again, replayed_document(snapshot), snapshot.app_ids)
    assert not exact and again.roots[0].id == document.roots[0].id
    assert again.get_model_by_id(added.id) is added and added.id != document.roots[0].id


def test_the_journal_records_after_the_snapshot_are_replayed_in_order() -> None:
    document, (_, _low, high, _, text, _), app_ids = first_session()
    snapshot = snapshot_of(document, app_ids, journal=1)
    # Two transactions after the snapshot, recorded as the session journals them.
    recorded: list[Any] = []
    document.on_change(lambda event: recorded.append(encode_event(document, event, None)))
    high.value = 9  # the callback reshapes the source too: ColumnDataChanged, with buffers
    first = BokehRecord(2, "i1", 4, list(recorded), 0)
    recorded.clear()
    text.text = "after"
    added = Div(text="new")
    document.roots[0].children.append(added)
    second = BokehRecord(3, "i1", 5, list(recorded), 0)
    stale = BokehRecord(4, "another incarnation", 6, [], 0)
    snapshot.records = [decode_bokeh_record(r.encode(MAX)) for r in (second, first, stale)]

    again, (calls, _, new_high, _, new_text, new_source) = build()
    restore_document(again, replayed_document(snapshot), snapshot.app_ids)
    assert new_high.value == 9 and new_text.text == "after"
    assert list(new_source.data["y"]) == [1, 9, 10]
    assert again.roots[0].children[-1].text == "new"
    assert calls == []


def test_a_gap_in_the_journal_stops_the_replay_there() -> None:
    document, (_, _, high, _, text, _), app_ids = first_session()
    snapshot = snapshot_of(document, app_ids, journal=1)
    recorded: list[Any] = []
    document.on_change(lambda event: recorded.append(encode_event(document, event, None)))
    text.text = "kept"
    kept = BokehRecord(2, "i1", 4, list(recorded), 0)
    recorded.clear()
    high.value = 8
    after_gap = BokehRecord(4, "i1", 6, list(recorded), 0)
    snapshot.records = [decode_bokeh_record(r.encode(MAX)) for r in (kept, after_gap)]
    replayed = replayed_document(snapshot)
    assert replayed.get_model_by_name("high").value == 5
    assert any(isinstance(m, Div) and m.text == "kept" for m in replayed.models)


def test_damaged_or_foreign_snapshots_and_records_are_refused() -> None:
    document, _, app_ids = first_session()
    data = snapshot_of(document, app_ids).encode(MAX)
    damaged = data[:-5] + bytes([data[-5] ^ 1]) + data[-4:]
    with pytest.raises(SnapshotError, match="checksum"):
        decode_bokeh_snapshot(damaged, app_path="app", session_id="s1", max_bytes=MAX)
    with pytest.raises(SnapshotError, match="another application"):
        decode_bokeh_snapshot(data, app_path="other", session_id="s1", max_bytes=MAX)
    with pytest.raises(SnapshotError, match="another session"):
        decode_bokeh_snapshot(data, app_path="app", session_id="s2", max_bytes=MAX)
    with pytest.raises(SnapshotError, match="too big"):
        decode_bokeh_snapshot(data, app_path="app", session_id="s1", max_bytes=100)
    with pytest.raises(SnapshotError, match="not a docsync"):
        decode_bokeh_record(data)  # a snapshot is not a record
    record = BokehRecord(1, "i1", 1, [], 0).encode(MAX)
    with pytest.raises(SnapshotError, match="checksum"):
        decode_bokeh_record(record[:-1] + bytes([record[-1] ^ 1]))


def test_the_code_clients_wrote_is_known_after_a_restore_by_its_ids() -> None:
    # The app's CustomJS a client rewrote (matched: the new build's object, the saved id), a
    # CustomJS a client added (adopted), one it added then removed (gone), and
    # one written after the snapshot (its journal record says so): offered.py must not
    # take any of them for the app's code.
    document, (_, low, *_) = build()
    low.js_on_change("value", CustomJS(code="app code"))
    app_ids = [m.id for m in build_order(document)]
    (rewritten,) = low.js_property_callbacks["change:value"]
    added, later = CustomJS(code="added"), CustomJS(code="later")
    document.add_root(added)
    snapshot = snapshot_of(document, app_ids, journal=1, client_code=[rewritten.id, added.id, "gone"], client_created=2)
    recorded: list[Any] = []
    document.on_change(lambda event: recorded.append(encode_event(document, event, None)))
    document.add_root(later)
    record = BokehRecord(2, "i1", 4, list(recorded), 0, [later.id], 1)
    snapshot.records = [decode_bokeh_record(record.encode(MAX))]

    again, (_, new_low, *_) = build()
    new_low.js_on_change("value", CustomJS(code="app code"))
    (new_rewritten,) = new_low.js_property_callbacks["change:value"]
    restored = BokehKeeper(None).restore(again, snapshot, {})  # type: ignore[arg-type]
    by_code = {m.code: m.id for m in again.models if isinstance(m, CustomJS)}
    assert restored.code == {new_rewritten.id, by_code["added"], by_code["later"]} == {rewritten.id, added.id, later.id}
    assert restored.created == 3 and restored.exact


def test_a_snapshot_without_its_clients_code_is_read_and_a_bad_one_refused() -> None:
    document, _, app_ids = first_session()
    # As the previous release wrote it: neither field (its clients' code then counts as the app's).
    header, views = unpack(snapshot_of(document, app_ids).encode(MAX), SNAPSHOT_MAGIC, "snapshot")
    del header["client_code"], header["client_created"]
    old = pack(SNAPSHOT_MAGIC, orjson.dumps(header), [bytes(v) for v in views], MAX, "snapshot")
    read = decode_bokeh_snapshot(old, app_path="app", session_id="s1", max_bytes=MAX)
    assert (read.client_code, read.client_created) == ([], 0)
    for bad in ({"client_code": "p1"}, {"client_code": [1]}, {"client_created": -1}, {"client_created": "2"}):
        with pytest.raises(SnapshotError, match="corrupt Bokeh snapshot"):
            snapshot_of(document, app_ids, **bad)
    record = BokehRecord(1, "i1", 1, [], 0, [7], 0).encode(MAX)  # type: ignore[list-item]
    with pytest.raises(SnapshotError, match="bad client_code"):
        decode_bokeh_record(record)


def test_datetime64_columns_come_back_with_their_dtype_after_the_records_milliseconds() -> None:
    # Bokeh's JSON holds them as float64 milliseconds: the snapshot names the column, a
    # record the sources whose data it replaced or brought in (a replaced source's
    # columns are as that record left them, datetime or not).
    days = np.array(["2024-01-01", "2024-01-02"], dtype="datetime64[ns]")
    document = Document()
    kept = ColumnDataSource(data={"t": days.copy(), "n": [1.0, 2.0]}, name="kept")
    replaced = ColumnDataSource(data={"t": days.copy()}, name="replaced")
    document.add_root(kept)
    document.add_root(replaced)
    snapshot = snapshot_of(document, [m.id for m in build_order(document)], journal=1)
    assert snapshot.datetimes == {kept.id: {"t": "datetime64[ns]"}, replaced.id: {"t": "datetime64[ns]"}}
    recorded: list[Any] = []
    document.on_change(lambda event: recorded.append(encode_event(document, event, None, track=True)))
    kept.stream({"t": np.array(["2024-01-03"], dtype="datetime64[ns]"), "n": [3.0]})
    kept.patch({"t": [(0, np.datetime64("2023-12-31T12:00", "ns"))]})
    replaced.data = {"t": [1.5, 2.5]}  # no longer dates
    brought = ColumnDataSource(data={"t": np.array(["2025-06-01"], dtype="datetime64[ms]")}, name="brought")
    document.add_root(brought)
    sources = {id(s): s for e in recorded for s in e.sources}.values()
    record = BokehRecord(2, "i1", 4, list(recorded), 0, datetimes=datetime_columns(sources, with_none=True))
    assert record.datetimes == {replaced.id: {}, brought.id: {"t": "datetime64[ms]"}}
    snapshot.records = [decode_bokeh_record(record.encode(MAX))]

    restored = replayed_document(snapshot)
    for source in (kept, replaced, brought):
        column, saved = restored.get_model_by_id(source.id).data["t"], source.data["t"]
        assert type(column) is type(saved) and list(column) == list(saved)
        assert getattr(column, "dtype", None) == getattr(saved, "dtype", None)


@pytest.mark.parametrize(
    "datetimes", [["s"], {"s": []}, {"s": {"t": "float64"}}, {"s": {"t": "x" * 40}}, {"s": {"t": 1}}]
)
def test_datetime_columns_that_are_not_are_refused(datetimes: Any) -> None:
    document, _, app_ids = first_session()
    header, views = unpack(snapshot_of(document, app_ids).encode(MAX), SNAPSHOT_MAGIC, "snapshot")
    header["datetimes"] = datetimes
    bad = pack(SNAPSHOT_MAGIC, orjson.dumps(header), [bytes(v) for v in views], MAX, "snapshot")
    with pytest.raises(SnapshotError, match="corrupt Bokeh snapshot"):
        decode_bokeh_snapshot(bad, app_path="app", session_id="s1", max_bytes=MAX)
    record = BokehRecord(1, "i1", 1, [], 0, datetimes=datetimes).encode(MAX)
    with pytest.raises(SnapshotError, match="corrupt Bokeh journal record"):
        decode_bokeh_record(record)
