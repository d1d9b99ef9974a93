"""A sine wave shaped by four sliders and titled from a text box (a script app)."""

from __future__ import annotations

from typing import Any

import numpy as np
from bokeh.io import curdoc
from bokeh.layouts import column, row
from bokeh.models import ColumnDataSource, Slider, TextInput
from bokeh.plotting import figure

X = np.linspace(0, 4 * np.pi, 200)


def wave(amplitude: float, frequency: float, phase: float, offset: float) -> np.ndarray:
    """The curve the sliders describe."""
    return amplitude * np.sin(frequency * X + phase) + offset


source = ColumnDataSource(data={"x": X, "y": wave(1.0, 1.0, 0.0, 0.0)}, name="wave")
plot = figure(
    height=400,
    width=450,
    title="my sine wave",
    x_range=(0, 4 * np.pi),
    y_range=(-2.5, 2.5),
    tools="crosshair,pan,reset,save,wheel_zoom",
    name="plot",
)
plot.line("x", "y", source=source, line_width=3, line_alpha=0.7)

title = TextInput(title="title", value="my sine wave", name="title")
offset = Slider(title="offset", value=0.0, start=-1.0, end=1.0, step=0.1, name="offset")
amplitude = Slider(title="amplitude", value=1.0, start=-2.0, end=2.0, step=0.1, name="amplitude")
phase = Slider(title="phase", value=0.0, start=0.0, end=2 * np.pi, step=0.1, name="phase")
frequency = Slider(title="frequency", value=1.0, start=0.1, end=5.1, step=0.1, name="frequency")


def retitle(attr: str, old: Any, new: Any) -> None:
    plot.title.text = new


def reshape(attr: str, old: Any, new: Any) -> None:
    source.data = {"x": X, "y": wave(amplitude.value, frequency.value, phase.value, offset.value)}


title.on_change("value", retitle)
for slider in (offset, amplitude, phase, frequency):
    slider.on_change("value", reshape)

curdoc().add_root(row(column(title, offset, amplitude, phase, frequency, width=250), plot))
curdoc().title = "Sliders"
