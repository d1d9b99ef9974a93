"""bench: the benchmark document, a slider and a 1,000-point data source (what bench/run.py measures)."""

from __future__ import annotations

import numpy as np

from docsync.document import Document
from docsync.document.models import Column, ColumnDataSource, Slider

POINTS = 1000


def make_bench_doc(doc: Document, points: int, *, sync: bool = False) -> None:
    """Fill ``doc`` with the benchmark's slider and source of ``points`` points (``sync``: a plain ``def`` callback)."""
    x = np.linspace(0, 10, points)
    source = ColumnDataSource(data={"x": x, "y": np.sin(x / 10)}, name="source")
    slider = Slider(start=0, end=100, value=1, step=1, name="slider")

    # An async callback runs on the event loop, as Bokeh's callbacks do; a sync one
    # runs in a worker thread (safe for the ORM, at the cost of a thread hop): the
    # bench_sync app, the same but for that, measures what the hop costs.
    async def update(attr: str, old: float, new: float) -> None:
        source.data["y"] = np.sin(x * new / 10)

    def update_sync(attr: str, old: float, new: float) -> None:
        source.data["y"] = np.sin(x * new / 10)

    slider.on_change("value", update_sync if sync else update)
    doc.add_root(Column(slider, source))


def modify_doc(doc: Document) -> None:
    """Build the bench app."""
    make_bench_doc(doc, POINTS)
