"""A document's footprint (JSON bytes, array bytes, buffers) and the limits a client's change obeys."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import orjson
import pytest

from docsync.document import ColumnsPatchedEvent, ColumnsStreamedEvent, Document, DocumentLimits, ModelChangedEvent
from docsync.document.footprint import Footprint, measure, model_footprint
from docsync.document.models import Column, ColumnDataSource, Div, Slider, TextInput
from docsync.exceptions import PatchError

from .helpers import TstNode, doc_json_bytes, recorded


def pulled(doc: Document) -> Footprint:
    """What a pull of ``doc`` really carries: JSON bytes, array bytes, buffers."""
    data, buffers = doc.to_json()
    return Footprint(len(orjson.dumps(data)), sum(memoryview(b).nbytes for _, b in buffers), len(buffers))


def estimated(doc: Document) -> Footprint:
    total = Footprint(len(doc.title) + 40)
    for model in doc.models.values():
        total.add(model_footprint(model))
    return total


def varied_document() -> Document:
    doc = Document(title="vårïed ✓")
    node = TstNode(
        table={"s": "é" * 50, "ctl": "\x00\x01\n" * 30, "n": [1, 2.5, None, float("nan"), float("-inf")], "b": b"xyz"},
        blob={
            "type": "not a typed value",
            (1, 2): {3, 4},
            "when": dt.datetime(2024, 2, 29, 13, 5),
            "day": dt.date(2024, 1, 1),
        },
        label="x" * 1000,
        pairs={(1, "a"): 2.0},
        data={"f": np.arange(1000.0), "i": np.arange(10, dtype=np.int8), "l": [float("nan")] * 300 + [None] * 300},
    )
    node.refs = [TstNode(label="child"), node]
    doc.add_root(Column(node, Slider(value=3.25), Div(text="<b>hi</b>")))
    return doc


def test_the_estimate_bounds_what_a_pull_carries() -> None:
    doc = varied_document()
    real, guess = pulled(doc), estimated(doc)
    assert guess.arrays == real.arrays and guess.buffers == real.buffers
    # Never less than the JSON written, and not wildly more.
    assert real.json <= guess.json <= 3 * real.json, (real, guess)


def test_special_floats_and_escapes_are_not_underestimated() -> None:
    for value in ([float("nan")] * 1000, ["\x01"] * 1000, ["\ud800"] * 10, [2**63] * 10):
        size = Footprint()
        measure(value, size)
        assert size.json >= len(orjson.dumps(value, default=str) if value[0] != "\ud800" else b"x" * 60), value[:1]


def test_the_ledger_follows_every_kind_of_change() -> None:
    doc = varied_document()
    ledger = doc._footprint_ledger()
    node = next(m for m in doc.models.values() if isinstance(m, TstNode) and m.label == "x" * 1000)
    source = ColumnDataSource(data={"x": np.zeros(10), "y": ["a"] * 10})
    steps = [
        lambda: doc.add_root(source),
        lambda: source.stream({"x": np.ones(5), "y": ["b"] * 5}, rollover=12),
        lambda: source.patch({"y": [(0, "long" * 100)]}),
        lambda: source.data.update(z=np.arange(15, dtype=np.int32)),
        lambda: source.data.pop("z"),
        lambda: setattr(node, "label", ""),
        lambda: node.refs.append(TstNode(label="new" * 10)),
        lambda: node.refs.pop(0),
        lambda: node.table.update(k=[1, 2, 3]),
        lambda: setattr(doc, "title", "t"),
        lambda: doc.remove_root(source),
        lambda: doc.replace_with_json(*_json(varied_document())),
    ]
    for step in steps:
        step()
        fresh = Footprint()
        for model in doc.models.values():
            fresh.add(model_footprint(model))
        assert ledger.total() == fresh


def _json(doc: Document) -> tuple[Any, dict[str, Any]]:
    data, buffers = doc.to_json()
    return data, dict(buffers)


# -- limits --------------------------------------------------------------------------

LIMITS = DocumentLimits(max_column_bytes=8000, max_json_bytes=20_000, max_document_bytes=30_000, max_buffers=6)


class World:
    def __init__(self) -> None:
        self.doc = Document()
        self.source = ColumnDataSource(id="src", data={"x": np.zeros(10), "s": ["a"] * 10})
        self.text = TextInput(id="text")
        self.doc.add_root(Column(self.source, self.text, id="root"))

    def apply(self, *events: Any) -> None:
        self.doc.apply_patch(list(events), from_client=True, limits=LIMITS)

    def refused(self, match: str, *events: Any) -> None:
        before = doc_json_bytes(self.doc)
        with recorded(self.doc) as seen, pytest.raises(PatchError, match=match):
            self.apply(*events)
        assert seen == [] and doc_json_bytes(self.doc) == before


def stream(world: World, rows: int, rollover: int | None = None) -> ColumnsStreamedEvent:
    return ColumnsStreamedEvent(world.source, "data", {"x": np.ones(rows), "s": ["b"] * rows}, rollover)


def test_a_column_may_not_grow_past_its_bound() -> None:
    world = World()
    world.apply(stream(world, 900))  # 910 float64 rows: 7,280 bytes
    world.refused(r"column 'x' of ColumnDataSource 'src' too large: 8080 > 8000 bytes", stream(world, 100))
    # With rollover the column stays small: accepted, as often as it comes.
    for _ in range(5):
        world.apply(stream(world, 100, rollover=950))


def test_streams_add_up_to_the_document_bound() -> None:
    world = World()
    for name in ("a", "b", "c"):
        # 1,000 float64s in the source's 10 rows (a client's columns are as long as the others).
        world.apply(ModelChangedEvent(world.source, "data", None, {**world.source.data, name: np.zeros((10, 100))}))
    world.refused(
        r"document too large: \d+ > 30000 bytes",
        ModelChangedEvent(world.source, "data", None, {**world.source.data, "d": np.zeros((10, 100))}),
    )


def test_the_json_of_the_document_fits_one_frame() -> None:
    world = World()
    world.apply(ModelChangedEvent(world.text, "value", None, "v" * 15_000))
    cell = ColumnsPatchedEvent(world.source, "data", {"s": [(0, "w" * 6000)]})
    world.refused(r"document JSON too large: \d+ > 20000 bytes", cell)
    # Replacing the big value by a small one is always allowed.
    world.apply(ModelChangedEvent(world.text, "value", None, "small"))


def test_the_arrays_fit_the_buffers_a_message_may_carry() -> None:
    world = World()
    columns = {**world.source.data, **{f"c{i}": np.zeros(10) for i in range(5)}}
    world.apply(ModelChangedEvent(world.source, "data", None, columns))
    world.refused(
        "too many arrays in the document: 7 > 6",
        ModelChangedEvent(world.source, "data", None, {**columns, "one_more": np.zeros(10)}),
    )


def test_a_document_the_server_made_too_big_still_takes_changes_that_do_not_grow_it() -> None:
    world = World()
    world.source.data = {"x": np.zeros(5000), "s": ["a"] * 5000}  # the application may
    world.text.value = "abcde"
    world.apply(ModelChangedEvent(world.text, "value", None, "typed"))  # as long as before
    world.refused("too large", ModelChangedEvent(world.text, "value", None, "typed" * 100))


def test_a_push_counts_the_new_document_only() -> None:
    world = World()
    world.source.data = {"x": np.zeros(3000)}  # 24 kB, most of the bound
    small = Document()
    small.add_root(ColumnDataSource(data={"x": np.zeros(2000)}))
    world.doc.replace_with_json(*_json(small), from_client=True, limits=LIMITS)
    big = Document()
    big.add_root(ColumnDataSource(data={"x": np.zeros(4000)}))
    before = doc_json_bytes(world.doc)
    with pytest.raises(PatchError, match="too large"):
        world.doc.replace_with_json(*_json(big), from_client=True, limits=LIMITS)
    assert doc_json_bytes(world.doc) == before


def _column_datas() -> list[dict[str, Any]]:
    """Column data of every kind ``measure`` tells apart."""
    return [
        {},
        {"x": [1.5, 2.5], "y": ["a", "b"]},
        {"x": [None, float("nan"), float("inf")], "null": ["null", "nullnull"], "t": (None, 1)},
        {"x": np.arange(5.0), "y": [1, 2, 3, 4, 5]},
        {"x": [{1, 2}, {3}], "y": [b"ab", b"c"]},
        {"x": [np.arange(3.0), np.arange(2, dtype=np.int8)], "y": [dt.date(2024, 1, 1), None]},
        {"é\x00": [2**70, 1], "y": [[1, [2]], {"a": None}]},
    ]


@pytest.mark.parametrize("data", _column_datas())
def test_columns_measured_one_by_one_add_up_to_the_whole(data: dict[str, Any]) -> None:
    # The ledger measures a source's columns one by one (keeping each one's size while it
    # is the same object): the sum is exactly what measuring the whole data makes.
    source = ColumnDataSource()
    source._values["data"] = data  # any shape, as the estimate must take it
    whole = model_footprint(source)
    columns: dict[str, Any] = {}
    for _ in range(2):  # measured, then taken from what was kept
        parts = model_footprint(source, None, columns)
        assert (parts, parts.largest) == (whole, whole.largest)
    assert set(columns.get("data", {})) == set(data)


def test_a_one_cell_patch_does_not_measure_the_other_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    # A client's one-cell patch of a large list column measured every column of the source
    # six times (16 MB of JSON written for a 150-byte patch of a 500,000-row source: 0.1 s
    # on the event loop, repeatable 200 times a second). The columns the patch leaves are
    # no longer measured; since FootprintLedger.derive, nor is the patched one (its size is
    # worked out from the cell's).
    from docsync.document import footprint

    rows = 20_000
    doc = Document()
    source = ColumnDataSource(data={"x": [1.5] * rows, "y": ["kept"] * rows}, id="src")
    doc.add_root(Column(source))
    written: list[bytes] = []
    real_dumps = orjson.dumps

    def counted(value: Any, *args: Any) -> bytes:
        text = real_dumps(value, *args)
        if len(text) > rows:
            written.append(text)
        return text

    monkeypatch.setattr(footprint, "orjson", type("Spy", (), {"dumps": staticmethod(counted)}))
    limits = DocumentLimits()
    for i in range(4):
        event = {"kind": "ColumnsPatched", "model": {"id": "src"}, "attr": "data", "patches": {"x": [[i, 9.5]]}}
        decoded = doc.decode_patch({"events": [event]}, setter="c1")
        doc.apply_patch(decoded, setter="c1", from_client=True, limits=limits)
        if i == 0:
            assert written  # the first measures the document once (the spy sees it)
            written.clear()
    assert not written, [len(t) for t in written]


def test_the_ledger_lets_go_of_a_column_the_application_replaced() -> None:
    # The sizes kept per column hold the column: one the application replaces is dropped
    # with the change, not kept in memory until the next client change measures again.
    doc = Document()
    source = ColumnDataSource(data={"x": [1.5] * 1000, "y": [2.5] * 1000}, id="src")
    doc.add_root(Column(source))
    old = source.data["x"]
    ledger = doc._footprint_ledger()
    ledger.total()
    assert any(column is old for column, _ in ledger.columns_of(source)["data"].values())
    source.data = {"x": [0.5] * 10, "y": [1.0] * 10}
    assert not any(column is old for column, _ in ledger.columns_of(source)["data"].values())
    fresh = Footprint()
    for model in doc.models.values():
        fresh.add(model_footprint(model))
    assert ledger.total() == fresh
