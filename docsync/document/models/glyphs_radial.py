"""Pie and donut pieces: Wedge and AnnularWedge."""

from __future__ import annotations

from ..dataspecs import AngleSpec, NumberSpec
from ..properties import Enum
from .glyph_base import FillProps, LineProps, XYGlyph

__all__ = ["AnnularWedge", "Wedge"]


class Wedge(XYGlyph, LineProps, FillProps):
    """A pie slice per row: centre, radius (data units), start and end angles (radians)."""

    x = NumberSpec("x")
    y = NumberSpec("y")
    radius = NumberSpec("radius")
    start_angle = AngleSpec("start_angle")
    end_angle = AngleSpec("end_angle")
    direction = Enum("anticlock", "clock")


class AnnularWedge(XYGlyph, LineProps, FillProps):
    """A donut slice per row, between inner and outer radius."""

    x = NumberSpec("x")
    y = NumberSpec("y")
    inner_radius = NumberSpec("inner_radius")
    outer_radius = NumberSpec("outer_radius")
    start_angle = AngleSpec("start_angle")
    end_angle = AngleSpec("end_angle")
    direction = Enum("anticlock", "clock")
