"""Rectangles: VBar and HBar (stackable, dodgeable), Quad (histograms), Rect (heatmaps)."""

from __future__ import annotations

from ..dataspecs import AngleSpec, NumberSpec
from .glyph_base import FillProps, Glyph, LineProps, XYGlyph

__all__ = ["HBar", "Quad", "Rect", "VBar"]


class VBar(Glyph, LineProps, FillProps):
    """A vertical bar per row, centred at x, from bottom to top."""

    x = NumberSpec("x")
    width = NumberSpec(1.0, help="In data units (a fraction of a category on a categorical axis).")
    top = NumberSpec("top")
    bottom = NumberSpec(0.0)


class HBar(Glyph, LineProps, FillProps):
    """A horizontal bar per row, centred at y, from left to right."""

    y = NumberSpec("y")
    height = NumberSpec(1.0)
    right = NumberSpec("right")
    left = NumberSpec(0.0)


class Quad(Glyph, LineProps, FillProps):
    """An axis-aligned box per row (histogram bins)."""

    left = NumberSpec("left")
    right = NumberSpec("right")
    top = NumberSpec("top")
    bottom = NumberSpec("bottom")


class Rect(XYGlyph, LineProps, FillProps):
    """A box centred at (x, y) per row, width and height in data units (heatmap cells)."""

    x = NumberSpec("x")
    y = NumberSpec("y")
    width = NumberSpec("width")
    height = NumberSpec("height")
    angle = AngleSpec(0.0)
