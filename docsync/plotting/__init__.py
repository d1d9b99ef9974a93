"""Plotting the Bokeh way: ``figure()``, glyph methods, transforms and palettes.

>>> from docsync.plotting import figure
>>> p = figure(title="prices", x_axis_type="datetime")
>>> renderer = p.line("date", "close", source=source, legend_label="close")
"""

from __future__ import annotations

from ..document.dataspecs import field, value
from .figure import DEFAULT_TOOLS, figure
from .transform import dodge, factor_cmap, factor_mark, jitter, linear_cmap, log_cmap, stack

__all__ = [
    "DEFAULT_TOOLS",
    "dodge",
    "factor_cmap",
    "factor_mark",
    "field",
    "figure",
    "jitter",
    "linear_cmap",
    "log_cmap",
    "stack",
    "value",
]
