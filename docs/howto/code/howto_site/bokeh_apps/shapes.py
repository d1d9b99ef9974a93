"""A Bokeh handler as bokeh-django's ``autoload`` route takes it: moved to docsync unchanged."""

import math

from bokeh.document import Document
from bokeh.layouts import column
from bokeh.models import Div, Select
from bokeh.plotting import figure

SIDES = {"triangle": 3, "square": 4, "hexagon": 6}


def modify_doc(doc: Document) -> None:
    """Draw the shape the select names; a Python callback redraws it when the user picks another."""
    choice = Select(title="shape", value="triangle", options=list(SIDES), name="shape")
    plot = figure(height=250, width=250, match_aspect=True, name="plot")
    patch = plot.patch(x=[], y=[], alpha=0.6)
    said = Div(text="", name="said")

    def draw(attr, old, new):
        sides = SIDES[new]
        patch.data_source.data = {
            "x": [math.cos(2 * math.pi * k / sides) for k in range(sides)],
            "y": [math.sin(2 * math.pi * k / sides) for k in range(sides)],
        }
        said.text = f"{new}: {sides} sides"

    choice.on_change("value", draw)
    draw("value", None, choice.value)
    doc.add_root(column(choice, said, plot))
