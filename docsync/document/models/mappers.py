"""Colour mappers and transforms: a column's values turned into colours, shifts or stacks."""

from __future__ import annotations

from ..model import Model
from ..properties import Any_, Color, Float, Int, List, Nullable, String

__all__ = [
    "CategoricalColorMapper",
    "CategoricalMarkerMapper",
    "ColorMapper",
    "Dodge",
    "Expression",
    "Jitter",
    "LinearColorMapper",
    "LogColorMapper",
    "Stack",
    "Transform",
]


class Transform(Model):
    """Maps a column's values to other values (colours, positions) in the browser."""

    __abstract__ = True


class Expression(Model):
    """Computes a column from several columns of the source, in the browser."""

    __abstract__ = True


class ColorMapper(Transform):
    """Maps values to the colours of ``palette``."""

    __abstract__ = True
    palette = List(Color(), help="The colours, low to high (see docsync.plotting.palettes).")
    nan_color = Color("gray")


class ContinuousColorMapper(ColorMapper):
    """Maps numbers in [low, high] (the data's extent when None) onto the palette."""

    __abstract__ = True
    low = Nullable(Float())
    high = Nullable(Float())
    low_color = Nullable(Color(), help="For values below low (default: the first colour).")
    high_color = Nullable(Color(), help="For values above high (default: the last colour).")


class LinearColorMapper(ContinuousColorMapper):
    """Equal steps of value, equal steps of palette."""


class LogColorMapper(ContinuousColorMapper):
    """Equal ratios of value, equal steps of palette (values must be positive)."""


class CategoricalColorMapper(ColorMapper):
    """The i-th factor gets the i-th colour (cycling when the palette is shorter)."""

    factors = List(Any_(), help="Strings, or tuples of strings for nested factors.")
    start = Int(0, help="For tuple factors: the first level compared.")
    end = Nullable(Int())


class CategoricalMarkerMapper(Transform):
    """The i-th factor gets the i-th marker."""

    factors = List(Any_())
    markers = List(String())
    default_value = String("circle")


class Dodge(Transform):
    """Shifts positions by ``value`` (along a categorical range: a fraction of a factor)."""

    value = Float(0.0)
    range = Nullable(Any_(), help="The FactorRange of the axis dodged along, if categorical.")


class Jitter(Transform):
    """Adds uniform random noise of ``width`` to positions (fixed per page load)."""

    width = Float(1.0)
    mean = Float(0.0)


class Stack(Expression):
    """The row-wise sum of ``fields`` (stacked bars and areas)."""

    fields = List(String())
