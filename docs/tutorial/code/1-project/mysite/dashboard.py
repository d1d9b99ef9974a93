# mysite/dashboard.py: a new file
import numpy as np

from docsync.document.models import Column, ColumnDataSource, Slider
from docsync.plotting import figure

HOURS = np.arange(0, 24, 0.25)


def day(swing):
    """A made-up day: coldest at 3 h, warmest at 15 h."""
    return 12 + swing * np.sin((HOURS - 9) * np.pi / 12)


def modify_doc(doc):
    source = ColumnDataSource(data={"hour": HOURS, "temperature": day(6.0)})
    swing = Slider(title="daily swing (°C)", start=0, end=15, step=0.5, value=6.0)

    def update(attr, old, new):  # runs on the server when the slider moves
        source.data["temperature"] = day(new)  # only this column travels, as a binary buffer

    swing.on_change("value", update)
    plot = figure(title="A day's temperature", x_axis_label="hour", y_axis_label="°C", width=None, height=300)
    plot.line("hour", "temperature", source=source, line_width=2)
    doc.add_root(Column(swing, plot, sizing_mode="stretch_width"))
    doc.title = "Weather dashboard"
