"""A client's small change of a large list column copies the column once, and looks at the change only.

The check of a change simulates it (a patched list column is a patched copy) and the
apply takes the simulation's list instead of making another; the references check looks
at the values the change added, not at every row. Counted with tracemalloc (the bytes
allocated at the peak, exact and the same on every run) and by the items given to the
references walk, not timed.
"""

from __future__ import annotations

import tracemalloc
from typing import Any

import numpy as np
import pytest

import docsync.document.integrity as integrity
from docsync.document import Document
from docsync.document import events as ev
from docsync.document.integrity import DocumentLimits
from docsync.document.models import ColumnDataSource
from docsync.document.patching import apply_events

ROWS = 100_000
#: A list of ROWS items: what one copy of the column allocates (8 bytes per pointer).
COPY = 8 * ROWS


def _source() -> tuple[Document, ColumnDataSource]:
    doc = Document()
    source = ColumnDataSource(data={"x": [float(i) for i in range(ROWS)], "s": ["r"] * ROWS})
    doc.add_root(source)
    return doc, source


def _peak_of(doc: Document, event: Any, from_client: bool = True) -> int:
    """Bytes allocated at the peak of a client's change of ``doc`` (what was there before not counted).

    ``from_client`` false: the server's change, applied by a client.
    """
    limits = DocumentLimits() if from_client else None
    apply_events(doc, [event], from_client=from_client, limits=limits, setter="c")  # the first measures the columns
    tracemalloc.start()
    try:
        apply_events(doc, [event], from_client=from_client, limits=limits, setter="c")
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("from_client", [True, False])
@pytest.mark.parametrize("kind", ["patch", "stream", "stream with rollover"])
def test_a_small_change_copies_a_large_list_column_once(kind: str, from_client: bool) -> None:
    doc, source = _source()
    if kind == "patch":
        event: Any = ev.ColumnsPatchedEvent(source, "data", {"s": [(7, "q")]})
    else:
        event = ev.ColumnsStreamedEvent(source, "data", {"x": [1.5], "s": ["t"]}, ROWS if "rollover" in kind else None)
    column = source.data["s"]
    peak = _peak_of(doc, event, from_client)
    # Two copies (a stream: both columns) is at least 2 * COPY; one is COPY and a little.
    columns = 1 if kind == "patch" else 2
    assert columns * COPY <= peak < columns * COPY + COPY // 2, (peak, columns * COPY)
    assert source.data["s"] is not column and source.data["s"][-1 if "stream" in kind else 7] in ("q", "t")


def test_the_references_check_looks_at_the_values_a_patch_added(monkeypatch: pytest.MonkeyPatch) -> None:
    doc, source = _source()
    walked: list[int] = []
    holds_models = integrity.holds_models

    def counted(value: Any) -> bool:
        columns = value.values() if isinstance(value, dict) else [value]
        walked.append(sum(len(c) for c in columns if isinstance(c, list)))
        return holds_models(value)

    monkeypatch.setattr(integrity, "holds_models", counted)
    limits = DocumentLimits()
    for i in range(3):
        patch = ev.ColumnsPatchedEvent(source, "data", {"s": [(i, "q")]})
        stream = ev.ColumnsStreamedEvent(source, "data", {"x": [1.5], "s": ["t"]}, None)
        apply_events(doc, [patch, stream, patch], from_client=True, limits=limits, setter="c")
    assert walked and max(walked) < 10, walked
    assert source.data["s"][:3] == ["q"] * 3 and source.data["s"][-3:] == ["t"] * 3


@pytest.mark.parametrize("from_client", [True, False])
def test_a_stream_joins_an_array_column_once(from_client: bool) -> None:
    """The check joins the rows to a copy of the columns; the apply takes that array, not another join."""
    doc = Document()
    source = ColumnDataSource(data={"x": np.arange(float(ROWS))})
    doc.add_root(source)
    event = ev.ColumnsStreamedEvent(source, "data", {"x": np.array([1.5])})
    apply_events(doc, [event], from_client=from_client, setter="c")  # the first change measures the columns
    tracemalloc.start()
    try:
        apply_events(doc, [event], from_client=from_client, setter="c")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    array = 8 * (ROWS + 2)  # the column joined (two joins: twice that, the first one still held)
    assert array <= peak < array + array // 2, (peak, array)
    assert len(source.data["x"]) == ROWS + 2 and source.data["x"][-1] == 1.5


@pytest.mark.parametrize("from_client", [True, False])
def test_a_stream_after_cells_written_in_place_joins_the_written_cells(from_client: bool) -> None:
    """An array the check joined holds the cells as they were: a patch written into the column since is not lost."""
    doc = Document()
    source = ColumnDataSource(data={"x": np.arange(4.0)})
    doc.add_root(source)
    source.stream({"x": np.array([4.0])})  # an array made here: cells are written into it in place
    cells = ev.ColumnsPatchedEvent(source, "data", {"x": [(0, 10.0)]})
    stream = ev.ColumnsStreamedEvent(source, "data", {"x": np.array([5.0])})
    apply_events(doc, [cells, stream], from_client=from_client, setter="c")
    assert source.data["x"].tolist() == [10.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    source.stream({"x": np.array([6.0])})
    apply_events(doc, [stream, cells, stream], from_client=from_client, setter="c")
    assert source.data["x"].tolist() == [10.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 5.0, 5.0]
