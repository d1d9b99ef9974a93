"""Defaults of docsync's and Bokeh's models made comparable: plain values, not specs or tracked containers."""

from __future__ import annotations

import math
from typing import Any

from bokeh.core.property.vectorization import Field
from bokeh.model import Model as BokehModel

from docsync.document.model import Model

__all__ = ["plain"]


def plain(value: Any) -> Any:
    """A default as a plain value.

    A spec's constant as itself, a column as ('field', name); a model as '<its type>'
    (its own defaults are compared under its name); lists, dicts and sets as plain ones;
    NaN as None; a solid dash as Bokeh's [].
    """
    if isinstance(value, (Model, BokehModel)):
        return f"<{type(value).__name__}>"
    if isinstance(value, dict) and set(value) == {"value"}:
        return plain(value["value"])
    if isinstance(value, dict) and set(value) == {"field"}:
        return ("field", value["field"])
    if isinstance(value, Field):
        return ("field", value.field)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted(plain(item) for item in value)
    if isinstance(value, (list, tuple)) and type(value) is not tuple:
        return [plain(item) for item in value]
    if isinstance(value, tuple):
        return tuple(plain(item) for item in value)
    if isinstance(value, float) and math.isnan(value):
        return None
    value = getattr(value, "value", value)
    return [] if value == "solid" else value
