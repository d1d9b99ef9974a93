"""Plots drawn on a canvas, with Line, Scatter and VBar glyphs over a data source."""

from __future__ import annotations

from ..model import Model
from ..properties import Bool, Color, Enum, Float, Instance, Int, List, Nullable, String, Tuple
from .sources import ColumnDataSource

__all__ = ["Glyph", "Line", "Plot", "Scatter", "VBar"]


class Glyph(Model):
    """Marks drawn from two columns of a data source."""

    __abstract__ = True
    source = Instance(ColumnDataSource)
    x = String("x", help="Column holding the x values.")
    y = String("y", help="Column holding the y values.")
    color = Color("#1f77b4")
    alpha = Float(1.0)
    legend_label = String()


class Line(Glyph):
    """A polyline through the points."""

    line_width = Float(2.0)


class Scatter(Glyph):
    """A marker at each point."""

    size = Float(6.0)
    marker = Enum("circle", "square", "triangle")


class VBar(Glyph):
    """Vertical bars from ``bottom`` to each y."""

    width = Float(0.8, help="Bar width in data units.")
    bottom = Float(0.0)


class Plot(Model):
    """Axes, a title and glyphs; ranges follow the data unless fixed."""

    title = String()
    x_axis_label = String()
    y_axis_label = String()
    renderers = List(Instance(Glyph))
    width = Nullable(Int(), help="Width in pixels, or None to fill the container.")
    height = Int(300)
    x_range = Nullable(Tuple(Float(), Float()), help="Fixed (start, end), or None to auto-range.")
    y_range = Nullable(Tuple(Float(), Float()))
    background = Color("white")
    show_grid = Bool(True)
    show_hover = Bool(True)
