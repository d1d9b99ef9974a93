"""A list column's size after a patch or a stream, worked out from the change (FootprintLedger.derive).

The kept size must equal a fresh measure after any sequence of changes (it is exact, not
an estimate), and a one-cell patch or one-row stream must not measure the whole column.
"""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

import docsync.document.footprint as footprint
import docsync.document.integrity as integrity
from docsync.document import Document
from docsync.document import events as ev
from docsync.document.columns import apply_patches, apply_stream
from docsync.document.footprint import FootprintLedger, _column_size, derived_column_size
from docsync.document.integrity import DocumentLimits
from docsync.document.models import ColumnDataSource
from docsync.document.patching import apply_events
from docsync.exceptions import PatchError

_ITEMS: list[Any] = [
    0.5,
    -1e300,
    7,
    -(2**63),
    None,
    math.nan,
    math.inf,
    -math.inf,
    True,
    "null",
    "nullnull",
    "a\u0001b",
    "",
    [None, math.nan],
    {"k": "null"},
    [],
]


def _item(rng: random.Random) -> Any:
    return rng.choice(_ITEMS)


def _same(a: Any, b: Any) -> bool:
    return (a.own, a.plain_json, a.plain_nulls) == (b.own, b.plain_json, b.plain_nulls)


@pytest.mark.parametrize("seed", range(30))
def test_derived_size_equals_a_fresh_measure(seed: int) -> None:
    rng = random.Random(seed)
    data: dict[str, Any] = {"x": [_item(rng) for _ in range(rng.randrange(0, 12))]}
    size = _column_size(data["x"])
    derived: list[Any] = []

    def derive(name: str, old: Any, new: Any, removed: list[Any], added: list[Any]) -> None:
        derived.append(derived_column_size(size, len(old), removed, added, len(new)))

    for _ in range(40):
        column = data["x"]
        derived.clear()
        if column and rng.random() < 0.5:
            entries: list[tuple[Any, Any]] = []
            for _ in range(rng.randrange(1, 4)):  # a cell may be patched twice in one patch
                if rng.random() < 0.3:
                    start = rng.randrange(0, len(column))
                    stop = rng.randrange(start, len(column) + 1)
                    entries.append((slice(start, stop, 1), [_item(rng) for _ in range(stop - start)]))
                else:
                    entries.append((rng.randrange(0, len(column)), _item(rng)))
            apply_patches(data, {"x": entries}, derive)
        else:
            rows = [_item(rng) for _ in range(rng.randrange(0, 4))]
            rollover = rng.choice([None, 0, 1, 2, 5, 10, 20])
            apply_stream(data, {"x": rows}, rollover, derive)
        fresh = _column_size(data["x"])
        assert len(derived) == 1 and derived[0] is not None
        assert _same(derived[0], fresh), (derived[0].own, fresh.own)
        size = derived[0]


def test_an_item_orjson_cannot_write_is_measured_whole() -> None:
    column = [1.0, 2.0]
    assert derived_column_size(_column_size(column), 2, [1.0], [2**70], 2) is None


class _Counter:
    """Counts the measures of lists of at least ``least`` items."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, least: int) -> None:
        self.count = 0
        column_size, measure = footprint._column_size, integrity.measure

        def counted_column_size(column: Any) -> Any:
            self.count += isinstance(column, list) and len(column) >= least
            return column_size(column)

        def counted_measure(value: Any, into: Any) -> None:
            self.count += isinstance(value, list) and len(value) >= least
            measure(value, into)

        monkeypatch.setattr(footprint, "_column_size", counted_column_size)
        monkeypatch.setattr(integrity, "measure", counted_measure)


def _fresh_total(doc: Document) -> footprint.Footprint:
    ledger = FootprintLedger()
    ledger.attached(doc.models.values())
    return ledger.total()


def test_small_changes_of_a_large_list_column_measure_the_change(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = Document()
    source = ColumnDataSource(data={"x": [float(i) for i in range(5000)], "y": list(range(5000))})
    doc.add_root(source)
    limits = DocumentLimits()
    counter = _Counter(monkeypatch, 1000)
    for i in range(6):
        patch = ev.ColumnsPatchedEvent(source, "data", {"x": [(i, 0.25 + i)]})
        stream = ev.ColumnsStreamedEvent(source, "data", {"x": [1.5], "y": [i]}, 5000)
        apply_events(doc, [patch], from_client=True, limits=limits, setter="c")
        apply_events(doc, [stream], from_client=True, limits=limits, setter="c")
        if i == 0:
            counter.count = 0  # the first change measures the columns once
    assert counter.count == 0
    assert doc._footprint_ledger().total() == _fresh_total(doc)


@pytest.mark.parametrize("seed", range(8))
def test_random_client_changes_keep_the_ledger_exact(seed: int) -> None:
    rng = random.Random(seed)
    doc = Document()
    source = ColumnDataSource(data={"x": [_item(rng) for _ in range(30)], "n": [1.0] * 30})
    doc.add_root(source)
    limits = DocumentLimits(max_column_bytes=2000)
    for _ in range(60):
        length = len(source.data["x"])
        event: ev.DocumentEvent
        if length and rng.random() < 0.5:
            index = rng.randrange(length)
            event = ev.ColumnsPatchedEvent(source, "data", {"x": [(index, _item(rng))], "n": [(index, 2.0)]})
        else:
            count = rng.randrange(0, 5)
            rows = {"x": [_item(rng) for _ in range(count)], "n": [3.0] * count}
            event = ev.ColumnsStreamedEvent(source, "data", rows, rng.choice([None, 10, 40, 80]))
        try:
            apply_events(doc, [event], from_client=True, limits=limits, setter="c")
        except PatchError as exc:  # past the column bound: refused, and the kept sizes still hold
            assert "too large" in str(exc)
        assert doc._footprint_ledger().total() == _fresh_total(doc)
        if rng.random() < 0.1 and source.data["x"]:  # the app's own change (no simulation)
            source.patch({"x": [(0, 0.5)]})
            assert doc._footprint_ledger().total() == _fresh_total(doc)
