"""Tools, as models configured per plot, and the toolbar that holds them."""

from __future__ import annotations

from ..model import Model
from ..properties import Any_, Bool, Color, Dict, Either, Enum, Float, Instance, List, Nullable, String, Tuple
from .renderers import GlyphRenderer

__all__ = [
    "BoxSelectTool",
    "BoxZoomTool",
    "CrosshairTool",
    "HoverTool",
    "LassoSelectTool",
    "PanTool",
    "ResetTool",
    "SaveTool",
    "TapTool",
    "Tool",
    "Toolbar",
    "WheelZoomTool",
]

DIMENSIONS = ("both", "width", "height")
SELECT_MODES = ("replace", "append", "intersect", "subtract")


class Tool(Model):
    """A way to interact with a plot; its button sits in the toolbar."""

    __abstract__ = True
    description = Nullable(String(), help="The button's tooltip.")


def _renderers() -> Either:
    return Either(Enum("auto"), List(Instance(GlyphRenderer)), default="auto")


class PanTool(Tool):
    """Drag to move the view."""

    dimensions = Enum(*DIMENSIONS)


class WheelZoomTool(Tool):
    """Scroll to zoom about the pointer; over an axis, along that axis only."""

    dimensions = Enum(*DIMENSIONS)
    zoom_on_axis = Bool(True)
    speed = Float(1 / 600)


class BoxZoomTool(Tool):
    """Drag a box to zoom into it."""

    dimensions = Enum(*DIMENSIONS)
    match_aspect = Bool()


class ResetTool(Tool):
    """Back to the initial view (and a Reset event)."""


class SaveTool(Tool):
    """Download the plot as PNG."""

    filename = Nullable(String())


class HoverTool(Tool):
    """Show a tooltip for the rows under the pointer.

    ``tooltips``: a list of (label, template) pairs, a template string, or None (no
    tooltip, only the hover look). Templates: ``@col`` (a column; ``@{col name}``),
    ``@col{0.00}`` (numeral format), ``@col{%F}`` (strftime, with ``formatters={"@col":
    "datetime"}``), ``$index``, ``$x``, ``$y``, ``$name``, ``$color[hex]:col``.
    """

    tooltips = Nullable(
        Either(String(), List(Tuple(String(), String()))),
        default=lambda: [("index", "$index"), ("data (x, y)", "($x, $y)"), ("screen (x, y)", "($sx, $sy)")],
    )
    formatters = Dict(String(), String(), help="'@col' -> 'numeral' | 'printf' | 'datetime'.")
    mode = Enum("mouse", "vline", "hline")
    renderers = _renderers()
    point_policy = Enum("snap_to_data", "follow_mouse")
    line_policy = Enum("nearest", "prev", "next", "interp", "none")
    show_arrow = Bool(True)
    attachment = Enum("horizontal", "vertical", "left", "right", "above", "below")


class CrosshairTool(Tool):
    """Lines through the pointer across the plot."""

    dimensions = Enum(*DIMENSIONS)
    line_color = Color("black")
    line_alpha = Float(1.0)
    line_width = Float(1.0)


class TapTool(Tool):
    """Click a glyph to select its row (shift-click adds)."""

    renderers = _renderers()
    behavior = Enum("select", "inspect")
    mode = Enum(*SELECT_MODES, default="replace")


class BoxSelectTool(Tool):
    """Drag a box to select the rows inside it."""

    renderers = _renderers()
    dimensions = Enum(*DIMENSIONS)
    mode = Enum(*SELECT_MODES)
    select_every_mousemove = Bool()


class LassoSelectTool(Tool):
    """Draw a loop to select the rows inside it."""

    renderers = _renderers()
    mode = Enum(*SELECT_MODES)
    select_every_mousemove = Bool()


class Toolbar(Model):
    """A plot's tools and which of them are active, by gesture.

    The active tools are client-writable: the user picks them in the toolbar.
    """

    __client_writable__ = frozenset({"active_drag", "active_scroll", "active_tap", "active_inspect"})
    tools = List(Instance(Tool))
    active_drag = Nullable(Either(Enum("auto"), Instance(Tool)), default="auto")
    active_scroll = Nullable(Either(Enum("auto"), Instance(Tool)), default="auto")
    active_tap = Nullable(Either(Enum("auto"), Instance(Tool)), default="auto")
    active_inspect = Nullable(Either(Enum("auto"), Instance(Tool), List(Instance(Tool))), default="auto")
    autohide = Bool()
    logo = Any_(None)
