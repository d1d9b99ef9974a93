"""A Bokeh app whose callback attaches a Div, detaches it and attaches it again (test_bokeh_reattached_models.py)."""

from __future__ import annotations

from typing import Any


def reattach(doc: Any) -> None:
    """A slider whose callback does it all in one transaction; and moves a Div the page holds."""
    from bokeh.layouts import column
    from bokeh.models import Div, Slider

    slider = Slider(start=0, end=10, step=1, value=0, name="slider")
    kept = Div(text="kept", name="kept")
    layout = column(slider, kept, name="root")

    def changed(attr: str, old: Any, new: Any) -> None:
        note = Div(text="new", name=f"note {new}")
        layout.children.append(note)
        note.text = "attached"  # an event between: the patch's reader applies it after the definitions
        layout.children.remove(note)
        note.text = f"changed while detached {new}"
        layout.children.insert(0, note)

    slider.on_change("value", changed)
    doc.add_root(layout)
