"""Specs that map a column through a transform, as ``bokeh.transform`` writes them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..document.dataspecs import field
from ..document.models import (
    CategoricalColorMapper,
    CategoricalMarkerMapper,
    Dodge,
    Jitter,
    LinearColorMapper,
    LogColorMapper,
    Stack,
)

__all__ = ["dodge", "factor_cmap", "factor_mark", "jitter", "linear_cmap", "log_cmap", "stack"]


def factor_cmap(
    field_name: str,
    palette: Sequence[str],
    factors: Sequence[Any],
    start: int = 0,
    end: int | None = None,
    nan_color: str = "gray",
) -> dict[str, Any]:
    """Colour each row by its factor in column ``field_name``."""
    mapper = CategoricalColorMapper(
        palette=list(palette),
        factors=[list(f) if isinstance(f, tuple) else f for f in factors],
        start=start,
        end=end,
        nan_color=nan_color,
    )
    return field(field_name, mapper)


def factor_mark(field_name: str, markers: Sequence[str], factors: Sequence[Any]) -> dict[str, Any]:
    """Give each row the marker of its factor in column ``field_name``."""
    return field(field_name, CategoricalMarkerMapper(markers=list(markers), factors=list(factors)))


def linear_cmap(
    field_name: str, palette: Sequence[str], low: float | None = None, high: float | None = None, **kw: Any
) -> dict[str, Any]:
    """Colour each row by where its value lies in [low, high]."""
    return field(field_name, LinearColorMapper(palette=list(palette), low=low, high=high, **kw))


def log_cmap(
    field_name: str, palette: Sequence[str], low: float | None = None, high: float | None = None, **kw: Any
) -> dict[str, Any]:
    """Colour each row by where its value lies in [low, high], on a log scale."""
    return field(field_name, LogColorMapper(palette=list(palette), low=low, high=high, **kw))


def dodge(field_name: str, value: float, range: Any = None) -> dict[str, Any]:
    """Shift column ``field_name`` by ``value`` (a fraction of a factor on a categorical axis)."""
    return field(field_name, Dodge(value=value, range=range))


def jitter(field_name: str, width: float, mean: float = 0.0) -> dict[str, Any]:
    """Spread column ``field_name`` by uniform noise of ``width``."""
    return field(field_name, Jitter(width=width, mean=mean))


def stack(*fields: str) -> dict[str, Any]:
    """The row-wise sum of ``fields``."""
    return {"expr": Stack(fields=list(fields))}
