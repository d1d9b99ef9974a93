"""What the page's request said: its arguments shape the plot, a cookie and a header are shown (a script app).

``?points=N&colour=C`` choose how many points are drawn and their colour; the ``flavour``
cookie and the ``X-Team`` header are read from ``session_context.request``.
"""

from __future__ import annotations

import numpy as np
from bokeh.io import curdoc
from bokeh.layouts import column, row
from bokeh.models import Button, ColumnDataSource, Div
from bokeh.plotting import figure

document = curdoc()
request = document.session_context.request
arguments = request.arguments  # name -> list of bytes, as in Bokeh
points = int(arguments.get("points", [b"10"])[0])
colour = arguments.get("colour", [b"navy"])[0].decode()
rng = np.random.default_rng(points)

source = ColumnDataSource(data={"x": rng.random(points), "y": rng.random(points)}, name="points")
plot = figure(width=420, height=420, x_range=(0, 1), y_range=(0, 1), title=f"{points} points", name="plot")
plot.scatter("x", "y", source=source, size=14, color=colour, alpha=0.8)

shown = Div(
    text=(
        f"<p id='flavour'>flavour cookie: {request.cookies.get('flavour', '(none)')}</p>"
        f"<p id='team'>X-Team header: {request.headers.get('X-Team', '(none)')}</p>"
        f"<p id='arguments'>arguments: {sorted(arguments)}</p>"
    ),
    name="shown",
)
draws = Div(text="drawn once", name="draws")
again = Button(label="Draw again", name="again")
count = {"draws": 1}


def draw_again() -> None:
    count["draws"] += 1
    source.data = {"x": rng.random(points), "y": rng.random(points)}
    draws.text = f"drawn {count['draws']} times"


again.on_click(draw_again)
document.add_root(row(column(shown, again, draws, width=320), plot))
document.title = "Request info"
