"""Annotations: Title, Legend, Span, BoxAnnotation, Label, LabelSet, Arrow, Band, Whisker, ColorBar."""

from __future__ import annotations

from typing import Any

from ..dataspecs import ColorSpec, NumberSpec, StringSpec
from ..model import Model
from ..properties import Any_, Bool, Color, Either, Enum, Float, Instance, Int, List, Nullable, String, Tuple
from .axes import Ticker, TickFormatter
from .glyph_base import DASHES, FillProps, LineProps, TextProps
from .mappers import ColorMapper
from .renderers import LEVELS, GlyphRenderer, Renderer
from .sources import ColumnDataSource

__all__ = [
    "Annotation",
    "Arrow",
    "ArrowHead",
    "Band",
    "BoxAnnotation",
    "ColorBar",
    "Label",
    "LabelSet",
    "Legend",
    "LegendItem",
    "NormalHead",
    "OpenHead",
    "Span",
    "TeeHead",
    "Title",
    "VeeHead",
    "Whisker",
]

UNITS = Enum("data", "screen")
LOCATIONS = (
    "top_right", "top_left", "top_center", "bottom_right", "bottom_left", "bottom_center",
    "center_right", "center_left", "center",
)  # fmt: skip


class Annotation(Renderer):
    """A renderer that explains or marks the data."""

    __abstract__ = True
    level = Enum(*LEVELS, default="annotation")


class Title(Annotation):
    """The plot's title."""

    text = String()
    align = Enum("left", "center", "right")
    text_font_size = String("13px")
    text_font_style = Enum("bold", "normal", "italic", "bold italic")
    text_color = Color("#444444")
    background_fill_color = Nullable(Color())


class LegendItem(Model):
    """One legend entry: a label for some renderers (``index``: one row of them)."""

    label = Nullable(String())
    renderers = List(Instance(GlyphRenderer))
    index = Nullable(Int())
    visible = Bool(True)


class Legend(Annotation):
    """Legend entries; a click on one hides or mutes its renderers (``click_policy``)."""

    items = List(Instance(LegendItem))
    location = Either(Enum(*LOCATIONS), Tuple(Float(), Float()), default="top_right")
    orientation = Enum("vertical", "horizontal")
    click_policy = Enum("none", "hide", "mute")
    title = Nullable(String())
    background_fill_color = Nullable(Color(), default="#ffffff")
    background_fill_alpha = Float(0.95)
    border_line_color = Nullable(Color(), default="#e5e5e5")
    label_text_font_size = String("13px")
    label_text_color = Color("#444444")
    glyph_width = Int(20)
    glyph_height = Int(20)
    spacing = Int(3)
    padding = Int(10)
    margin = Int(10)


class Span(Annotation, LineProps):
    """A line across the whole plot at ``location``: vertical ('height') or horizontal ('width')."""

    location = Nullable(Float())
    location_units = UNITS
    dimension = Enum("width", "height")


class BoxAnnotation(Annotation, LineProps, FillProps):
    """A box; a missing edge extends to the frame's edge."""

    left = Nullable(Float())
    right = Nullable(Float())
    top = Nullable(Float())
    bottom = Nullable(Float())
    left_units = UNITS
    right_units = UNITS
    top_units = UNITS
    bottom_units = UNITS
    fill_color = ColorSpec("#fff9ba")
    fill_alpha = NumberSpec(0.4)
    line_color = ColorSpec("#cccccc")
    line_alpha = NumberSpec(0.3)


class Label(Annotation, TextProps):
    """One text at (x, y)."""

    x = Float(0.0)
    y = Float(0.0)
    x_units = UNITS
    y_units = UNITS
    text = String()
    angle = Float(0.0)
    x_offset = Float(0.0)
    y_offset = Float(0.0)
    background_fill_color = Nullable(Color())
    background_fill_alpha = Float(1.0)
    border_line_color = Nullable(Color())


class LabelSet(Annotation, TextProps):
    """A text per row of ``source``."""

    source = Instance(ColumnDataSource)
    x = NumberSpec("x")
    y = NumberSpec("y")
    text = StringSpec("text")
    x_units = UNITS
    y_units = UNITS
    x_offset = NumberSpec(0.0)
    y_offset = NumberSpec(0.0)
    angle = NumberSpec(0.0)


class ArrowHead(Model):
    """The head of an arrow, stroked as a line is (one value each, not per row)."""

    __abstract__ = True
    size = Float(25.0)
    line_color = Nullable(Color(), default="black")
    line_alpha = Float(1.0)
    line_width = Float(1.0)
    line_dash = Either(Enum(*DASHES), List(Int()), help="A named dash, or on/off lengths in pixels.")
    line_dash_offset = Int(0)
    line_cap = Enum("butt", "round", "square")
    line_join = Enum("bevel", "miter", "round", default="bevel")
    fill_color = Nullable(Color(), default="black")


class OpenHead(ArrowHead):
    """Two strokes."""


class NormalHead(ArrowHead):
    """A filled triangle."""

    fill_alpha = Float(1.0)


class VeeHead(ArrowHead):
    """A filled chevron."""

    fill_alpha = Float(1.0)


class TeeHead(ArrowHead):
    """A bar across the end, ``size`` long (a Whisker's caps are TeeHeads of size 10)."""


class Arrow(Annotation, LineProps):
    """An arrow from (x_start, y_start) to (x_end, y_end), in data units."""

    x_start = Float(0.0)
    y_start = Float(0.0)
    x_end = Float(0.0)
    y_end = Float(0.0)
    start = Nullable(Instance(ArrowHead))
    end = Nullable(Instance(ArrowHead))
    source = Nullable(Instance(ColumnDataSource), help="If given, x_start... name its columns: one arrow per row.")
    x_start_field = Nullable(String())
    y_start_field = Nullable(String())
    x_end_field = Nullable(String())
    y_end_field = Nullable(String())

    def __init__(self, *, id: str | None = None, **properties: Any) -> None:
        # Made in Python (no id given): an OpenHead at the end, as in Bokeh. An arrow
        # decoded from the wire (id given) holds what the wire says.
        if id is None and "end" not in properties:
            properties["end"] = OpenHead()
        super().__init__(id=id, **properties)


class Band(Annotation, LineProps, FillProps):
    """A filled band between ``lower`` and ``upper`` along ``base`` (error bands)."""

    source = Instance(ColumnDataSource)
    base = NumberSpec("base")
    lower = NumberSpec("lower")
    upper = NumberSpec("upper")
    dimension = Enum("height", "width")
    fill_color = ColorSpec("#fff9ba")
    fill_alpha = NumberSpec(0.4)
    line_color = ColorSpec("#cccccc")
    line_alpha = NumberSpec(0.3)


class Whisker(Annotation, LineProps):
    """An error bar per row, from ``lower`` to ``upper`` at ``base``; drawn under the glyphs (as in Bokeh)."""

    level = Enum(*LEVELS, default="underlay")
    source = Instance(ColumnDataSource)
    base = NumberSpec("base")
    lower = NumberSpec("lower")
    upper = NumberSpec("upper")
    dimension = Enum("height", "width")
    lower_head = Nullable(Instance(ArrowHead), help="The cap at ``lower``; None: none.")
    upper_head = Nullable(Instance(ArrowHead), help="The cap at ``upper``; None: none.")

    def __init__(self, *, id: str | None = None, **properties: Any) -> None:
        # Made in Python (no id given): each end capped by its own TeeHead of size 10, as
        # in Bokeh. A whisker decoded from the wire (id given) holds what the wire says.
        if id is None:
            for attr in ("lower_head", "upper_head"):
                if attr not in properties:
                    properties[attr] = TeeHead(size=10.0)
        super().__init__(id=id, **properties)


class ColorBar(Annotation):
    """The colours of a mapper with ticks of their values."""

    color_mapper = Instance(ColorMapper)
    title = Nullable(String())
    orientation = Enum("vertical", "horizontal")
    width = Int(20, help="Thickness of the bar in pixels.")
    ticker = Nullable(Instance(Ticker))
    formatter = Nullable(Instance(TickFormatter))
    label_standoff = Int(5)
    location = Any_("top_right")
