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


def shared_board(doc: Any) -> None:
    """Models whose strings BokehJS renders as HTML or runs as code, beside widgets a browser legitimately sets.

    The target of tests/hardening/test_hostile_bokeh_html.py and tests/e2e/test_bokeh_hostile_html.py.
    """
    from bokeh.models import (
        Button,
        CustomJS,
        DataTable,
        HoverTool,
        HTMLTemplateFormatter,
        MultiChoice,
        Paragraph,
        Slider,
        TableColumn,
        TextInput,
    )

    rows = ColumnDataSource(data={"x": [1.0, 2.0], "y": [1.0, 2.0], "label": ["a", "b"]}, name="rows")
    note = Div(text="a note", name="note")
    plain = Div(text="shown as text", render_as_text=True, name="plain")
    para = Paragraph(text="a paragraph", name="para")
    level = Slider(start=0, end=10, value=1, step=1, title="level", name="level")
    # The app's own code, as apps write it: a browser-side echo of the slider.
    level.js_on_change("value", CustomJS(args={"note": note}, code="note.text = `level ${cb_obj.value}`", name="echo"))
    entry = TextInput(value="", title="entry", name="entry")
    go = Button(label="go", name="go")
    choices = MultiChoice(options=["a", "b"], name="choices")
    template = HTMLTemplateFormatter(template="<b><%= value %></b>", name="template")
    table = DataTable(
        source=rows,
        columns=[TableColumn(field="label", title="label", formatter=template, name="label_column")],
        width=200,
        height=100,
        name="table",
    )
    plot = figure(width=300, height=200, tools="tap", title="points", name="plot")
    plot.scatter("x", "y", source=rows, size=20)
    plot.add_tools(HoverTool(tooltips=[("label", "@label")], name="hover"))
    plot.select_one(TapTool).name = "tap"
    heard = Div(text="", name="heard")

    def typed(attr: str, old: Any, new: Any) -> None:
        heard.text = f"heard {len(new)} characters"

    entry.on_change("value", typed)
    doc.add_root(column(note, plain, para, level, entry, go, choices, table, plot, heard, name="board"))
    doc.title = "Shared board"


async def awaited(doc: Any) -> None:
    """bokeh-django's style of handler: ``async def``, awaiting something before it adds its roots."""
    import asyncio

    from bokeh.models import Slider

    await asyncio.sleep(0)
    doc.add_root(column(Slider(start=0, end=10, value=0, step=1, name="slider"), Div(text="built", name="said")))
