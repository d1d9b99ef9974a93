"""A Bokeh app built from its request: ``?rows=N`` Divs, and a slider whose callback says what the build read.

``echo`` gets the arguments and the ``X-Team`` header the build saw, kept by the
callback's closure (never in the document): only a build with the same request says
the same after a restore.
"""

from __future__ import annotations

from typing import Any

from bokeh.io import curdoc
from bokeh.layouts import column
from bokeh.models import Div, Slider

document = curdoc()
request = document.session_context.request
arguments = {name: [value.decode() for value in values] for name, values in request.arguments.items()}
rows = int(arguments.get("rows", ["1"])[0])
seen = f"arguments={sorted(arguments.items())} team={request.headers.get('X-Team')}"
pick = Slider(start=0, end=10, value=0, step=1, title="pick", name="pick")
echo = Div(text="", name="echo")


def echo_value(attr: str, old: Any, new: Any) -> None:
    echo.text = f"value={new:g} {seen}"


pick.on_change("value", echo_value)
document.add_root(column(pick, echo, *(Div(text=f"row {n}") for n in range(rows))))
