"""Plot: ranges, scales, axes, renderers, annotations and tools on one canvas."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ..events import MessageSentEvent
from ..model import Model
from ..properties import Bool, Color, Dict, Either, Enum, Float, Instance, Int, List, Nullable, String
from .annotations import Annotation, Legend, Title
from .axes import Axis, Grid
from .glyph_api import GlyphMethods
from .glyph_base import Glyph
from .plot_events import EVENT_CLASSES, PlotEvent, event_from_message
from .ranges import DataRange1d, LinearScale, Range, Scale
from .renderers import GlyphRenderer, Renderer
from .sources import ColumnDataSource
from .tools import Tool, Toolbar

__all__ = ["Plot"]

SIDES = ("above", "below", "left", "right", "center")


class _TitleProperty(Instance):
    """A Title; a string is made into one (``Plot(title="Prices")``)."""

    __slots__ = ()

    def accepts(self, value: Any) -> Any:
        if isinstance(value, str):
            return Title(text=value)
        return super().accepts(value)


class Splat(list[Any]):
    """A list of models whose attributes are set on all at once: ``p.xaxis.axis_label = "t"``."""

    def __setattr__(self, attr: str, value: Any) -> None:
        for item in self:
            setattr(item, attr, value)

    def __getattr__(self, attr: str) -> Any:
        if len(self) == 1:
            return getattr(self[0], attr)
        raise AttributeError(f"{len(self)} models: read {attr!r} from one of them")


class Plot(Model, GlyphMethods):
    """A canvas of renderers over x and y ranges, with axes, grids, annotations and tools.

    A Plot made in Python gets automatic ranges (DataRange1d), linear scales and a
    toolbar; ``docsync.plotting.figure()`` adds axes, grids and the default tools.
    """

    __client_events__ = frozenset(EVENT_CLASSES)
    title = Nullable(_TitleProperty(Title))
    title_location = Nullable(Enum("above", "below", "left", "right"), default="above")
    x_range = Nullable(Instance(Range))
    y_range = Nullable(Instance(Range))
    x_scale = Nullable(Instance(Scale))
    y_scale = Nullable(Instance(Scale))
    extra_x_ranges = Dict(String(), Instance(Range), help="More x ranges by name, for twin axes.")
    extra_y_ranges = Dict(String(), Instance(Range))
    extra_x_scales = Dict(String(), Instance(Scale))
    extra_y_scales = Dict(String(), Instance(Scale))
    renderers = List(Instance(Renderer))
    above = List(Either(Instance(Axis), Instance(Annotation)))
    below = List(Either(Instance(Axis), Instance(Annotation)))
    left = List(Either(Instance(Axis), Instance(Annotation)))
    right = List(Either(Instance(Axis), Instance(Annotation)))
    center = List(Either(Instance(Grid), Instance(Annotation)))
    toolbar = Nullable(Instance(Toolbar))
    toolbar_location = Nullable(Enum("right", "above", "below", "left"), default="right")
    width = Nullable(Int(), default=600, help="Width in pixels, or None to fill the container.")
    height = Int(600)
    min_border = Int(5)
    background_fill_color = Nullable(Color(), default="#ffffff")
    background_fill_alpha = Float(1.0)
    border_fill_color = Nullable(Color(), default="#ffffff")
    outline_line_color = Nullable(Color(), default="#e5e5e5")
    output_backend = Enum("canvas", "webgl")
    lod_threshold = Nullable(Int(), default=2000, help="Rows above which interaction draws a decimated view.")
    lod_factor = Int(10)
    lod_timeout = Int(500, help="Milliseconds after the last interaction before the full redraw.")
    match_aspect = Bool()
    visible = Bool(True)
    subscribed_events = List(String(), help="Plot events some Python callback wants (set by on_event).")

    def __init__(self, *, id: str | None = None, **properties: Any) -> None:
        if id is None:
            # Made in Python: its own ranges, scales and toolbar, as in Bokeh. A plot
            # decoded from the wire holds what the wire says.
            properties.setdefault("x_range", DataRange1d())
            properties.setdefault("y_range", DataRange1d())
            properties.setdefault("x_scale", LinearScale())
            properties.setdefault("y_scale", LinearScale())
            properties.setdefault("toolbar", Toolbar())
            if properties.get("title") is None:
                properties["title"] = Title()  # ``p.title.text = ...`` works on every plot
        super().__init__(id=id, **properties)

    # -- events ------------------------------------------------------------------------

    def on_event(self, event: str | type[PlotEvent], *callbacks: Callable[[Any], Any]) -> None:
        """Call ``callback(event)`` for plot event ``event`` ("tap", Tap, "rangesupdate", ...)."""
        name = event if isinstance(event, str) else event.event_name
        if name not in EVENT_CLASSES:
            raise ValueError(f"unknown plot event {name!r}; known: {sorted(EVENT_CLASSES)}")
        super().on_event(name, *callbacks)
        if name not in self.subscribed_events:
            self.subscribed_events.append(name)

    def _trigger_event(self, event: Any) -> None:
        if self._event_callbacks is None:
            return
        payload: Any = event
        if isinstance(event, MessageSentEvent) and event.msg_type in EVENT_CLASSES:
            payload = event_from_message(self, event.msg_type, event.msg_data)
        for callback in tuple(self._event_callbacks.get(event.msg_type, ())):
            self._invoke(callback, payload)

    # -- building ----------------------------------------------------------------------

    def add_layout(self, obj: Model, place: str = "center") -> None:
        """Put an axis or annotation on a side ("above", "below", "left", "right") or in the center."""
        if place not in SIDES:
            raise ValueError(f"place must be one of {SIDES}, got {place!r}")
        getattr(self, place).append(obj)

    def add_tools(self, *tools: Tool) -> None:
        """Add tools to the toolbar."""
        assert self.toolbar is not None
        self.toolbar.tools.extend(tools)

    def add_glyph(self, source: ColumnDataSource, glyph: Glyph, **renderer: Any) -> GlyphRenderer:
        """Draw ``glyph`` from ``source``; return its new GlyphRenderer."""
        made = GlyphRenderer(data_source=source, glyph=glyph, **renderer)
        self.renderers.append(made)
        return made

    def _on_sides(self, kind: type) -> Iterator[Any]:
        for side in SIDES:
            yield from (item for item in getattr(self, side) if isinstance(item, kind))

    def _axes(self, sides: tuple[str, ...]) -> Splat:
        return Splat(item for side in sides for item in getattr(self, side) if isinstance(item, Axis))

    @property
    def xaxis(self) -> Splat:
        """The x axes (below and above)."""
        return self._axes(("below", "above"))

    @property
    def yaxis(self) -> Splat:
        """The y axes (left and right)."""
        return self._axes(("left", "right"))

    @property
    def axis(self) -> Splat:
        """Every axis."""
        return self._axes(("below", "above", "left", "right"))

    @property
    def xgrid(self) -> Splat:
        """The grids of vertical lines."""
        return Splat(g for g in self.center if isinstance(g, Grid) and g.dimension == 0)

    @property
    def ygrid(self) -> Splat:
        """The grids of horizontal lines."""
        return Splat(g for g in self.center if isinstance(g, Grid) and g.dimension == 1)

    @property
    def grid(self) -> Splat:
        """Every grid."""
        return Splat(g for g in self.center if isinstance(g, Grid))

    @property
    def legend(self) -> Splat:
        """The legends (``p.legend.click_policy = "hide"``)."""
        return Splat(self._on_sides(Legend))

    @property
    def hover(self) -> Splat:
        """The hover tools (``p.hover.tooltips = [...]``)."""
        return Splat(tool for tool in self.tools if tool.__type_name__ == "HoverTool")

    @property
    def tools(self) -> list[Tool]:
        """The toolbar's tools."""
        return list(self.toolbar.tools) if self.toolbar is not None else []
