"""The Bokeh dialect's encoded events own their buffers, as docsync's own do (de9069a).

An event is encoded when it happens and sent (and written to the journal) later: a
buffer that still viewed the app's array showed whatever the app wrote into that array
afterwards, in events already encoded. After each in-place write, every buffer encoded
so far keeps its bytes and shares no memory with a writable array.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")

from bokeh.document import Document
from bokeh.models import ColumnDataSource

from docsync.bokeh.wire import EncodedBokehEvent, encode_event, patch_message


def _encoded_on_change(document: Any) -> list[EncodedBokehEvent]:
    encoded: list[EncodedBokehEvent] = []
    document.callbacks.on_change_dispatch_to = None
    document.on_change(lambda event: encoded.append(encode_event(document, event, None)))
    return encoded


@pytest.mark.parametrize("dtype", ["float64", "int32", "uint8", "bool"])
def test_an_app_writing_into_its_array_changes_no_encoded_event(dtype: str) -> None:
    document = Document()
    source = ColumnDataSource(data={"x": np.zeros(4, dtype=dtype)})
    document.add_root(source)
    encoded = _encoded_on_change(document)
    mine = np.zeros(6, dtype=dtype)
    source.data = {"x": mine}  # ColumnDataChanged, the app's own array
    rows = np.zeros(2, dtype=dtype)
    source.stream({"x": rows})  # ColumnsStreamed, the app's rows
    assert len(encoded) == 2 and all(event.buffers for event in encoded), [e.json for e in encoded]
    sent = [bytes(data) for event in encoded for _, data in event.buffers]
    mine[:] = 1
    rows[:] = 1
    source.data["x"][:] = 1  # the column itself, as the app may write it
    assert [bytes(data) for event in encoded for _, data in event.buffers] == sent
    for event in encoded:
        for _, data in event.buffers:
            assert isinstance(data, bytes) or memoryview(data).readonly, type(data)
    frames = patch_message(encoded).to_frames()
    assert [bytes(f) for f in frames if not isinstance(f, str)] == sent


@pytest.mark.parametrize("shape", [(0, 3), (2, 0), (0,)])
def test_an_empty_array_of_any_shape_is_encoded(shape: tuple[int, ...]) -> None:
    """A view with a zero in its shape cannot be cast to bytes: the encoding raised TypeError."""
    document = Document()
    source = ColumnDataSource(data={"img": [np.zeros((2, 2))]})
    document.add_root(source)
    encoded = _encoded_on_change(document)
    source.data = {"img": np.zeros(shape)}
    [event] = encoded
    assert [bytes(data) for _, data in event.buffers] == [b""], event.json
    assert isinstance(patch_message(encoded).to_frames()[-1], bytes | memoryview)
