"""Choices: lists to pick from, groups of checkboxes, radio buttons and buttons, a switch."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...exceptions import ValidationError
from ..properties import Bool, Either, Enum, Int, List, Nullable, Property, String, Tuple
from .offered import changed, check_choices
from .widgets import BUTTON_TYPES, Widget

__all__ = [
    "CheckboxButtonGroup",
    "CheckboxGroup",
    "MultiChoice",
    "MultiSelect",
    "RadioButtonGroup",
    "RadioGroup",
    "Switch",
]

#: An option: its value, or (value, label) when the label shown differs.
Option = Either(String(), Tuple(String(), String()))


class _MultipleChoice(Widget):
    """Options of which the user selects any number: a browser's values are among them."""

    __abstract__ = True

    def check_client_values(self, values: Mapping[str, Any], new: bool) -> None:
        """Each value the browser sends is an option's (or one the widget holds already)."""
        value = changed(self, values, new)
        if value is not None:
            kept = () if new else self._values.get("value", ())  # a new widget holds nothing yet
            check_choices(f"{self.__type_name__}.value", value, values["options"], kept)


class MultiSelect(_MultipleChoice):
    """A list box of options of which the user selects any number."""

    __client_writable__ = frozenset({"value"})
    title = String()
    value = List(String(), help="The values of the selected options.")
    options = List(Option)
    size = Int(4, help="How many options show without scrolling.")


class MultiChoice(_MultipleChoice):
    """Selected options shown as removable tags, and a search box to add more."""

    __client_writable__ = frozenset({"value"})
    title = String()
    value = List(String(), help="The values of the chosen options, in the order chosen.")
    options = List(Option)
    placeholder = Nullable(String())
    max_items = Nullable(Int(), help="How many options may be chosen at most.")

    def validate_value(self, prop: Property, value: Any) -> Any:
        value = super().validate_value(prop, value)
        limit = self._values.get("max_items")
        if prop.name == "value" and limit is not None and len(value) > limit:
            raise ValidationError(f"MultiChoice.value has {len(value)} items: at most {limit} may be chosen")
        return value

    def kept_valid(self, attr: str, values: Mapping[str, Any]) -> dict[str, Any]:
        """A lower ``max_items`` keeps the options chosen first."""
        limit, value = values["max_items"], values["value"]
        return (
            {"value": list(value[:limit])} if attr == "max_items" and limit is not None and len(value) > limit else {}
        )


class _IndexedGroup(Widget):
    """Labelled items picked by their index: ``active`` is checked against ``labels``."""

    __abstract__ = True
    labels = List(String())

    def __init__(self, *, id: str | None = None, **properties: Any) -> None:
        # The labels first: ``active`` is checked against them.
        if "labels" in properties:
            properties = {"labels": properties.pop("labels"), **properties}
        super().__init__(id=id, **properties)

    def validate_value(self, prop: Property, value: Any) -> Any:
        value = super().validate_value(prop, value)
        if prop.name == "active" and value is not None:
            count = len(self._values.get("labels", ()))
            indices = value if isinstance(value, list) else [value]
            bad = [i for i in indices if not 0 <= i < count]
            if bad:
                raise ValidationError(f"{self.__type_name__}.active {bad[0]} is out of range: {count} labels")
            if len(set(indices)) != len(indices):
                raise ValidationError(f"{self.__type_name__}.active names an index twice: {indices}")
        return value

    def kept_valid(self, attr: str, values: Mapping[str, Any]) -> dict[str, Any]:
        """Fewer labels: indices past them leave ``active`` (a radio's becomes None)."""
        active, count = values["active"], len(values["labels"])
        if attr != "labels" or active is None:
            return {}
        if isinstance(active, int):
            return {"active": None} if active >= count else {}
        kept = [i for i in active if i < count]
        return {"active": kept} if len(kept) < len(active) else {}


class CheckboxGroup(_IndexedGroup):
    """Checkboxes; ``active`` lists the indices of the checked ones."""

    __client_writable__ = frozenset({"active"})
    active = List(Int())
    inline = Bool(False, help="Side by side instead of one per line.")


class RadioGroup(_IndexedGroup):
    """Radio buttons; ``active`` is the index of the chosen one, or None."""

    __client_writable__ = frozenset({"active"})
    active = Nullable(Int())
    inline = Bool(False, help="Side by side instead of one per line.")


class CheckboxButtonGroup(_IndexedGroup):
    """Buttons that stay pressed, any number at once; ``active`` lists the pressed ones."""

    __client_writable__ = frozenset({"active"})
    active = List(Int())
    button_type = Enum(*BUTTON_TYPES)
    orientation = Enum("horizontal", "vertical")


class RadioButtonGroup(_IndexedGroup):
    """Buttons of which one stays pressed; ``active`` is its index, or None."""

    __client_writable__ = frozenset({"active"})
    active = Nullable(Int())
    button_type = Enum(*BUTTON_TYPES)
    orientation = Enum("horizontal", "vertical")


class Switch(Widget):
    """An on/off switch with a label."""

    __client_writable__ = frozenset({"active"})
    label = String()
    active = Bool(False)
