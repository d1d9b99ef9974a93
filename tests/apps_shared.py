"""Applications several test suites serve, defined once (each suite's settings name them)."""

from __future__ import annotations

from typing import Any

from docsync.document import Document
from docsync.document.models import Column, Div, Slider

__all__ = ["callback_fails", "modify_fails", "reattach"]


def modify_fails(doc: Document) -> None:
    """An application whose document cannot be built: ``modify_document`` raises after adding a root."""
    doc.add_root(Div(text="half built", name="half"))
    raise ValueError("modify_document fails on purpose")


def callback_fails(doc: Document) -> None:
    """A slider whose change callback raises."""
    slider = Slider(title="breaks on change", start=0, end=10, step=1, value=0, name="slider")

    def broken(attr: str, old: Any, new: Any) -> None:
        raise ValueError(f"callback fails on purpose at {new}")

    slider.on_change("value", broken)
    doc.add_root(Column(slider, Div(text="the callback of this slider raises", name="about"), width=320, name="layout"))


def reattach(doc: Document) -> None:
    """A slider whose callback attaches a new Div, detaches it, changes it and attaches it again; and moves a held one.

    All in one callback: one change batch of the server (docs/protocol.md, PATCH-DOC).
    """
    slider = Slider(start=0, end=1_000_000, step=1, value=0, name="slider")
    kept = Div(text="kept", name="kept")
    layout = Column(slider, kept, name="root")

    def changed(attr: str, old: float, new: float) -> None:
        note = Div(text="new", name=f"note {new:g}")
        layout.children.append(note)
        layout.children.remove(note)
        note.text = f"changed while detached {new:g}"
        layout.children.insert(0, note)
        layout.children.remove(kept)
        kept.text = f"kept {new:g}"
        layout.children.append(kept)

    slider.on_change("value", changed)
    doc.add_root(layout)
