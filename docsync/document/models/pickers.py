"""Dates, date ranges, datetimes and times of day: the values travel typed, never as text."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...exceptions import ValidationError
from ..properties import Bool, Date, Datetime, Int, Nullable, Property, String, Time, Tuple
from .offered import changed, check_within
from .widgets import Widget

__all__ = ["DateRangePicker", "DateRangeSlider", "DatetimePicker", "TimePicker"]


def _ordered(name: str, value: Any) -> Any:
    if value is not None and value[0] > value[1]:
        raise ValidationError(f"{name}.value must not end before it starts: {value[0]} > {value[1]}")
    return value


def _check_bounds(model: Widget, values: Mapping[str, Any], new: bool, low: str, high: str) -> None:
    """A browser's value (each end of a range) lies between the model's ``low`` and ``high`` values."""
    value = changed(model, values, new)
    if value is not None:
        for end in value if isinstance(value, tuple | list) else (value,):
            check_within(f"{model.__type_name__}.value", end, values[low], values[high], (low, high))


class DateRangePicker(Widget):
    """Two calendar dates, from and to (both included)."""

    __client_writable__ = frozenset({"value"})
    title = String()
    value = Nullable(Tuple(Date(), Date(), default=None))
    min_date = Nullable(Date())
    max_date = Nullable(Date())

    def validate_value(self, prop: Property, value: Any) -> Any:
        value = super().validate_value(prop, value)
        return _ordered(self.__type_name__, value) if prop.name == "value" else value

    def check_client_values(self, values: Mapping[str, Any], new: bool) -> None:
        """A browser's value lies between min_date and max_date."""
        _check_bounds(self, values, new, "min_date", "max_date")


class DatetimePicker(Widget):
    """A date and a time of day (a naive datetime: the browser's wall-clock time)."""

    __client_writable__ = frozenset({"value"})
    title = String()
    value = Nullable(Datetime())
    min_date = Nullable(Datetime())
    max_date = Nullable(Datetime())

    def check_client_values(self, values: Mapping[str, Any], new: bool) -> None:
        """A browser's value lies between min_date and max_date."""
        _check_bounds(self, values, new, "min_date", "max_date")


class TimePicker(Widget):
    """A time of day."""

    __client_writable__ = frozenset({"value"})
    title = String()
    value = Nullable(Time())
    min_time = Nullable(Time())
    max_time = Nullable(Time())
    seconds = Bool(False, help="Whether seconds are shown and may be chosen.")

    def check_client_values(self, values: Mapping[str, Any], new: bool) -> None:
        """A browser's value lies between min_time and max_time (past midnight when min_time is the later)."""
        low, high = values["min_time"], values["max_time"]
        value = changed(self, values, new)
        if value is not None and low is not None and high is not None and low > high:
            if not high < value < low:  # an overnight range, as a browser's time input takes it
                return
            raise ValidationError(f"TimePicker.value {value.isoformat()} is between max_time {high} and min_time {low}")
        _check_bounds(self, values, new, "min_time", "max_time")


class DateRangeSlider(Widget):
    """A slider over calendar days selecting a (from, to) pair of dates; ``step`` is in days."""

    __client_writable__ = frozenset({"value"})
    title = String()
    # Required, as in Bokeh: no date makes a sensible default.
    value = Nullable(Tuple(Date(), Date(), default=None))
    start = Nullable(Date())
    end = Nullable(Date())
    step = Int(1, help="Days between the values a thumb can take.")

    def validate_value(self, prop: Property, value: Any) -> Any:
        value = super().validate_value(prop, value)
        return _ordered(self.__type_name__, value) if prop.name == "value" else value

    def check_client_values(self, values: Mapping[str, Any], new: bool) -> None:
        """A browser's value lies between start and end."""
        _check_bounds(self, values, new, "start", "end")
