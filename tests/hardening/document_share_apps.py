"""Applications of ``test_document_share_promises.py`` (named in ``document_share_settings.py``)."""

from __future__ import annotations

import numpy as np

from docsync.document import Document
from docsync.document.models import Column, ColumnDataSource, Slider, TextInput


def app_grows(doc: Document) -> None:
    """A slider whose callback fills the source with as many float64 zeros as its value; a text input."""
    source = ColumnDataSource(data={"x": np.zeros(1)}, name="source")
    slider = Slider(start=0, end=1_000_000, step=1, value=0, name="slider")

    def grow(attr: str, old: float, new: float) -> None:
        source.data = {"x": np.zeros(int(new))}

    slider.on_change("value", grow)
    doc.add_root(Column(slider, TextInput(value="", name="text"), source, name="root"))
