"""Widgets: text, buttons and inputs; each declares what a browser may change."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...exceptions import ValidationError
from ..properties import Bool, Date, Either, Enum, Float, Int, List, Nullable, Property, String, Tuple
from .offered import changed, check_choice, check_within
from .ui import UIElement

__all__ = [
    "BUTTON_TYPES",
    "Button",
    "Checkbox",
    "DatePicker",
    "Div",
    "Paragraph",
    "RangeSlider",
    "Select",
    "Slider",
    "TextInput",
    "Toggle",
    "Widget",
]


#: How a picker's bounds are named in its errors.
_DATE_BOUNDS = ("min_date", "max_date")

#: The looks of a button, as in Bokeh.
BUTTON_TYPES = ("default", "primary", "success", "warning", "danger")


class Widget(UIElement):
    """A control or a piece of content: sized like every UI element, and maybe disabled."""

    __abstract__ = True
    disabled = Bool(help="Whether the user may interact with it.")


class Div(Widget):
    """A block of text, rendered as text (never as HTML)."""

    text = String()


class Paragraph(Widget):
    """A paragraph of text."""

    text = String()


class Button(Widget):
    """A button; clicks reach Python through ``on_event("button_click", ...)``."""

    __client_events__ = frozenset({"button_click"})
    label = String("Button")
    button_type = Enum(*BUTTON_TYPES)

    def on_click(self, callback: object) -> None:
        """Call ``callback(event)`` when the button is clicked."""
        self.on_event("button_click", callback)  # type: ignore[arg-type]


class Toggle(Widget):
    """A button that stays pressed."""

    __client_writable__ = frozenset({"active"})
    label = String("Toggle")
    active = Bool()


class Checkbox(Widget):
    """A single checkbox with a label."""

    __client_writable__ = frozenset({"active"})
    label = String()
    active = Bool()


def _number(default: float) -> Property:
    # An int stays an int: whether start, end and step are ints decides the value's type.
    return Either(Int(), Float(), default=default)


#: Whole numbers beyond this are not exact as floats (in JavaScript): they stay floats.
_EXACT = 2**53


def _typed(number: Any, whole: bool) -> Any:
    """Return ``number`` as an int if ``whole`` and it is a whole number, else as a float."""
    if whole and float(number).is_integer() and abs(number) <= _EXACT:
        return int(number)
    return float(number)


class _SteppedRange(Widget):
    """A numeric range whose values are ints when start, end and step are all ints (as in Bokeh).

    Browsers send numbers without a type (8 and 8.0 are one JSON number): the slider's
    own start, end and step decide whether callbacks see ``8`` or ``8.0``. A value
    between whole numbers (which a browser's int-stepped slider never sends) stays a float.
    """

    __abstract__ = True
    title = String()
    start = _number(0.0)
    end = _number(1.0)
    step = _number(0.1)

    def __init__(self, **properties: Any) -> None:
        super().__init__(**properties)
        value = self._get_value(self._properties["value"])
        typed = self._typed_value(value)
        if "value" in self._values or typed != value or type(typed) is not type(value):
            self._values["value"] = typed  # only values set, or a default of another type, travel

    @property
    def int_stepped(self) -> bool:
        """Tell whether start, end and step are all ints (then values are ints too)."""
        get, properties = self._get_value, self._properties  # read for every value a client sends
        return (
            type(get(properties["start"])) is int
            and type(get(properties["end"])) is int
            and type(get(properties["step"])) is int
        )

    def _typed_value(self, value: Any) -> Any:
        raise NotImplementedError

    def validate_value(self, prop: Property, value: Any) -> Any:
        value = super().validate_value(prop, value)
        return self._typed_value(value) if prop.name == "value" else value

    def check_client_values(self, values: Mapping[str, Any], new: bool) -> None:
        """A browser's slider moves within [start, end] (a thumb at an end included)."""
        value = changed(self, values, new)
        if value is not None:
            for number in value if isinstance(value, tuple | list) else (value,):
                check_within(f"{self.__type_name__}.value", number, values["start"], values["end"])

    def _store_value(self, prop: Property, value: Any, setter: Any) -> None:
        super()._store_value(prop, value, setter)
        if prop.name in ("start", "end", "step"):
            # The value's type follows: a slider made int-stepped hands ints from now on.
            value = self._properties["value"]
            self._set_value(value, self._get_value(value), setter)


class Slider(_SteppedRange):
    """A slider over a numeric range; ``value`` is an int when start, end and step are ints."""

    __client_writable__ = frozenset({"value"})
    value = _number(0.0)

    def _typed_value(self, value: Any) -> Any:
        return _typed(value, self.int_stepped)


class RangeSlider(_SteppedRange):
    """A slider selecting a (low, high) range; ints when start, end and step are ints."""

    __client_writable__ = frozenset({"value"})
    value = Tuple(_number(0.0), _number(0.0), default=(0.0, 1.0))

    def _typed_value(self, value: Any) -> Any:
        whole = self.int_stepped
        return tuple(_typed(number, whole) for number in value)


class TextInput(Widget):
    """A single-line text input."""

    __client_writable__ = frozenset({"value"})
    title = String()
    value = String()
    placeholder = String()
    # (An application that copies the text elsewhere bounds it: a client's 9 MB title,
    # doubled by a callback, made a document too big for any client to pull.)
    max_length = Nullable(Int(), help="Longest text accepted, in characters.")

    def validate_value(self, prop: Property, value: Any) -> Any:
        value = super().validate_value(prop, value)
        if prop.name == "value":
            check_length(self, value)
        return value


def check_length(model: Widget, value: str) -> None:
    """Refuse a text ``value`` longer than ``model``'s ``max_length`` (ValidationError)."""
    limit = model._values.get("max_length")
    if limit is not None and len(value) > limit:
        raise ValidationError(f"{type(model).__name__}.value is {len(value)} characters long: at most {limit}")


class Select(Widget):
    """A drop-down choice among options."""

    __client_writable__ = frozenset({"value"})
    title = String()
    value = String()
    options = List(String())

    def check_client_values(self, values: Mapping[str, Any], new: bool) -> None:
        """A browser picks one of the options."""
        value = changed(self, values, new)
        if value is not None:
            check_choice("Select.value", value, values["options"])


class DatePicker(Widget):
    """A calendar date input."""

    __client_writable__ = frozenset({"value"})
    title = String()
    value = Nullable(Date())
    min_date = Nullable(Date())
    max_date = Nullable(Date())

    def check_client_values(self, values: Mapping[str, Any], new: bool) -> None:
        """A browser's calendar offers the days from min_date to max_date."""
        check_within(
            "DatePicker.value", changed(self, values, new), values["min_date"], values["max_date"], _DATE_BOUNDS
        )
