"""Layouts: rows, columns, grids, tabs, collapsible cards and spacers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...exceptions import ValidationError
from ..model import Model
from ..properties import Bool, Either, Enum, Instance, Int, List, Property, String, Tuple
from .offered import changed
from .ui import UIElement

__all__ = ["Card", "Column", "GridBox", "LayoutDOM", "Row", "Spacer", "TabPanel", "Tabs"]


class LayoutDOM(UIElement):
    """A box holding child models."""

    __abstract__ = True
    children = List(Instance(Model))
    spacing = Int(8, help="Pixels between children.")

    def __init__(self, *children: Model, **properties: object) -> None:
        if children:
            properties["children"] = list(children)
        super().__init__(**properties)  # type: ignore[arg-type]


class Row(LayoutDOM):
    """Children side by side (wrapping on narrow screens)."""

    # Twice a column's: side by side, a slider's value and the next widget's title
    # 8 px apart read as one label ("7 distribution").
    spacing = Int(16, help="Pixels between children (and between the lines a narrow screen wraps them onto).")


class Column(LayoutDOM):
    """Children one above the other."""


class Card(LayoutDOM):
    """Children under a title bar; a collapsible card folds away when its title is clicked."""

    __client_writable__ = frozenset({"collapsed"})
    title = String()
    collapsed = Bool(False)
    collapsible = Bool(True)


class Spacer(UIElement):
    """Empty room: its width and height, or a share of the free space when it stretches."""


# (child, row, column) or (child, row, column, row span, column span), as in Bokeh.
_GridItem = Either(
    Tuple(Instance(Model), Int(), Int(), default=None),
    Tuple(Instance(Model), Int(), Int(), Int(), Int(), default=None),
    default=None,
)


class GridBox(UIElement):
    """Children placed on a grid: ``(child, row, column[, row_span, column_span])``."""

    children = List(_GridItem)
    spacing = Int(8, help="Pixels between rows and between columns.")

    def validate_value(self, prop: Property, value: Any) -> Any:
        value = super().validate_value(prop, value)
        if prop.name == "children":
            for item in value:
                if any(n < 0 for n in item[1:3]) or any(n < 1 for n in item[3:]):
                    raise ValidationError(f"GridBox.children: bad cell {tuple(item[1:])} (rows and columns from 0)")
        return value


class TabPanel(Model):
    """One tab of a Tabs: its title and the model it shows."""

    title = String()
    child = Instance(Model)
    disabled = Bool(False)


class Tabs(UIElement):
    """Panels of which one shows at a time; the user picks it (``active`` is the index)."""

    __client_writable__ = frozenset({"active"})
    tabs = List(Instance(TabPanel))
    active = Int(0)
    tabs_location = Enum("above", "below", "left", "right")

    def __init__(self, *, id: str | None = None, **properties: Any) -> None:
        # The tabs first: ``active`` is checked against them.
        if "tabs" in properties:
            properties = {"tabs": properties.pop("tabs"), **properties}
        super().__init__(id=id, **properties)

    def validate_value(self, prop: Property, value: Any) -> Any:
        value = super().validate_value(prop, value)
        if prop.name == "active":
            count = len(self._values.get("tabs", ()))
            if not 0 <= value < max(count, 1):
                raise ValidationError(f"Tabs.active {value} is out of range: {count} tabs")
        return value

    def check_client_values(self, values: Mapping[str, Any], new: bool) -> None:
        """A browser shows a tab that is not disabled (its button cannot be clicked)."""
        active = changed(self, values, new, "active")
        tabs = values["tabs"]
        if active is not None and 0 <= active < len(tabs) and tabs[active].disabled:
            raise ValidationError(f"Tabs.active {active} is a disabled tab")

    def kept_valid(self, attr: str, values: Mapping[str, Any]) -> dict[str, Any]:
        """Fewer tabs than ``active`` needs: the last one becomes active (what the page shows)."""
        last = max(len(values["tabs"]), 1) - 1
        return {"active": last} if attr == "tabs" and values["active"] > last else {}
