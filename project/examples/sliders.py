"""sliders: four sliders drive a sine wave drawn by a line glyph."""

from __future__ import annotations

import numpy as np

from docsync.document import Document
from docsync.document.models import Button, Column, ColumnDataSource, Div, Row, Slider, TextInput
from docsync.plotting import figure


def modify_doc(doc: Document) -> None:
    """Build the sliders app."""
    x = np.linspace(0, 4 * np.pi, 200)
    source = ColumnDataSource(data={"x": x, "y": np.sin(x)}, name="source")
    plot = figure(
        title="y = offset + amplitude · sin(frequency · x + phase)",
        x_axis_label="x",
        y_axis_label="y",
        y_range=(-5.0, 5.0),
        x_range=(0, 4 * np.pi),
        width=None,
        height=400,
        tools="crosshair,pan,reset,save,wheel_zoom",
        name="plot",
    )
    plot.line("x", "y", source=source, line_width=3, line_alpha=0.6)
    frequency = Slider(title="frequency", start=0.1, end=5.1, step=0.1, value=1.0, name="frequency")
    amplitude = Slider(title="amplitude", start=-5.0, end=5.0, step=0.1, value=1.0, name="amplitude")
    phase = Slider(title="phase", start=0.0, end=2 * np.pi, step=0.1, value=0.0, name="phase")
    offset = Slider(title="offset", start=-5.0, end=5.0, step=0.1, value=0.0, name="offset")
    reset = Button(label="Reset", name="reset")
    # Bounded: the callback copies it into the title, and a client's 9 MB text doubled
    # made the document too big to pull (protocol.md §11, per-client limits).
    text = TextInput(title="title", value=plot.title.text, name="text", max_length=200)
    # As in Bokeh's sliders example: the text input retitles the plot.
    text.on_change("value", lambda attr, old, new: setattr(plot.title, "text", new))
    status = Div(text="Move a slider.", name="status")

    def redraw() -> None:
        source.data["y"] = offset.value + amplitude.value * np.sin(frequency.value * x + phase.value)

    def watch(slider: Slider) -> None:
        def update(attr: str, old: float, new: float) -> None:
            redraw()
            status.text = f"{slider.title} changed from {old:g} to {new:g}"

        slider.on_change("value", update)

    for slider in (frequency, amplitude, phase, offset):
        watch(slider)

    def on_reset(event: object) -> None:
        doc.hold()
        frequency.value, amplitude.value, phase.value, offset.value = 1.0, 1.0, 0.0, 0.0
        doc.unhold()
        status.text = "Reset by the server."

    reset.on_click(on_reset)
    controls = Column(text, frequency, amplitude, phase, offset, reset, status, width=320)
    doc.add_root(Row(controls, plot, name="layout"))
    doc.title = "sliders"
