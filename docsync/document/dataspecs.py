"""Data specs: a glyph property that is either one constant or a column of its source.

As in Bokeh, a spec is stored as a small dict: ``{"field": "price"}`` (a column, maybe
``"transform"``-ed by a mapper), ``{"value": 3.0}`` (a constant) or ``{"expr": model}``
(computed from several columns, e.g. a stack). Plain values are read the Bokeh way: a
number is a constant; a string names a column for numeric and text specs, and is a
constant colour (or marker) when it is one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..exceptions import ValidationError
from ..serialization.depth import ITEM_LEVELS
from .properties import Color, Enum, Float, Property, String, models_in

__all__ = ["AngleSpec", "ColorSpec", "MarkerSpec", "NumberSpec", "Spec", "StringSpec", "field", "value"]

_KEYS = {"field", "value", "expr", "transform", "units"}
# CSS's named colours: a ColorSpec reads these as constants and any other word as a column.
NAMED_COLORS = frozenset(
    """aliceblue antiquewhite aqua aquamarine azure beige bisque black blanchedalmond blue blueviolet brown
    burlywood cadetblue chartreuse chocolate coral cornflowerblue cornsilk crimson cyan darkblue darkcyan
    darkgoldenrod darkgray darkgreen darkgrey darkkhaki darkmagenta darkolivegreen darkorange darkorchid darkred
    darksalmon darkseagreen darkslateblue darkslategray darkslategrey darkturquoise darkviolet deeppink
    deepskyblue dimgray dimgrey dodgerblue firebrick floralwhite forestgreen fuchsia gainsboro ghostwhite gold
    goldenrod gray green greenyellow grey honeydew hotpink indianred indigo ivory khaki lavender lavenderblush
    lawngreen lemonchiffon lightblue lightcoral lightcyan lightgoldenrodyellow lightgray lightgreen lightgrey
    lightpink lightsalmon lightseagreen lightskyblue lightslategray lightslategrey lightsteelblue lightyellow
    lime limegreen linen magenta maroon mediumaquamarine mediumblue mediumorchid mediumpurple mediumseagreen
    mediumslateblue mediumspringgreen mediumturquoise mediumvioletred midnightblue mintcream mistyrose moccasin
    navajowhite navy oldlace olive olivedrab orange orangered orchid palegoldenrod palegreen paleturquoise
    palevioletred papayawhip peachpuff peru pink plum powderblue purple rebeccapurple red rosybrown royalblue
    saddlebrown salmon sandybrown seagreen seashell sienna silver skyblue slateblue slategray slategrey snow
    springgreen steelblue tan teal thistle tomato turquoise violet wheat white whitesmoke yellow yellowgreen
    transparent""".split()  # noqa: SIM905 - a word list reads better than 149 quoted strings
)


def field(name: str, transform: Any = None) -> dict[str, Any]:
    """Return the spec of column ``name`` (maybe mapped through ``transform``)."""
    spec: dict[str, Any] = {"field": name}
    if transform is not None:
        spec["transform"] = transform
    return spec


def value(constant: Any, transform: Any = None) -> dict[str, Any]:
    """Return the spec of one ``constant`` for every row."""
    spec: dict[str, Any] = {"value": constant}
    if transform is not None:
        spec["transform"] = transform
    return spec


class Spec(Property):
    """A constant of the ``constant`` property's type, or a column (maybe transformed)."""

    __slots__ = ("constant", "depth_bound", "strings_are_fields")
    may_hold_models = True

    def __init__(
        self, default: Any = None, *, constant: Property, strings_are_fields: bool = True, help: str = ""
    ) -> None:
        self.constant = constant
        self.strings_are_fields = strings_are_fields
        # {"value": constant}, {"field": name} or {"expr": model}, maybe with {"transform": model}.
        self.depth_bound = ITEM_LEVELS + max(constant.depth_bound, 1)
        super().__init__(default, help=help)

    @property
    def expected(self) -> str:  # type: ignore[override]
        return f"a column name, {self.constant.expected}, or a field/value/expr dict"

    def accepts(self, raw: Any) -> Any:
        if isinstance(raw, dict):
            return self._accepts_dict(raw)
        if raw is None:
            return {"value": None}
        if isinstance(raw, str):
            if isinstance(self.constant, Color) and raw.isalpha() and raw.lower() not in NAMED_COLORS:
                return {"field": raw}
            if not self.strings_are_fields:
                try:
                    return {"value": self.constant.accepts(raw)}
                except ValidationError:
                    pass
            return {"field": raw}
        return {"value": self.constant.accepts(raw)}

    def _accepts_dict(self, raw: dict[Any, Any]) -> dict[str, Any]:
        if not raw.keys() <= _KEYS or len(raw.keys() & {"field", "value", "expr"}) != 1:
            raise ValidationError(self.expected)
        spec: dict[str, Any] = {}
        if "field" in raw:
            if not isinstance(raw["field"], str):
                raise ValidationError(self.expected)
            spec["field"] = raw["field"]
        elif "value" in raw:
            spec["value"] = None if raw["value"] is None else self.constant.accepts(raw["value"])
        else:
            spec["expr"] = _model(raw["expr"], "Expression")
        if raw.get("transform") is not None:
            spec["transform"] = _model(raw["transform"], "Transform")
        if "units" in raw:
            if raw["units"] not in ("data", "screen"):
                raise ValidationError(self.expected)
            spec["units"] = raw["units"]
        return spec

    def iter_models(self, value: Any) -> Iterator[Any]:
        return models_in(value)


def _model(candidate: Any, base: str) -> Any:
    # By class name: the model classes live above this module (models/mappers.py).
    if any(klass.__name__ == base for klass in type(candidate).__mro__):
        return candidate
    raise ValidationError(f"an instance of {base}")


class NumberSpec(Spec):
    """A number per row: a constant, or a column (a string names the column)."""

    __slots__ = ()

    def __init__(self, default: Any = None, *, help: str = "") -> None:
        super().__init__(_spec_default(default), constant=Float(), help=help)


class AngleSpec(NumberSpec):
    """An angle in radians per row."""

    __slots__ = ()


class StringSpec(Spec):
    """A text per row: a string names a column; ``value("...")`` is a constant."""

    __slots__ = ()

    def __init__(self, default: Any = None, *, help: str = "") -> None:
        super().__init__(_spec_default(default), constant=String(), help=help)


class ColorSpec(Spec):
    """A colour per row: a CSS colour is a constant, any other string names a column."""

    __slots__ = ()

    def __init__(self, default: Any = None, *, help: str = "") -> None:
        super().__init__(_color_default(default), constant=Color(), strings_are_fields=False, help=help)


MARKERS = (
    "circle", "square", "triangle", "inverted_triangle", "diamond", "cross", "x", "star", "hex",
    "asterisk", "dash", "dot", "plus", "y", "square_x", "circle_x", "circle_cross", "square_cross",
    "diamond_cross", "triangle_dot", "circle_dot", "square_pin", "triangle_pin",
)  # fmt: skip


class MarkerSpec(Spec):
    """A marker name per row: a known marker is a constant, any other string names a column."""

    __slots__ = ()

    def __init__(self, default: Any = "circle", *, help: str = "") -> None:
        super().__init__({"value": default}, constant=Enum(*MARKERS), strings_are_fields=False, help=help)


def _spec_default(default: Any) -> Any:
    if default is None or isinstance(default, dict):
        return default if isinstance(default, dict) else {"value": None}
    if isinstance(default, str):
        return {"field": default}
    return {"value": default}


def _color_default(default: Any) -> Any:
    return default if isinstance(default, dict) else {"value": default}
