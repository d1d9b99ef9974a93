"""Text per row, and images: Image (a 2-D array through a colour mapper) and ImageRGBA."""

from __future__ import annotations

from ..dataspecs import AngleSpec, NumberSpec, StringSpec
from ..properties import Float, Instance, Nullable
from .glyph_base import TextProps, XYGlyph
from .mappers import ColorMapper

__all__ = ["ImageGlyph", "ImageRGBA", "Text"]


class Text(XYGlyph, TextProps):
    """A text at (x, y) per row, offset in screen pixels."""

    x = NumberSpec("x")
    y = NumberSpec("y")
    text = StringSpec("text")
    angle = AngleSpec(0.0)
    x_offset = NumberSpec(0.0)
    y_offset = NumberSpec(0.0)


class ImageGlyph(XYGlyph):
    """A 2-D array per row, coloured by ``color_mapper``, drawn over [x, x+dw] by [y, y+dh]."""

    image = NumberSpec("image", help="A column of 2-D arrays (or one 3-D array: rows by height by width).")
    x = NumberSpec("x")
    y = NumberSpec("y")
    dw = NumberSpec("dw")
    dh = NumberSpec("dh")
    global_alpha = Float(1.0)
    color_mapper = Nullable(Instance(ColorMapper), help="None: a grey ramp over the data's extent.")


class ImageRGBA(XYGlyph):
    """A 2-D array of packed RGBA (uint32) per row, drawn over [x, x+dw] by [y, y+dh]."""

    image = NumberSpec("image")
    x = NumberSpec("x")
    y = NumberSpec("y")
    dw = NumberSpec("dw")
    dh = NumberSpec("dh")
    global_alpha = Float(1.0)
