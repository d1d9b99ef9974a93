"""Applications several test suites serve, defined once (each suite's settings name them)."""

from __future__ import annotations

from typing import Any

from docsync.document import Document
from docsync.document.models import Column, Div, Slider

__all__ = ["callback_fails", "modify_fails"]


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
