"""The Bokeh document's size estimate never falls short of a pull, and follows the document's changes."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")

from bokeh.document import Document
from bokeh.layouts import column
from bokeh.models import ColumnDataSource, DataTable, Div, Slider, TableColumn
from bokeh.plotting import figure

from docsync.bokeh.footprint import DocumentFootprint
from docsync.bokeh.wire import pull_reply


def pull_bytes(document: Any) -> int:
    """The larger of the two pulls a tab may get: arrays as buffers, or inline (base64)."""

    def size(inline: bool) -> int:
        frames = pull_reply(document, "r", inline=inline).to_frames()
        return sum(len(f.encode()) if isinstance(f, str) else memoryview(f).nbytes for f in frames)

    return max(size(False), size(True))


def made(rows: int) -> tuple[Document, ColumnDataSource, Div]:
    rng = np.random.default_rng(7)
    source = ColumnDataSource(
        data={
            "x": rng.random(rows),
            "n": rng.integers(0, 10**9, rows).tolist(),
            "label": [f'é"\\\n\x01 {i}' for i in range(rows)],
            "nested": [{"a": [i, {"b": None}]} for i in range(rows)],
        }
    )
    plot = figure(title="t\u2603")
    plot.scatter("x", "x", source=source)
    table = DataTable(source=source, columns=[TableColumn(field="label")])
    div = Div(text="\x00\u2028" * 500)
    document = Document()
    document.add_root(column(plot, table, Slider(start=0, end=1, value=0.5), div))
    document.title = '"quoted"\x7f'
    return document, source, div


@pytest.mark.parametrize("rows", [0, 1, 1000, 50_000])
def test_the_estimate_is_at_least_either_pull(rows: int) -> None:
    document, _, _ = made(rows)
    footprint = DocumentFootprint(None)
    footprint.refresh(document)
    assert footprint.total >= pull_bytes(document)


def test_the_estimate_follows_streams_new_values_and_removed_models() -> None:
    document, source, div = made(100)
    footprint = DocumentFootprint(None)
    document.callbacks.on_change(lambda event: footprint.changed(event))
    footprint.refresh(document)
    start = footprint.total
    for _ in range(3):  # counted from the rows streamed, not by measuring again
        source.stream(
            {"x": np.ones(500), "n": np.full(500, -(2**31 - 1)), "label": ["s" * 40] * 500, "nested": [{}] * 500}
        )
        source.patch({"label": [(0, "p" * 300)], "n": [(slice(0, 3), np.full(3, -(2**31 - 1)))]})
        footprint.refresh(document)
        assert footprint.total >= pull_bytes(document)
    source.stream({"x": np.ones(5), "n": [1] * 5, "label": ["r"] * 5, "nested": [{}] * 5}, rollover=50)
    div.text = "d" * 100_000
    footprint.refresh(document)
    assert footprint.total >= pull_bytes(document) and footprint.total > start + 50_000
    document.roots[0].children.pop()  # the Div leaves the document
    source.data = {"x": np.ones(1), "n": [1], "label": ["a"], "nested": [{}]}
    footprint.refresh(document)
    fresh = DocumentFootprint(None)
    fresh.refresh(document)
    assert footprint.total == fresh.total >= pull_bytes(document)
    assert footprint.total < start


def test_rows_counted_from_a_stream_are_counted_at_their_longest() -> None:
    """Rows streamed as lists, or cells patched as arrays, count as the longest numbers; an array stream is measured."""
    source = ColumnDataSource(data={"v": [0.5] * 20_000})
    document = Document()
    document.add_root(source)
    footprint = DocumentFootprint(None)
    document.callbacks.on_change(lambda event: footprint.changed(event))
    footprint.refresh(document)
    long = -1.2345678901234567e-300
    source.stream({"v": [long] * 300})  # under an eighth: counted, not measured
    source.patch({"v": [(slice(0, 100), np.full(100, long))]})
    footprint.refresh(document)
    assert footprint.total >= pull_bytes(document)
    source.stream({"v": np.full(300, long)})  # Bokeh makes the column an array (8 bytes a row)
    footprint.refresh(document)
    assert footprint.total >= pull_bytes(document)


def test_a_clients_share_is_checked_again_when_counted() -> None:
    """Two sessions of one client checked at once (two worker threads): the second to count is refused."""
    from docsync.document import DocumentShares
    from docsync.exceptions import PatchError

    shares = DocumentShares()
    footprints, growths = [], []
    for _ in range(2):
        document, _, div = made(0)
        footprint = DocumentFootprint(None)
        footprint.refresh(document)
        footprints.append(footprint)
        growths.append((document, [{"kind": "ModelChanged", "model": div, "attr": "text", "new": "w" * 50_000}]))
    cap = footprints[0].total + footprints[1].total + 60_000  # room for one growth of 50,000, not two
    for footprint in footprints:
        footprint.share = shares.join("address:10.0.0.9", cap)
    for footprint, (document, events) in zip(footprints, growths, strict=True):
        footprint.check(document, [], events)  # each fits alone
    footprints[0].count()
    with pytest.raises(PatchError, match=r"this client's documents too large: \d+ > \d+ bytes"):
        footprints[1].count()
    # The refused count changed nothing: once the first session ends, the second growth fits.
    assert footprints[0].share is not None
    footprints[0].share.release()
    document, events = growths[1]
    footprints[1].check(document, [], events)
    footprints[1].count()
