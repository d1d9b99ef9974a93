"""The applications the convergence tests edit, and their client-writable models.

``Item`` and ``Source`` are registered under type names of their own, so that they
never clash with the demo's models.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from docsync.document import Document, Model
from docsync.document.models import ColumnDataSource, Selection
from docsync.document.properties import Bool, Dict, Float, Instance, Int, List, String
from docsync.handlers import Application, FunctionHandler

__all__ = [
    "STREAM_ROLLOVER",
    "Item",
    "Source",
    "Stack",
    "Switch",
    "big_app",
    "big_doc",
    "convergence_app",
    "convergence_doc",
    "stream_app",
    "stream_doc",
]

STREAM_ROLLOVER = 400
STREAM_PERIOD_MS = 20
STREAM_ROWS = 3


class Item(Model):
    """A bit of everything a browser may edit: scalars, a list and a dict."""

    __type_name__ = "convergence.Item"
    __client_writable__ = frozenset({"value", "label", "tags", "counts"})
    value = Float(0.0)
    label = String("")
    tags = List(String())
    counts = Dict(String(), Int())


class Stack(Model):
    """A layout's list of items (a Column's children): runs that move items into, out of and within one add two."""

    __type_name__ = "convergence.Stack"
    __client_writable__ = frozenset({"children"})
    children = List(Instance(Item))


class Source(ColumnDataSource):
    """A data source whose columns browsers stream into, patch and replace."""

    __type_name__ = "convergence.Source"
    __client_writable__ = frozenset({"data", "selected"})

    def __init__(self, *, id: str | None = None, **properties: Any) -> None:
        # The selection's id is fixed (per document) so that two builds of an app's
        # document compare equal model by model.
        if id is None and "selected" not in properties:
            properties["selected"] = Selection(id=f"{properties.get('name', 'source')}-selection")
        super().__init__(id=id, **properties)


class Switch(Model):
    """A flag a test flips to stop a periodic callback."""

    __type_name__ = "convergence.Switch"
    __client_writable__ = frozenset({"active"})
    active = Bool(True)


def convergence_doc(doc: Document) -> None:
    """Two items and a source, every property client-writable; roots may change."""
    doc.add_root(Item(name="a", value=1.0, label="a", tags=["x", "y"], counts={"k0": 0, "k1": 1}))
    doc.add_root(Item(name="b", value=2.0, label="b", tags=[], counts={}))
    x = np.arange(6, dtype=np.float64)
    doc.add_root(Source(name="source", data={"x": x, "y": x * 10, "label": [f"r{i}" for i in range(6)]}))
    doc.title = "convergence"


def stream_doc(doc: Document) -> None:
    """A periodic callback streams consecutive row numbers every 20 ms, with rollover."""
    # Not empty: daphne drops zero-length binary frames (see test_empty_buffers.py).
    first = np.arange(STREAM_ROWS, dtype=np.float64)
    source = Source(name="source", data={"t": first, "v": np.sqrt(first)})
    switch = Switch(name="switch")
    # A large, never-changing column: a full pull is big, a replay of a few ticks is not.
    static = Source(name="static", data={"payload": np.linspace(0.0, 1.0, 100_000)})
    item = Item(name="item", tags=["first"])
    state = {"next": STREAM_ROWS}

    def tick() -> None:
        if not switch.active:
            return
        start = state["next"]
        state["next"] += STREAM_ROWS
        t = np.arange(start, start + STREAM_ROWS, dtype=np.float64)
        source.stream({"t": t, "v": np.sqrt(t)}, rollover=STREAM_ROLLOVER)

    doc.add_periodic_callback(tick, STREAM_PERIOD_MS)
    for root in (source, switch, static, item):
        doc.add_root(root)
    doc.title = "stream"


def big_doc(doc: Document) -> None:
    """Big collections: a 10,000-entry dict, a 10,000-item list, 10,000-row columns."""
    counts = {f"key{i:05d}": i for i in range(10_000)}
    tags = [f"tag{i:05d}" for i in range(10_000)]
    doc.add_root(Item(name="big", counts=counts, tags=tags))
    n = 10_000
    doc.add_root(Source(name="source", data={"x": np.arange(n, dtype=np.float64), "y": np.ones(n), "z": np.zeros(n)}))


# Served shared (settings.py): the clients add and remove roots and set the title, which
# a shared app's sessions refuse unless the application allows it.
convergence_app = Application(FunctionHandler(convergence_doc), allow_client_structure=True)
stream_app = Application(FunctionHandler(stream_doc), allow_client_structure=True)
big_app = Application(FunctionHandler(big_doc), allow_client_structure=True)
