"""A client's new list column is scanned for its item types once, not three times, and copied once.

The server reads a client's PATCH-DOC once: the decoder takes its lists of plain values
as they are (no copy) and notes them with their item types; ColumnData's check stores a
noted column without looking for models in it again and without copying it; the encoder
of the broadcast and the log makes the one copy, and takes the item types the decoder
saw while no code of the application can have changed the list (no callback runs).
Counted, not timed: the type scans by a hook on ``map`` where they are made, the copies
by tracemalloc's peak (exact, the same on every run).
"""

from __future__ import annotations

import tracemalloc
from typing import Any

import orjson
import pytest

import docsync.document.properties as properties
import docsync.serialization.decoder as decoder
import docsync.serialization.encoder as encoder
from docsync.document import Document
from docsync.document.integrity import DocumentLimits
from docsync.document.models import ColumnDataSource
from docsync.protocol import Message, new_message
from docsync.protocol.msgtypes import ERROR, PATCH_DOC
from docsync.protocol.wire_json import dumpb, loads
from docsync.sync.sequencer import Sequencer

ROWS = 100_000
#: A list of ROWS items: what one copy of the column allocates (8 bytes per pointer).
COPY = 8 * ROWS


def _session() -> tuple[Sequencer, ColumnDataSource]:
    document = Document()
    source = ColumnDataSource(id="src", data={"x": [0.0]})
    document.add_root(source)
    sequencer = Sequencer(
        document,
        allow_client_structure=True,
        log_entries=100,
        log_bytes=256 << 20,
        max_client_models=100,
        max_array_elements=10_000_000,
        limits=DocumentLimits(),
    )
    return sequencer, source


def _column(shift: float) -> list[Any]:
    return [i * 0.5 + shift for i in range(ROWS)]


def _read(events: list[dict[str, Any]]) -> Message:
    """A PATCH-DOC as the server's receiver makes it: its content read from JSON text."""
    return new_message(PATCH_DOC, loads(dumpb({"events": events, "references": []})))


def _set_data(columns: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "ModelChanged", "model": {"id": "src"}, "attr": "data", "new": columns}


def _replace_columns(columns: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "ColumnDataChanged", "model": {"id": "src"}, "attr": "data", "columns": columns}


def _applied(sequencer: Sequencer, message: Message) -> Any:
    outcome = sequencer.handle_patch("client", 0, message)
    assert outcome.answer.msgtype != ERROR, outcome.answer.content
    assert outcome.answer.content.get("rejected", 0) == 0
    return outcome


class _TypeScans:
    """Counts ``set(map(type, column))`` over lists of ROWS items where they are made."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0

        def counted_map(func: Any, *iterables: Any) -> Any:
            self.count += func is type and any(isinstance(i, list) and len(i) >= ROWS for i in iterables)
            return map(func, *iterables)

        for module in (decoder, properties, encoder):
            monkeypatch.setattr(module, "map", counted_map, raising=False)


@pytest.mark.parametrize("watched", [False, True], ids=["", "watched"])
@pytest.mark.parametrize("make", [_set_data, _replace_columns], ids=["ModelChanged", "ColumnDataChanged"])
def test_a_new_list_column_is_scanned_for_types_once(monkeypatch: pytest.MonkeyPatch, make: Any, watched: bool) -> None:
    sequencer, source = _session()
    seen: list[Any] = []
    if watched:  # a callback of the application runs during the apply: the encoder scans again
        source.on_change("data", lambda attr, old, new: seen.append(len(new["x"])))
    _applied(sequencer, _read([make({"x": _column(0.1)})]))  # the first change measures the document
    scans = _TypeScans(monkeypatch)
    outcome = _applied(sequencer, _read([make({"x": _column(0.2)})]))
    # The decoder's, which the check and the encoder share; they made three.
    assert scans.count == (2 if watched else 1)
    assert seen == ([ROWS, ROWS] if watched else [])
    assert source.data["x"] == _column(0.2)
    sent = outcome.changes.message_for(None)
    event = loads(sent.to_frames()[2])["events"][0]
    assert (event["new"] if "new" in event else event["columns"]) == {"x": _column(0.2)}
    # Still looked at: a column with a model in it is refused, the document unchanged.
    answer = sequencer.handle_patch("client", 0, _read([make({"x": [*_column(0.4)[:40], {"id": "src"}]})])).answer
    assert answer.msgtype == ERROR and "expected a dict of column name to ndarray or list" in answer.content["text"]
    assert source.data["x"] == _column(0.2)


def _peak(work: Any, *args: Any) -> int:
    """The bytes allocated at the peak of ``work(*args)`` (what was there before not counted)."""
    tracemalloc.start()
    try:
        work(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("make", [_set_data, _replace_columns], ids=["ModelChanged", "ColumnDataChanged"])
def test_a_new_list_column_is_copied_once(make: Any) -> None:
    sequencer, source = _session()
    _applied(sequencer, _read([make({"x": _column(0.2)})]))
    message = _read([make({"x": _column(0.3)})])  # read before: the message is not counted
    # What orjson allocates to write the column (it reserves far more than the text's
    # length): the footprint check's text, then the log's, one at a time.
    text = _peak(orjson.dumps, _column(0.3))
    peak = _peak(_applied, sequencer, message)
    # One text and the log's copy (encoder); the decoder's and the check's copies made it three.
    assert COPY <= peak - text < COPY + COPY // 2, (peak - text, COPY)
    assert source.data["x"] == _column(0.3)
    # Content built in Python may hold one list twice (the wire's never does): copied the
    # second time, so that two columns never share a list.
    column = _column(0.5)
    _applied(sequencer, new_message(PATCH_DOC, {"events": [make({"x": column, "y": column})], "references": []}))
    assert source.data["x"] == source.data["y"] == column
    assert source.data["x"] is not source.data["y"]
