"""Widgets: text, buttons and inputs; each declares what a browser may change."""

from __future__ import annotations

from ..model import Model
from ..properties import Bool, Date, Enum, Float, Int, List, Nullable, String, Tuple

__all__ = [
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


class Widget(Model):
    """Common layout properties of every widget."""

    __abstract__ = True
    disabled = Bool(help="Whether the user may interact with it.")
    width = Nullable(Int(), help="Width in pixels, or None to fit the container.")
    visible = Bool(True)


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
    button_type = Enum("default", "primary", "success", "warning", "danger")

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


class Slider(Widget):
    """A slider over a numeric range."""

    __client_writable__ = frozenset({"value"})
    title = String()
    start = Float(0.0)
    end = Float(1.0)
    step = Float(0.1)
    value = Float(0.0)


class RangeSlider(Widget):
    """A slider selecting a (low, high) range."""

    __client_writable__ = frozenset({"value"})
    title = String()
    start = Float(0.0)
    end = Float(1.0)
    step = Float(0.1)
    value = Tuple(Float(), Float(), default=(0.0, 1.0))


class TextInput(Widget):
    """A single-line text input."""

    __client_writable__ = frozenset({"value"})
    title = String()
    value = String()
    placeholder = String()


class Select(Widget):
    """A drop-down choice among options."""

    __client_writable__ = frozenset({"value"})
    title = String()
    value = String()
    options = List(String())


class DatePicker(Widget):
    """A calendar date input."""

    __client_writable__ = frozenset({"value"})
    title = String()
    value = Nullable(Date())
    min_date = Nullable(Date())
    max_date = Nullable(Date())
