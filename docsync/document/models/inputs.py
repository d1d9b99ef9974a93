"""Text, number and colour inputs beyond TextInput."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ...exceptions import IntTooWideError, ValidationError
from ...serialization.encoder import MAX_INT, MIN_INT
from ..properties import Bool, Color, Either, Enum, Float, Int, List, Nullable, Property, String
from .offered import changed, check_choice
from .widgets import TextInput, Widget, check_length

__all__ = ["AutocompleteInput", "ColorPicker", "NumericInput", "PasswordInput", "Spinner", "TextAreaInput"]


class TextAreaInput(Widget):
    """Text of several lines; the value goes to the server as the user types."""

    __client_writable__ = frozenset({"value"})
    title = String()
    value = String()
    placeholder = String()
    rows = Int(2)
    cols = Int(20)
    max_length = Nullable(Int(), help="Longest text accepted, in characters.")

    def validate_value(self, prop: Property, value: Any) -> Any:
        value = super().validate_value(prop, value)
        if prop.name == "value":
            check_length(self, value)
        return value


class PasswordInput(TextInput):
    """A text input whose characters are not shown."""

    # What the user typed: not for the eyes of whoever reads the admin's session page.
    __secret__ = frozenset({"value"})


class AutocompleteInput(TextInput):
    """A text input that offers matching ``completions`` as the user types."""

    completions = List(String())
    min_characters = Int(2, help="Characters typed before completions are offered.")
    max_completions = Nullable(Int())
    case_sensitive = Bool(True)
    restrict = Bool(True, help="Only a completion may become the value.")
    search_strategy = Enum("starts_with", "includes")

    def check_client_values(self, values: Mapping[str, Any], new: bool) -> None:
        """With ``restrict``, a browser's value is one of the completions."""
        value = changed(self, values, new)
        if value is not None and values["restrict"]:
            check_choice("AutocompleteInput.value", value, values["completions"])


class NumericInput(Widget):
    """A number field: ``mode`` "int" keeps the value an int, "float" a float; ``low``/``high`` bound it."""

    __client_writable__ = frozenset({"value"})
    title = String()
    value = Nullable(Either(Int(), Float()))
    low = Nullable(Float())
    high = Nullable(Float())
    mode = Enum("int", "float")
    placeholder = String()

    def __init__(self, *, id: str | None = None, **properties: Any) -> None:
        # The mode and bounds first: the value is checked against them.
        first = {key: properties.pop(key) for key in ("mode", "low", "high") if key in properties}
        super().__init__(id=id, **first, **properties)

    def validate_value(self, prop: Property, value: Any) -> Any:
        value = super().validate_value(prop, value)
        if prop.name != "value" or value is None:
            return value
        name = self.__type_name__
        if self._values.get("mode", "int") == "int":
            if isinstance(value, float):
                if not value.is_integer():
                    raise ValidationError(f"{name}.value expected an int (mode 'int'), got {value!r}")
                if not MIN_INT <= value <= MAX_INT:  # as an int, it could be neither sent nor pulled
                    raise IntTooWideError(f"{name}.value {value!r} does not fit in 64 bits (mode 'int')")
                value = int(value)
        else:
            value = float(value)
            if not math.isfinite(value):
                raise ValidationError(f"{name}.value expected a finite number, got {value!r}")
        low, high = self._values.get("low"), self._values.get("high")
        if low is not None and value < low:
            raise ValidationError(f"{name}.value {value!r} is below low {low:g}")
        if high is not None and value > high:
            raise ValidationError(f"{name}.value {value!r} is above high {high:g}")
        return value


class Spinner(NumericInput):
    """A number field with steps: arrow keys and buttons move by ``step``, Page keys by ten steps."""

    step = Float(1.0)
    page_step_multiplier = Float(10.0)


class ColorPicker(Widget):
    """A colour chooser; ``color`` is what the user picked ("#rrggbb")."""

    __client_writable__ = frozenset({"color"})
    title = String()
    color = Color("#000000")
