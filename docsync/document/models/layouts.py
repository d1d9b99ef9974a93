"""Layouts that arrange other models in a row or a column."""

from __future__ import annotations

from ..model import Model
from ..properties import Enum, Instance, Int, List, Nullable

__all__ = ["Column", "LayoutDOM", "Row"]


class LayoutDOM(Model):
    """A box holding child models."""

    __abstract__ = True
    children = List(Instance(Model))
    spacing = Int(8, help="Pixels between children.")
    width = Nullable(Int())
    sizing_mode = Enum("stretch_width", "fixed")

    def __init__(self, *children: Model, **properties: object) -> None:
        if children:
            properties["children"] = list(children)
        super().__init__(**properties)  # type: ignore[arg-type]


class Row(LayoutDOM):
    """Children side by side (wrapping on narrow screens)."""


class Column(LayoutDOM):
    """Children one above the other."""
