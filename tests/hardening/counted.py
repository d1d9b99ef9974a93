"""An application whose models of one type count how often the server process built them."""

from __future__ import annotations

from typing import Any

from docsync.document import Document, MessageSentEvent
from docsync.document.models import Column, Div, Slider

#: How many CountedDiv this process built (a one-element list: the models' __init__ adds).
_BUILT = [0]


class CountedDiv(Div):
    """A Div that counts its instances (a client's definitions of it are built through here)."""

    def __init__(self, **properties: Any) -> None:
        _BUILT[0] += 1
        super().__init__(**properties)


def counted(doc: Document) -> None:
    """A slider, and a Div that a "count" message fills with its data and the CountedDiv built since it began."""
    report = Div(text="", name="built")
    start = _BUILT[0]  # the process's other sessions (other tests) built theirs before

    def count(event: MessageSentEvent) -> None:
        report.text = f"{event.msg_data}:{_BUILT[0] - start}"

    doc.on_message("count", count)
    doc.add_root(Column(Slider(start=0, end=100, step=1, value=0, name="slider"), report, name="root"))
