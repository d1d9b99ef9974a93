"""Bokeh apps given as ``module:modify_doc`` functions (FunctionHandler)."""

from __future__ import annotations

from typing import Any

from bokeh.layouts import column, row
from bokeh.models import ColumnDataSource, Div, TapTool
from bokeh.plotting import figure

COLOURS = ["crimson", "darkorange", "gold", "seagreen", "royalblue"]


def modify_doc(doc: Any) -> None:
    """Five discs: tap one and Python names it, with who tapped and the page's arguments."""
    request = doc.session_context.request
    source = ColumnDataSource(data={"x": list(range(1, 6)), "y": [1] * 5, "colour": COLOURS}, name="discs")
    plot = figure(width=500, height=200, x_range=(0, 6), y_range=(0, 2), tools="tap", title="tap a disc", name="plot")
    plot.scatter("x", "y", source=source, size=50, color="colour", nonselection_alpha=0.25)
    plot.select_one(TapTool).mode = "replace"
    plot.axis.visible = False
    shown = Div(text="nothing tapped", name="shown")

    def tapped(attr: str, old: Any, new: Any) -> None:
        user = doc.session_context.user
        who = getattr(user, "username", "") or "anonymous"
        args = {name: [value.decode() for value in values] for name, values in request.arguments.items()}
        names = [COLOURS[i] for i in new]
        shown.text = f"tapped {names} by {who}, args={sorted(args.items())}"

    source.selected.on_change("indices", tapped)
    doc.add_root(column(plot, row(shown)))
    doc.title = "Tap"


def thread_report(doc: Any) -> None:
    """A slider whose Python callback writes which thread it ran in (and whether a loop runs there)."""
    import asyncio
    import threading

    from bokeh.models import Slider

    slider = Slider(start=0, end=10, value=0, step=1, name="slider")
    where = Div(text=threading.current_thread().name, name="where")

    def moved(attr: str, old: Any, new: Any) -> None:
        try:
            asyncio.get_running_loop()
            loop = "a running loop"
        except RuntimeError:
            loop = "no running loop"
        where.text = f"{threading.current_thread().name}, {loop}"

    slider.on_change("value", moved)
    doc.add_root(column(slider, where))


def grows(doc: Any) -> None:
    """Each change of slider "trigger" makes the app add a Div of its own to column "shelf" (a new server id).

    At value 2 the Div added is one the app made with the document (an id issued then, seen in no pull).

    Slider "pad" makes the app pad Div "first" with that many KiB of text (the app growing its own document).
    """
    from bokeh.models import Slider

    trigger = Slider(start=0, end=10_000, value=0, step=1, name="trigger")
    pad = Slider(start=0, end=100_000, value=0, step=1, name="pad")
    first = Div(text="start", name="first")
    shelf = column(first, name="shelf")

    held = Div(text="held by the app")  # made now, shown later: its id is in no pull until then

    def add(attr: str, old: Any, new: Any) -> None:
        shelf.children.append(held if new == 2 else Div(text=f"app div {new}"))

    def padded(attr: str, old: Any, new: Any) -> None:
        first.text = "a" * (1024 * int(new))

    trigger.on_change("value", add)
    pad.on_change("value", padded)
    doc.add_root(column(trigger, pad, shelf))
    doc.add_root(ColumnDataSource(data={"x": [0.0], "label": ["row"]}, name="rows"))
