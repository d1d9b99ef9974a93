"""A change waiting to be sent keeps the array values it was made with, whatever is patched after."""

from __future__ import annotations

from typing import Any

import numpy as np

from docsync.document import Document, DocumentEvent
from docsync.document.models import ColumnDataSource
from docsync.protocol import new_message
from docsync.protocol.msgtypes import PATCH_DOC
from docsync.serialization import Decoder
from docsync.sync.outbox import Outbox


def _source() -> tuple[Document, ColumnDataSource, list[DocumentEvent]]:
    document = Document()
    source = ColumnDataSource(data={"y": np.zeros(8)})
    document.add_root(source)
    events: list[DocumentEvent] = []
    document.on_change(events.append)
    return document, source, events


def _sent_column(message_buffers: list[tuple[str, Any]], column_json: dict[str, Any]) -> np.ndarray:
    # What the server decodes from the frames: the bytes as they are when written.
    buffers = {buffer_id: bytes(data) for buffer_id, data in message_buffers}
    decoded = Decoder(buffers=buffers).decode(column_json)
    assert isinstance(decoded, np.ndarray)
    return decoded


def test_a_column_change_in_flight_keeps_its_values_after_a_later_patch() -> None:
    """A new column, sent; the same column patched in place; the patch resent on resume is the first one."""
    document, source, events = _source()
    outbox = Outbox()
    source.data["y"] = np.arange(8, dtype=np.float64)
    outbox.add(events[-1], base=0, attached=document.models)
    batch = outbox.take()
    assert batch is not None
    # In flight (the client resends this very message after a resume).
    message = new_message(PATCH_DOC, batch.content, buffers=batch.buffers)
    source.patch({"y": [(slice(6, 8), [-1.0, -2.0])]})
    outbox.add(events[-1], base=0, attached=document.models)
    column_json = message.content["events"][0]["columns"]["y"]
    assert _sent_column(list(message.buffers), column_json).tolist() == [0, 1, 2, 3, 4, 5, 6, 7]
    assert source.data["y"].tolist() == [0, 1, 2, 3, 4, 5, -1, -2]


def test_a_waiting_column_change_keeps_its_values_after_a_cell_patch() -> None:
    """A new column waiting in the outbox, then a single cell patched: each event says what it was made with."""
    document, source, events = _source()
    outbox = Outbox()
    source.data["y"] = np.arange(8, dtype=np.float64)
    outbox.add(events[-1], base=0, attached=document.models)
    source.patch({"y": [(7, 70.0)]})
    outbox.add(events[-1], base=0, attached=document.models)
    batch = outbox.take()
    assert batch is not None
    column_json = batch.content["events"][0]["columns"]["y"]
    assert _sent_column(batch.buffers, column_json).tolist() == [0, 1, 2, 3, 4, 5, 6, 7]
    assert batch.content["events"][1]["kind"] == "ColumnsPatched"
    assert source.data["y"].tolist() == [0, 1, 2, 3, 4, 5, 6, 70]


def test_a_patch_leaves_an_array_someone_else_holds_as_it_was() -> None:
    """The array the app put in (still held by it) is not written: the column gets a patched copy."""
    _, source, _ = _source()
    mine = np.arange(4, dtype=np.float64)
    source.data["y"] = mine
    source.patch({"y": [(0, 9.0), (slice(2, 4), [8.0, 7.0])]})
    assert mine.tolist() == [0, 1, 2, 3]
    assert source.data["y"].tolist() == [9, 1, 8, 7]
