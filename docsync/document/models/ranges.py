"""Ranges and scales: which span of data an axis shows, and how data maps to pixels.

``start`` and ``end`` are client-writable: zooming and panning in the browser set them,
so Python callbacks see the view (``plot.x_range.on_change("start", cb)``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ...exceptions import ValidationError
from ..model import Model
from ..properties import Any_, Bool, Enum, Float, List, Nullable, Tuple
from .offered import held

__all__ = [
    "CategoricalScale",
    "DataRange1d",
    "FactorRange",
    "LinearScale",
    "LogScale",
    "Range",
    "Range1d",
    "Scale",
]


class Range(Model):
    """A span of values shown along one dimension."""

    __abstract__ = True

    def check_client_values(self, values: Mapping[str, Any], new: bool) -> None:
        """Zoom and pan leave finite ends: a browser's NaN or infinity would reach every tab."""
        for attr in ("start", "end"):
            value = values[attr]
            if not isinstance(value, float) or math.isfinite(value):
                continue
            before = None if new else held(self, attr)
            if isinstance(before, float) and (before == value or (math.isnan(before) and math.isnan(value))):
                continue  # the app's own value, sent back
            raise ValidationError(f"{self.__type_name__}.{attr} {value!r} is not a finite number")


class Range1d(Range):
    """A fixed numeric span; the browser changes it by zooming and panning."""

    __client_writable__ = frozenset({"start", "end"})
    start = Float(0.0)
    end = Float(1.0)
    reset_start = Nullable(Float(), help="Where reset goes back to (default: the first start).")
    reset_end = Nullable(Float())
    bounds = Nullable(Tuple(Nullable(Float()), Nullable(Float())), help="Limits zoom and pan may not pass.")
    min_interval = Nullable(Float())
    max_interval = Nullable(Float())


class DataRange1d(Range):
    """A span computed from the data of the plot's renderers, padded.

    While ``start``/``end`` are None they follow the data (streamed data included); a
    zoom or pan in the browser sets them; reset sets them back to None.
    """

    __client_writable__ = frozenset({"start", "end"})
    start = Nullable(Float())
    end = Nullable(Float())
    range_padding = Float(0.1)
    range_padding_units = Enum("percent", "absolute")
    follow = Nullable(Enum("start", "end"), help="Show only the last ``follow_interval`` of the data.")
    follow_interval = Nullable(Float())
    only_visible = Bool(help="Count only visible renderers.")
    flipped = Bool()
    default_span = Float(2.0)
    renderers = List(Any_(), help="The renderers whose data counts (empty: all of the plot's).")


class FactorRange(Range):
    """Categories along an axis: strings, or tuples of strings for nested factors."""

    __client_writable__ = frozenset({"start", "end"})
    factors = List(Any_())
    factor_padding = Float(0.0)
    subgroup_padding = Float(0.8)
    group_padding = Float(1.4)
    range_padding = Float(0.0)
    start = Nullable(Float(), help="Set by zoom and pan (synthetic coordinates).")
    end = Nullable(Float())


class Scale(Model):
    """Maps data to screen along one dimension."""

    __abstract__ = True


class LinearScale(Scale):
    """Equal steps of data, equal steps of pixels."""


class LogScale(Scale):
    """Equal ratios of data, equal steps of pixels (positive data only)."""


class CategoricalScale(Scale):
    """Factors of a FactorRange to pixels."""
