"""What the Bokeh dialect's encoded events hold in memory, beside their own bytes.

A session's log keeps each event encoded (``EncodedBokehEvent.data``). orjson (3.13) keeps
the buffer it wrote into, 4 KiB at least, behind the bytes it returns: 1,000 small changes
of a Div held 4 MB more than their bytes, as docsync's own dialect did before ``dumpb``
copied short results (tests/sync/test_log_memory.py). Counted (tracemalloc), not timed.
"""

from __future__ import annotations

import gc
import tracemalloc
from typing import Any

import pytest

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")

from bokeh.document import Document
from bokeh.models import Div

from docsync.bokeh.wire import EncodedBokehEvent, encode_event

CHANGES = 1000


def test_small_encoded_events_hold_about_their_own_bytes() -> None:
    document = Document()
    div = Div(text="")
    document.add_root(div)
    document.callbacks.on_change_dispatch_to = None
    encoded: list[EncodedBokehEvent] = []
    document.on_change(lambda event: encoded.append(encode_event(document, event, None)))
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        for k in range(CHANGES):
            div.text = str(k)
        datas: list[Any] = [event.json for event in encoded]
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    assert len(datas) == CHANGES
    # The encodings alone (the file that made them): 4,100 bytes each before.
    held = sum(s.size_diff for s in after.compare_to(before, "filename") if s.traceback[0].filename.endswith("wire.py"))
    assert held < 1000 * CHANGES, held
