"""Input ``a`` and an unnamed input, each echoing whose callback saw its value; a slider's callback swaps the name.

The slider's callback renames ``a`` to None and gives ``a`` to the unnamed input: a
restore must still give each input its own callback (test_bokeh_restored_ids.py).
"""

from __future__ import annotations

import os
from typing import Any

from bokeh.io import curdoc
from bokeh.models import Div, Slider, TextInput

first = TextInput(title="first", value="", name="a")
second = TextInput(title="second", value="")
echo = Div(text="", name="echo")
renames = Slider(start=0, end=10, step=1, value=0, name="renames")


def echoes(whose: str) -> Any:
    """A callback that writes into ``echo`` whose it is and the value it saw."""

    def saw(attr: str, old: Any, new: Any) -> None:
        echo.text = f"{whose} saw {new} pid={os.getpid()}"

    return saw


def rename(attr: str, old: Any, new: Any) -> None:
    """Take the name ``a`` from the first input and give it to the second."""
    first.name, second.name = None, "a"


first.on_change("value", echoes("first's"))
second.on_change("value", echoes("second's"))
renames.on_change("value", rename)
for model in (first, second, renames, echo):
    curdoc().add_root(model)
