"""A Bokeh app whose Div a client moves while another change removes it (test_bokeh_crossed_removals.py)."""

from __future__ import annotations

from typing import Any

#: The slider's value at which the app's callback removes the Div ``b``.
REMOVING_VALUE = 9


def crossed(doc: Any) -> None:
    """A column of a slider, Divs ``a`` and ``b`` and an empty Row; the slider's callback can remove ``b``."""
    from bokeh.models import Column, Div, Row, Slider

    slider = Slider(start=0, end=10, step=1, value=0, name="slider")
    a, b = Div(text="a", name="a"), Div(text="b", name="b")
    side = Row(name="side")
    layout = Column(slider, a, b, side, name="root")

    def changed(attr: str, old: Any, new: Any) -> None:
        if new == REMOVING_VALUE and b in layout.children:
            layout.children = [child for child in layout.children if child is not b]

    slider.on_change("value", changed)
    doc.add_root(layout)
