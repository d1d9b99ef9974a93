"""Plot events a browser sends to Python, with their coordinates in data space.

``plot.on_event("tap", cb)`` or ``plot.on_event(Tap, cb)`` calls ``cb(event)`` with one
of these; ``event.x``/``event.y`` are data coordinates, ``event.sx``/``event.sy`` CSS
pixels from the canvas's top left. The browser sends only the events some callback
subscribed to (``Plot.subscribed_events``).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

__all__ = [
    "EVENT_CLASSES",
    "DoubleTap",
    "MouseWheel",
    "Pan",
    "PanEnd",
    "PanStart",
    "PlotEvent",
    "PointEvent",
    "RangesUpdate",
    "Reset",
    "SelectionGeometry",
    "Tap",
    "event_from_message",
]


def _number(data: dict[str, Any], key: str) -> float | None:
    raw = data.get(key)
    if isinstance(raw, int | float) and not isinstance(raw, bool) and math.isfinite(raw):
        return float(raw)
    return None


class PlotEvent:
    """An event on a plot; ``model`` is the plot."""

    event_name: ClassVar[str] = ""
    __slots__ = ("model",)

    def __init__(self, model: Any, data: dict[str, Any]) -> None:
        self.model = model

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields())
        return f"{type(self).__name__}({fields})"

    def _fields(self) -> tuple[str, ...]:
        return tuple(
            name for klass in type(self).__mro__ for name in getattr(klass, "__slots__", ()) if name != "model"
        )


class Reset(PlotEvent):
    """The view was reset (reset tool or double-click)."""

    event_name = "reset"
    __slots__ = ()


class PointEvent(PlotEvent):
    """An event at a point: data (x, y) and screen (sx, sy) coordinates."""

    __slots__ = ("sx", "sy", "x", "y")

    def __init__(self, model: Any, data: dict[str, Any]) -> None:
        super().__init__(model, data)
        self.x = _number(data, "x")
        self.y = _number(data, "y")
        self.sx = _number(data, "sx")
        self.sy = _number(data, "sy")


class Tap(PointEvent):
    """A click (a tap)."""

    event_name = "tap"
    __slots__ = ()


class DoubleTap(PointEvent):
    """A double click."""

    event_name = "doubletap"
    __slots__ = ()


class PanStart(PointEvent):
    """A drag began."""

    event_name = "panstart"
    __slots__ = ()


class Pan(PointEvent):
    """A drag moved by (delta_x, delta_y) screen pixels since its start."""

    event_name = "pan"
    __slots__ = ("delta_x", "delta_y")

    def __init__(self, model: Any, data: dict[str, Any]) -> None:
        super().__init__(model, data)
        self.delta_x = _number(data, "delta_x")
        self.delta_y = _number(data, "delta_y")


class PanEnd(PointEvent):
    """A drag ended."""

    event_name = "panend"
    __slots__ = ()


class MouseWheel(PointEvent):
    """A wheel gesture ended (sent once per gesture, not per notch); ``delta``: its total."""

    event_name = "wheel"
    __slots__ = ("delta",)

    def __init__(self, model: Any, data: dict[str, Any]) -> None:
        super().__init__(model, data)
        self.delta = _number(data, "delta")


class RangesUpdate(PlotEvent):
    """The plot's ranges changed (zoom, pan, reset): the new x0, x1, y0, y1."""

    event_name = "rangesupdate"
    __slots__ = ("x0", "x1", "y0", "y1")

    def __init__(self, model: Any, data: dict[str, Any]) -> None:
        super().__init__(model, data)
        self.x0 = _number(data, "x0")
        self.x1 = _number(data, "x1")
        self.y0 = _number(data, "y0")
        self.y1 = _number(data, "y1")


class SelectionGeometry(PlotEvent):
    """A selection gesture: ``geometry`` {"type": "point"|"rect"|"poly", x/y or x0..y1 or xs/ys}; ``final``."""

    event_name = "selectiongeometry"
    __slots__ = ("final", "geometry")

    def __init__(self, model: Any, data: dict[str, Any]) -> None:
        super().__init__(model, data)
        self.geometry = _geometry(data.get("geometry"))
        self.final = data.get("final") is not False


_GEOMETRY_TYPES = ("point", "rect", "poly")
_MAX_VERTICES = 10_000


def _geometry(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict) or raw.get("type") not in _GEOMETRY_TYPES:
        return {"type": "unknown"}
    out: dict[str, Any] = {"type": raw["type"]}
    for key in ("x", "y", "x0", "x1", "y0", "y1", "sx", "sy"):
        value = _number(raw, key)
        if value is not None:
            out[key] = value
    for key in ("xs", "ys"):
        items = raw.get(key)
        if isinstance(items, list):
            out[key] = [
                float(v) for v in items[:_MAX_VERTICES] if isinstance(v, int | float) and not isinstance(v, bool)
            ]
    return out


EVENT_CLASSES: dict[str, type[PlotEvent]] = {
    cls.event_name: cls
    for cls in (Tap, DoubleTap, PanStart, Pan, PanEnd, MouseWheel, RangesUpdate, SelectionGeometry, Reset)
}


def event_from_message(model: Any, msg_type: str, data: Any) -> PlotEvent:
    """Build the event of ``msg_type`` from a browser's message data (checked, bounded)."""
    return EVENT_CLASSES[msg_type](model, data if isinstance(data, dict) else {})
