"""Glyphs made of lines: Line, MultiLine, Step, Segment."""

from __future__ import annotations

from ..dataspecs import NumberSpec
from ..properties import Enum
from .glyph_base import Glyph, LineProps, XYGlyph

__all__ = ["Line", "MultiLine", "Segment", "Step"]


class Line(XYGlyph, LineProps):
    """A polyline through the points, in row order; NaN breaks it."""

    x = NumberSpec("x")
    y = NumberSpec("y")


class Step(XYGlyph, LineProps):
    """A step line: horizontal then vertical ('after'), vertical first ('before'), or centred."""

    x = NumberSpec("x")
    y = NumberSpec("y")
    mode = Enum("before", "after", "center")


class MultiLine(Glyph, LineProps):
    """One polyline per row: ``xs`` and ``ys`` hold a sequence of coordinates each."""

    xs = NumberSpec("xs")
    ys = NumberSpec("ys")


class Segment(Glyph, LineProps):
    """A straight segment per row, from (x0, y0) to (x1, y1)."""

    x0 = NumberSpec("x0")
    y0 = NumberSpec("y0")
    x1 = NumberSpec("x1")
    y1 = NumberSpec("y1")
