"""A client's new large list column is walked once per check, not once per check that reads it.

Counted, not timed: the JSON encodings of the column the footprint checks make (its
size), the scans for models in it, and the ``None`` counts of it, from the check of the
change through the next change's footprint (which measures the model the change left).
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

import docsync.document.footprint as footprint
import docsync.document.properties as properties
from docsync.document import Document
from docsync.document import events as ev
from docsync.document.footprint import FootprintLedger
from docsync.document.integrity import DocumentLimits
from docsync.document.models import ColumnDataSource
from docsync.document.patching import apply_events
from docsync.exceptions import PatchError

_ROWS = 2000


class _Passes:
    """Counts the whole-column passes over lists of at least ``_ROWS`` items, by kind."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.encodings = 0
        self.model_scans = 0
        plainly_free = properties._plainly_free
        real = footprint.orjson

        def dumps(value: Any, *args: Any) -> bytes:
            self.encodings += isinstance(value, list) and len(value) >= _ROWS
            return real.dumps(value, *args)

        def counted_plainly_free(value: Any) -> bool:
            self.model_scans += isinstance(value, list) and len(value) >= _ROWS
            return plainly_free(value)

        class _Orjson:
            JSONEncodeError = real.JSONEncodeError

        _Orjson.dumps = staticmethod(dumps)  # type: ignore[attr-defined]
        monkeypatch.setattr(footprint, "orjson", _Orjson)
        monkeypatch.setattr(properties, "_plainly_free", counted_plainly_free)


def _fresh_total(doc: Document) -> footprint.Footprint:
    ledger = FootprintLedger()
    ledger.attached(doc.models.values())
    return ledger.total()


def _doc() -> tuple[Document, ColumnDataSource]:
    doc = Document()
    source = ColumnDataSource(data={"x": [0.0]})
    doc.add_root(source)
    doc._footprint_ledger().total()
    return doc, source


_COLUMNS: list[list[Any]] = [
    [i * 0.5 for i in range(_ROWS)],
    list(range(_ROWS)),
    [f"s{i}" for i in range(_ROWS)],
    [None if i % 7 == 0 else float(i) for i in range(_ROWS)],
]


def _events(source: ColumnDataSource, column: list[Any]) -> list[list[ev.DocumentEvent]]:
    return [
        [ev.ModelChangedEvent(source, "data", None, {"x": list(column)})],
        [ev.ColumnDataChangedEvent(source, "data", {"x": list(column)})],
    ]


@pytest.mark.parametrize("column", _COLUMNS, ids=["floats", "ints", "strings", "nones"])
@pytest.mark.parametrize("which", [0, 1], ids=["ModelChanged", "ColumnDataChanged"])
def test_a_new_list_column_is_encoded_once_and_scanned_for_models_once(
    monkeypatch: pytest.MonkeyPatch, column: list[Any], which: int
) -> None:
    doc, source = _doc()
    passes = _Passes(monkeypatch)
    apply_events(doc, _events(source, column)[which], from_client=True, limits=DocumentLimits(), setter="c")
    # What the next change's footprint check does first: measure the model this one left.
    doc._footprint_ledger().total()
    assert source.data["x"] == column
    assert (passes.encodings, passes.model_scans) == (1, 1)
    assert doc._footprint_ledger().total() == _fresh_total(doc)


@pytest.mark.parametrize("which", [0, 1], ids=["ModelChanged", "ColumnDataChanged"])
def test_a_refused_column_leaves_the_document_and_forgets_the_column(which: int) -> None:
    doc, source = _doc()
    column = _COLUMNS[0]
    size = len(orjson.dumps(column))
    limits = DocumentLimits(max_column_bytes=size - 1)
    with pytest.raises(PatchError, match=f"too large: {size} > {size - 1} bytes"):
        apply_events(doc, _events(source, column)[which], from_client=True, limits=limits, setter="c")
    assert source.data == {"x": [0.0]}
    ledger = doc._footprint_ledger()
    assert not ledger.derived  # a refused column is not kept alive by its measured size
    assert ledger.total() == _fresh_total(doc)


@pytest.mark.parametrize("which", [0, 1], ids=["ModelChanged", "ColumnDataChanged"])
def test_rows_streamed_onto_a_new_column_are_still_looked_at_for_models(which: int) -> None:
    doc, source = _doc()
    other = ColumnDataSource()
    doc.add_root(other)
    events = _events(source, _COLUMNS[0])[which] + [ev.ColumnsStreamedEvent(source, "data", {"x": [other]})]
    with pytest.raises(PatchError, match="holds models"):
        apply_events(doc, events, from_client=True, limits=DocumentLimits(), setter="c")
    assert source.data == {"x": [0.0]}
    assert not doc._footprint_ledger().derived
