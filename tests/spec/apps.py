"""The application the protocol-spec tests talk to."""

from __future__ import annotations

import numpy as np

from docsync.document import Document
from docsync.document.models import Button, Column, ColumnDataSource, DataTable, Div, Slider, TableColumn, TextInput
from docsync.handlers import Application, FunctionHandler


def _build(doc: Document) -> None:
    """A float slider, a text input, a data source that a button makes the server stream into."""
    level = Slider(title="level", start=0.0, end=10.0, step=0.5, value=1.0, name="level")
    text = TextInput(value="", name="text")
    grow = Button(label="grow", name="grow")
    source = ColumnDataSource(data={"x": np.zeros(0)}, name="source")

    def on_grow(event: object) -> None:
        source.stream({"x": np.arange(3.0)})

    grow.on_click(on_grow)
    doc.add_root(Column(level, text, grow, name="layout"))
    doc.add_root(source)


spec = Application(FunctionHandler(_build), metadata={"purpose": "protocol spec tests"})


def _build_big(doc: Document) -> None:
    """A slider and a table of 100,000 rows (800 kB of floats) in one column layout."""
    level = Slider(title="level", start=0.0, end=10.0, step=0.5, value=1.0, name="level")
    source = ColumnDataSource(data={"x": np.arange(100_000.0)}, name="source")
    table = DataTable(source=source, columns=[TableColumn(field="x", title="x")], name="table")
    doc.add_root(Column(level, table, name="layout"))


spec_big = Application(FunctionHandler(_build_big), metadata={"purpose": "protocol spec tests: a large document"})


def _build_huge(doc: Document) -> None:
    """A column of 1,100,000 floats (8.8 MB: over the default MAX_QUEUED_BYTES, 8 MiB) a button rewrites."""
    source = ColumnDataSource(data={"x": np.arange(1_100_000.0)}, name="source")
    double = Button(label="double", name="double")

    def on_double(event: object) -> None:
        source.data["x"] = source.data["x"] * 2

    double.on_click(on_double)
    doc.add_root(Column(double, name="layout"))
    doc.add_root(source)


spec_huge = Application(
    FunctionHandler(_build_huge), metadata={"purpose": "protocol spec tests: a message over MAX_QUEUED_BYTES"}
)


def _build_detach(doc: Document) -> None:
    """A slider whose callback takes a note out of the layout (it leaves the document)."""
    note = Div(text="note", name="note")
    level = Slider(title="level", start=0.0, end=10.0, step=0.5, value=1.0, name="level")

    def on_level(attr: str, old: object, new: object) -> None:
        layout.children = [level]

    level.on_change("value", on_level)
    layout = Column(level, note, name="layout")
    doc.add_root(layout)


spec_detach = Application(
    FunctionHandler(_build_detach), metadata={"purpose": "protocol spec tests: a callback that detaches a model"}
)
