"""The base of every glyph, and the line, fill and text properties glyphs share."""

from __future__ import annotations

from ..dataspecs import ColorSpec, NumberSpec
from ..model import Model
from ..properties import Either, Enum, Int, List, String

__all__ = ["FillProps", "Glyph", "LineProps", "TextProps", "XYGlyph"]

DASHES = ("solid", "dashed", "dotted", "dotdash", "dashdot")


class LineProps:
    """How lines are stroked: colour, alpha and width per row, dash, cap and join."""

    __slots__ = ()
    line_color = ColorSpec("black")
    line_alpha = NumberSpec(1.0)
    line_width = NumberSpec(1.0, help="In screen pixels.")
    line_dash = Either(Enum(*DASHES), List(Int()), help="A named dash, or on/off lengths in pixels.")
    line_dash_offset = Int(0, help="Pixels into the dash pattern where the line starts.")
    line_cap = Enum("butt", "round", "square")
    line_join = Enum("bevel", "miter", "round", default="bevel")


class FillProps:
    """How areas are filled: colour and alpha per row."""

    __slots__ = ()
    fill_color = ColorSpec("gray")
    fill_alpha = NumberSpec(1.0)


class TextProps:
    """How text is drawn: colour and alpha per row, font, size, style, alignment."""

    __slots__ = ()
    text_color = ColorSpec("#444444")
    text_alpha = NumberSpec(1.0)
    text_font = String("helvetica")
    text_font_size = String("16px", help="A CSS length: '12px', '1.2em'.")
    text_font_style = Enum("normal", "italic", "bold", "bold italic")
    text_align = Enum("left", "right", "center")
    text_baseline = Enum("bottom", "top", "middle", "alphabetic", "hanging", "ideographic")


class Glyph(Model):
    """Marks drawn from the columns of a GlyphRenderer's data source."""

    __abstract__ = True


class XYGlyph(Glyph):
    """A glyph anchored at (x, y) per row."""

    __abstract__ = True
