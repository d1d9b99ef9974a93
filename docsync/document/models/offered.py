"""What a widget offers its user: the rules a browser's change of its value must keep.

Applied to client patches only (``Model.check_client_values``): the application may set
any value, and a value the widget already holds stays acceptable (the browser may send
it back). Numbers are compared with a margin of a billionth of the range, as the
browser's slider computes its steps in floating point.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ...exceptions import ValidationError

__all__ = ["changed", "check_choice", "check_choices", "check_within", "held", "offers"]


def held(model: Any, attr: str) -> Any:
    """The value ``model`` holds before the patch (its default if never set)."""
    values = model._values
    return values[attr] if attr in values else model._properties[attr].default()


def changed(model: Any, values: Mapping[str, Any], new: bool, attr: str = "value") -> Any:
    """The value the patch leaves in ``attr`` when it is to be judged, else None.

    Not judged: a value the model holds already (the application's choice, which the
    browser may send back). A model the patch defines is judged against the offer it is
    defined with, as any widget is, for a value its creator set (``values`` holds it).
    """
    if new:
        return values.get(attr)
    value = values[attr]
    return None if value == held(model, attr) else value


def offers(options: Sequence[Any], value: Any) -> bool:
    """Tell whether ``value`` is the value of one of ``options`` (each a value, or a (value, label) pair)."""
    if value in options:  # plain values: the list's own search
        return True
    return any(isinstance(option, tuple | list) and option and option[0] == value for option in options)


def check_choice(where: str, value: Any, options: Sequence[Any]) -> None:
    """Refuse ``value`` unless it is the value of one of ``options``."""
    if not offers(options, value):
        raise ValidationError(f"{where} {_shown(value)} is not among its options")


def check_choices(where: str, values: Iterable[Any], options: Sequence[Any], held: Sequence[Any]) -> None:
    """Refuse an item of ``values`` that is neither an option's value nor one of ``held``."""
    for value in values:
        if value not in held and not offers(options, value):
            raise ValidationError(f"{where} {_shown(value)} is not among its options")


def _slack(low: Any, high: Any) -> float:
    if isinstance(low, int | float) and isinstance(high, int | float):
        return 1e-9 * max(1.0, abs(float(high) - float(low)))
    return 0.0


def check_within(where: str, value: Any, low: Any, high: Any, what: tuple[str, str] = ("start", "end")) -> None:
    """Refuse ``value`` outside [low, high] (a bound that is None does not bound)."""
    if value is None:
        return
    if low is not None and high is not None:
        if low > high:
            low, high = high, low
        if low <= value <= high:  # what browsers send: no margin to work out
            return
    if isinstance(value, float) and math.isnan(value):  # compares false with both bounds
        raise ValidationError(f"{where} nan is not between {what[0]} {_shown(low)} and {what[1]} {_shown(high)}")
    slack = _slack(low, high)
    if low is not None and value < low and (not slack or value < low - slack):
        raise ValidationError(f"{where} {_shown(value)} is below {what[0]} {_shown(low)}")
    if high is not None and value > high and (not slack or value > high + slack):
        raise ValidationError(f"{where} {_shown(value)} is above {what[1]} {_shown(high)}")


def _shown(value: Any) -> str:
    if hasattr(value, "isoformat"):
        return str(value.isoformat())[:40]
    return f"{value!r:.40}"
