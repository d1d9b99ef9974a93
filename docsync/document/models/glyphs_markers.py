"""Markers: Scatter draws a marker per row (circle, square, triangle, diamond, star, ...)."""

from __future__ import annotations

from ..dataspecs import AngleSpec, MarkerSpec, NumberSpec
from .glyph_base import FillProps, LineProps, XYGlyph

__all__ = ["Scatter"]


class Scatter(XYGlyph, LineProps, FillProps):
    """A marker at each point; size in screen pixels."""

    x = NumberSpec("x")
    y = NumberSpec("y")
    size = NumberSpec(4.0, help="Diameter in screen pixels.")
    angle = AngleSpec(0.0)
    marker = MarkerSpec("circle")
