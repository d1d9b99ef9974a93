"""``figure()``: a Plot with axes, grids, ranges and tools made from a few keywords, as in Bokeh."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..document.models import (
    BoxSelectTool,
    BoxZoomTool,
    CategoricalAxis,
    CategoricalScale,
    CrosshairTool,
    DataRange1d,
    DatetimeAxis,
    FactorRange,
    Grid,
    HoverTool,
    LassoSelectTool,
    LinearAxis,
    LinearScale,
    LogAxis,
    LogScale,
    PanTool,
    Plot,
    Range,
    Range1d,
    ResetTool,
    SaveTool,
    TapTool,
    Tool,
    Toolbar,
    WheelZoomTool,
)

__all__ = ["DEFAULT_TOOLS", "figure"]

DEFAULT_TOOLS = "pan,wheel_zoom,box_zoom,save,reset"

TOOLS: dict[str, Any] = {
    "pan": PanTool,
    "xpan": lambda: PanTool(dimensions="width"),
    "ypan": lambda: PanTool(dimensions="height"),
    "wheel_zoom": WheelZoomTool,
    "xwheel_zoom": lambda: WheelZoomTool(dimensions="width"),
    "ywheel_zoom": lambda: WheelZoomTool(dimensions="height"),
    "box_zoom": BoxZoomTool,
    "xbox_zoom": lambda: BoxZoomTool(dimensions="width"),
    "reset": ResetTool,
    "save": SaveTool,
    "hover": HoverTool,
    "crosshair": CrosshairTool,
    "tap": TapTool,
    "box_select": BoxSelectTool,
    "xbox_select": lambda: BoxSelectTool(dimensions="width"),
    "lasso_select": LassoSelectTool,
}


def _tools(spec: str | Sequence[str | Tool]) -> list[Tool]:
    items = [item.strip() for item in spec.split(",")] if isinstance(spec, str) else list(spec)
    out: list[Tool] = []
    for item in items:
        if isinstance(item, Tool):
            out.append(item)
        elif item:
            if item not in TOOLS:
                raise ValueError(f"unknown tool {item!r}; known: {', '.join(TOOLS)}")
            out.append(TOOLS[item]())
    return out


def _range(value: Any) -> Range:
    if value is None:
        return DataRange1d()
    if isinstance(value, Range):
        return value
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int | float) for v in value):
        return Range1d(start=value[0], end=value[1])
    if isinstance(value, Sequence) and not isinstance(value, str):
        return FactorRange(factors=[list(f) if isinstance(f, tuple) else f for f in value])
    raise ValueError(f"a range is None, (start, end), a list of factors or a Range, got {value!r:.60}")


def _axis(axis_type: str | None, range_: Range, label: str | None) -> tuple[Any, Any]:
    if axis_type is None:
        return None, LinearScale()
    if isinstance(range_, FactorRange):
        return CategoricalAxis(axis_label=label), CategoricalScale()
    if axis_type == "log":
        return LogAxis(axis_label=label), LogScale()
    if axis_type == "datetime":
        return DatetimeAxis(axis_label=label), LinearScale()
    if axis_type in ("linear", "auto"):
        return LinearAxis(axis_label=label), LinearScale()
    raise ValueError(f"axis type must be 'linear', 'log', 'datetime', 'auto' or None, got {axis_type!r}")


def figure(
    *,
    title: str | None = None,
    x_range: Any = None,
    y_range: Any = None,
    x_axis_type: str | None = "auto",
    y_axis_type: str | None = "auto",
    x_axis_label: str | None = None,
    y_axis_label: str | None = None,
    x_axis_location: str = "below",
    y_axis_location: str = "left",
    tools: str | Sequence[str | Tool] = DEFAULT_TOOLS,
    tooltips: Any = None,
    active_drag: Any = "auto",
    active_scroll: Any = "auto",
    active_tap: Any = "auto",
    active_inspect: Any = "auto",
    **plot: Any,
) -> Plot:
    """Return a Plot with ranges, scales, axes, grids and tools; then call its glyph methods."""
    xr, yr = _range(x_range), _range(y_range)
    x_axis, x_scale = _axis(x_axis_type, xr, x_axis_label)
    y_axis, y_scale = _axis(y_axis_type, yr, y_axis_label)
    tool_list = _tools(tools)
    if tooltips is not None:
        # As in Bokeh: the tooltips go to the hover tool of ``tools``, or to a new one.
        hover = next((tool for tool in tool_list if isinstance(tool, HoverTool)), None)
        if hover is None:
            tool_list.append(HoverTool(tooltips=tooltips))
        else:
            hover.tooltips = tooltips

    def pick(value: Any) -> Any:
        if isinstance(value, str) and value != "auto":
            return next((t for t in tool_list if t.__type_name__ == TOOLS[value]().__type_name__), None)
        return value

    toolbar = Toolbar(
        tools=tool_list,
        active_drag=pick(active_drag),
        active_scroll=pick(active_scroll),
        active_tap=pick(active_tap),
        active_inspect=pick(active_inspect),
    )
    made = Plot(title=title, x_range=xr, y_range=yr, x_scale=x_scale, y_scale=y_scale, toolbar=toolbar, **plot)
    if x_axis is not None:
        made.add_layout(x_axis, x_axis_location)
        made.add_layout(Grid(dimension=0, axis=x_axis))
    if y_axis is not None:
        made.add_layout(y_axis, y_axis_location)
        made.add_layout(Grid(dimension=1, axis=y_axis))
    return made
