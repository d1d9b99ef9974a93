"""Filled areas: VArea, HArea (stackable), Patch and Patches."""

from __future__ import annotations

from ..dataspecs import NumberSpec
from .glyph_base import FillProps, Glyph, LineProps

__all__ = ["HArea", "Patch", "Patches", "VArea"]


class VArea(Glyph, FillProps):
    """The area between y1 and y2 over x."""

    x = NumberSpec("x")
    y1 = NumberSpec("y1")
    y2 = NumberSpec("y2")


class HArea(Glyph, FillProps):
    """The area between x1 and x2 along y."""

    y = NumberSpec("y")
    x1 = NumberSpec("x1")
    x2 = NumberSpec("x2")


class Patch(Glyph, LineProps, FillProps):
    """One polygon through all the rows' points."""

    x = NumberSpec("x")
    y = NumberSpec("y")


class Patches(Glyph, LineProps, FillProps):
    """One polygon per row: ``xs`` and ``ys`` hold its vertices."""

    xs = NumberSpec("xs")
    ys = NumberSpec("ys")
