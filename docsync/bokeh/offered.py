"""What a Bokeh widget offers its user: a browser's patch may leave no other value in it.

As docsync's own models do (``docsync.document.models.offered``): a Select's value among
its options, a MultiSelect's or MultiChoice's among theirs, a restricted
AutocompleteInput's among its completions, a slider's value (and ``value_throttled``)
within ``[start, end]``, a Spinner's or NumericInput's within ``[low, high]``, a date
picker's within ``[min_date, max_date]``, not in ``disabled_dates`` and in ``enabled_dates``
when given (a datetime picker's likewise, with a margin for the browser's time zone), a
TimePicker's within ``[min_time, max_time]`` (past midnight when min_time is the later),
a group's or Tabs' index among its labels or tabs (not a disabled tab), a table cell
among its SelectEditor's options (``_check_cells``), and a data source's columns of one
length. Applied to client patches only: the app sets what it likes, a value the widget
holds already is taken back (the browser may send it again). A widget the patch defines
is judged against the offer it is defined with (its creator chose both); a model it
defines may carry no name, nor may a browser rename one (``_check_new``: the app finds
its own models by name).

What a widget offers (its options, bounds, completions, labels, ...: ``_RULES``) is not
the browser's to change: BokehJS never changes it from what a user does (but for a
closable tab closed), only JavaScript in the page can. So a browser's patch may change
it only where the application's own code names the property (a CustomJS or SetValue it
made, not one a browser wrote), or where the app's ``"client_offers"`` is True (as in
Bokeh); a value is then judged against the offer as the patch leaves it.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet
from typing import Any

import numpy as np
from bokeh.model import Model
from bokeh.models.layouts import TabPanel, Tabs
from bokeh.models.ranges import Range
from bokeh.models.sources import ColumnarDataSource
from bokeh.models.widgets.groups import CheckboxButtonGroup, CheckboxGroup, RadioButtonGroup, RadioGroup
from bokeh.models.widgets.inputs import AutocompleteInput, MultiChoice, MultiSelect, NumericInput, Select
from bokeh.models.widgets.pickers import BaseDatePicker, BaseDatetimePicker, TimePicker
from bokeh.models.widgets.sliders import (
    AbstractSlider,
    CategoricalSlider,
    DateRangeSlider,
    DateSlider,
    DatetimeRangeSlider,
)
from bokeh.models.widgets.tables import DataTable, SelectEditor
from bokeh.util.serialization import convert_datetime_type

from ..exceptions import PatchError
from .client_html import CODE_CLASSES, is_code

__all__ = ["check_offered"]

_Values = Mapping[str, Any]


def _shown(value: Any) -> str:
    return f"{value!r:.40}"


def _option_values(options: Any) -> list[Any]:
    """The values of a Select's options: strings, (value, label) pairs, or groups of them."""
    groups = options.values() if isinstance(options, Mapping) else [options]
    return [o[0] if isinstance(o, tuple | list) else o for group in groups for o in group or ()]


def _choice(where: str, value: Any, offered: Iterable[Any]) -> None:
    # No option is an array, and ``in`` compares one elementwise: its truth raised ValueError.
    if isinstance(value, np.ndarray) or value not in list(offered):
        raise PatchError(f"{where} {_shown(value)} is not among its options")


def _number(value: Any) -> float | None:
    """A slider's value or bound as a number (a date or datetime as Bokeh's milliseconds)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    try:
        return float(convert_datetime_type(value))
    except Exception:  # not a time: left to Bokeh's own property check
        return None


def _when(ms: float) -> str:
    """Bokeh's milliseconds as the date (or the date and time) they are."""
    when = dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=ms)
    return when.date().isoformat() if when.time() == dt.time() else when.isoformat()


def _within(where: str, value: Any, low: Any, high: Any, names: tuple[str, str], times: bool = False) -> None:
    number, lo, hi = _number(value), _number(low), _number(high)
    if number is None:
        return
    if lo is not None and hi is not None and lo > hi:
        lo, hi = hi, lo
    # A billionth of the range: BokehJS's slider computes its steps in floating point.
    slack = 1e-9 * max(1.0, abs(hi - lo)) if lo is not None and hi is not None else 0.0

    def shown(original: Any, as_number: float) -> str:
        return _when(as_number) if times else _shown(original)

    if math.isnan(number):  # compares false with both bounds
        bounds = zip(names, (low, high), (lo, hi), strict=True)
        ends = " and ".join(f"{name} {shown(bound, n) if n is not None else None}" for name, bound, n in bounds)
        raise PatchError(f"{where} nan is not between {ends}")
    if lo is not None and number < lo - slack:
        raise PatchError(f"{where} {shown(value, number)} is below {names[0]} {shown(low, lo)}")
    if hi is not None and number > hi + slack:
        raise PatchError(f"{where} {shown(value, number)} is above {names[1]} {shown(high, hi)}")


def _ends(value: Any) -> list[Any]:
    return list(value) if isinstance(value, tuple | list) else [value]


def _finite(model: Model, attr: str, value: Any, values: _Values) -> None:
    for end in _ends(value):
        number = _number(end)
        if number is not None and not math.isfinite(number):
            raise PatchError(f"{type(model).__name__}.{attr} {number!r} is not a finite number")


def _slider(model: Model, attr: str, value: Any, values: _Values) -> None:
    times = isinstance(model, DateSlider | DateRangeSlider | DatetimeRangeSlider)
    for end in _ends(value):
        _within(f"{type(model).__name__}.{attr}", end, values["start"], values["end"], ("start", "end"), times)


def _categorical(model: Model, attr: str, value: Any, values: _Values) -> None:
    _choice(f"CategoricalSlider.{attr}", value, values["categories"] or ())


def _numeric(model: Model, attr: str, value: Any, values: _Values) -> None:
    _finite(model, attr, value, values)  # past a bound that is None, an infinity was taken
    _within(f"{type(model).__name__}.{attr}", value, values["low"], values["high"], ("low", "high"))


def _day(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _in_dates(day: dt.date, dates: Iterable[Any]) -> bool:
    for item in dates:
        if isinstance(item, tuple | list) and len(item) == 2:
            first, last = _day(item[0]), _day(item[1])
            if first is not None and last is not None and first <= day <= last:
                return True
        elif _day(item) == day:
            return True
    return False


def _date_picker(model: Model, attr: str, value: Any, values: _Values) -> None:
    where = f"{type(model).__name__}.{attr}"
    for end in _ends(value):
        day = _day(end)
        if day is None:
            continue
        low, high = _day(values["min_date"]), _day(values["max_date"])
        if low is not None and day < low:
            raise PatchError(f"{where} {day.isoformat()} is below min_date {low.isoformat()}")
        if high is not None and day > high:
            raise PatchError(f"{where} {day.isoformat()} is above max_date {high.isoformat()}")
        disabled, enabled = values["disabled_dates"], values["enabled_dates"]
        if disabled is not None and _in_dates(day, disabled):
            raise PatchError(f"{where} {day.isoformat()} is a disabled date")
        if enabled is not None and not _in_dates(day, enabled):
            raise PatchError(f"{where} {day.isoformat()} is not an enabled date")


def _moment(value: Any) -> dt.datetime | None:
    """A datetime picker's value or bound as a naive datetime (the wall clock the browser shows).

    BokehJS sends "2024-01-31T18:00:00"; Bokeh holds a bound as milliseconds since 1970
    (at midnight: its Datetime property keeps the day only); an app's patch may carry a
    date, a datetime or an ISO string.
    """
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    elif isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=value)
        except (OverflowError, ValueError):
            return None
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    return None


#: BokehJS gives a datetime picker its bounds as instants its calendar shows in the browser's
#: time zone (UTC-12 to UTC+14), and sends the wall clock picked there: a bound is met within
#: the widest offset, and a bound at midnight (shown so in UTC) takes its whole day.
_ZONES = dt.timedelta(hours=14)
_DAY = dt.timedelta(days=1)


def _datetime_picker(model: Model, attr: str, value: Any, values: _Values) -> None:
    where = f"{type(model).__name__}.{attr}"
    low, high = _moment(values["min_date"]), _moment(values["max_date"])
    for end in _ends(value):
        when = _moment(end)
        if when is None:
            continue  # not a time: left to Bokeh's own property check
        if low is not None and when < low - _ZONES:
            raise PatchError(f"{where} {when.isoformat()} is below min_date {_shown_moment(low)}")
        if high is not None and when > high + (_DAY if high.time() == dt.time() else _ZONES):
            raise PatchError(f"{where} {when.isoformat()} is above max_date {_shown_moment(high)}")
        disabled, enabled = values["disabled_dates"], values["enabled_dates"]
        if disabled is not None and _in_dates(when.date(), disabled):
            raise PatchError(f"{where} {when.date().isoformat()} is a disabled date")
        if enabled is not None and not _in_dates(when.date(), enabled):
            raise PatchError(f"{where} {when.date().isoformat()} is not an enabled date")


def _shown_moment(bound: dt.datetime) -> str:
    return bound.date().isoformat() if bound.time() == dt.time() else bound.isoformat()


def _clock(value: Any) -> dt.time | None:
    """A TimePicker's value or bound as a time of day ("18:00:00" as BokehJS sends it, or a time)."""
    if isinstance(value, dt.datetime):
        return value.time()
    if isinstance(value, dt.time):
        return value.replace(tzinfo=None)
    if isinstance(value, str):
        try:
            return dt.time.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < 86_400_000:
        return (dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=value)).time()  # ms since midnight
    return None


def _time_picker(model: Model, attr: str, value: Any, values: _Values) -> None:
    when, low, high = _clock(value), _clock(values["min_time"]), _clock(values["max_time"])
    if when is None:
        return
    if low is not None and high is not None and low > high:
        # An overnight range, as BokehJS's time picker takes it: from min_time past midnight to max_time.
        if high < when < low:
            raise PatchError(
                f"TimePicker.{attr} {when.isoformat()} is between max_time {high.isoformat()} "
                f"and min_time {low.isoformat()}"
            )
        return
    if low is not None and when < low:
        raise PatchError(f"TimePicker.{attr} {when.isoformat()} is below min_time {low.isoformat()}")
    if high is not None and when > high:
        raise PatchError(f"TimePicker.{attr} {when.isoformat()} is above max_time {high.isoformat()}")


def _select(model: Model, attr: str, value: Any, values: _Values) -> None:
    _choice(f"Select.{attr}", value, _option_values(values["options"]))


def _multiple(model: Model, attr: str, value: Any, values: _Values) -> None:
    # A widget the patch defines holds nothing yet: each of its items must be offered.
    held = [] if isinstance(values, _After) and values.new else list(getattr(model, attr) or ())
    offered = _option_values(values["options"])
    for item in value if isinstance(value, list | tuple) else [value]:
        if item not in held:
            _choice(f"{type(model).__name__}.{attr}", item, offered)


def _autocomplete(model: Model, attr: str, value: Any, values: _Values) -> None:
    if values["restrict"]:
        _choice(f"AutocompleteInput.{attr}", value, values["completions"] or ())


def _indices(model: Model, attr: str, value: Any, values: _Values) -> None:
    count = len(values["labels"] or ())
    indices = value if isinstance(value, list | tuple) else [value]
    for index in indices:
        if index is not None and not (type(index) is int and 0 <= index < count):
            raise PatchError(f"{type(model).__name__}.{attr} {_shown(index)} is out of range: {count} labels")
    if len(set(indices)) != len(indices):
        raise PatchError(f"{type(model).__name__}.{attr} names an index twice")


def _tabs(model: Model, attr: str, value: Any, values: _Values) -> None:
    tabs = values["tabs"] or []
    if not (type(value) is int and 0 <= value < len(tabs)):
        raise PatchError(f"Tabs.active {_shown(value)} is out of range: {len(tabs)} tabs")
    if tabs[value].disabled:
        raise PatchError(f"Tabs.active {value} is a disabled tab")


#: A range's numbers (Range1d, DataRange1d, FactorRange): what zoom and pan leave is finite.
_RANGE_NUMBERS = frozenset(
    {
        "start",
        "end",
        "reset_start",
        "reset_end",
        "bounds",
        "min_interval",
        "max_interval",
        "range_padding",
        "default_span",
        "follow_interval",
        "factor_padding",
        "group_padding",
        "subgroup_padding",
    }
)

_Rule = Callable[[Model, str, Any, _Values], None]

#: (class, the properties a browser sets, what the widget offers, the rule), the first class that matches wins.
_RULES: tuple[tuple[type | tuple[type, ...], frozenset[str], frozenset[str], _Rule | None], ...] = (
    (CategoricalSlider, frozenset({"value", "value_throttled"}), frozenset({"categories"}), _categorical),
    (AbstractSlider, frozenset({"value", "value_throttled"}), frozenset({"start", "end"}), _slider),
    (NumericInput, frozenset({"value", "value_throttled"}), frozenset({"low", "high"}), _numeric),
    (
        BaseDatePicker,
        frozenset({"value"}),
        frozenset({"min_date", "max_date", "disabled_dates", "enabled_dates"}),
        _date_picker,
    ),
    (
        BaseDatetimePicker,
        frozenset({"value"}),
        frozenset({"min_date", "max_date", "disabled_dates", "enabled_dates"}),
        _datetime_picker,
    ),
    (TimePicker, frozenset({"value"}), frozenset({"min_time", "max_time"}), _time_picker),
    (Select, frozenset({"value"}), frozenset({"options"}), _select),
    ((MultiSelect, MultiChoice), frozenset({"value"}), frozenset({"options"}), _multiple),
    (AutocompleteInput, frozenset({"value"}), frozenset({"completions", "restrict"}), _autocomplete),
    (
        (RadioGroup, RadioButtonGroup, CheckboxGroup, CheckboxButtonGroup),
        frozenset({"active"}),
        frozenset({"labels"}),
        _indices,
    ),
    (Tabs, frozenset({"active"}), frozenset({"tabs"}), _tabs),
    (TabPanel, frozenset(), frozenset({"disabled"}), None),
    (SelectEditor, frozenset(), frozenset({"options"}), None),  # a table cell's choices (_check_cells)
    (Range, _RANGE_NUMBERS, frozenset(), _finite),
)

#: Every property some widget offers by (a cheap first test of each changed property).
OFFER_PROPERTIES = frozenset().union(*(offers for _, _, offers, _ in _RULES))

_Found = tuple[frozenset[str], frozenset[str], _Rule | None]

#: Model classes -> their rule (None: no rule), each class looked up once.
_RULE_OF: dict[type, _Found | None] = {}


def _rule_of(model: Any) -> _Found | None:
    cls = type(model)
    if cls not in _RULE_OF:
        _RULE_OF[cls] = next(
            ((attrs, offers, rule) for kind, attrs, offers, rule in _RULES if issubclass(cls, kind)), None
        )
    return _RULE_OF[cls]


def _value_rule(model: Any) -> tuple[frozenset[str], _Rule] | None:
    """The properties whose values ``model``'s offer bounds, and the rule judging them (None: no such rule)."""
    found = _rule_of(model)
    if found is None or found[2] is None:
        return None
    return found[0], found[2]


class _After(dict[str, Any]):
    """A model's properties as the patch leaves them (those it does not set read from the model)."""

    __slots__ = ("model", "new")
    model: Model
    new: bool  # the patch defines the model

    def __missing__(self, attr: str) -> Any:
        return getattr(self.model, attr)


def _lengths(data: Any) -> dict[str, int]:
    lengths: dict[str, int] = {}
    if not isinstance(data, Mapping):  # not column data (check_events refused it already)
        return lengths
    for name, column in data.items():
        try:
            lengths[str(name)] = len(column)
        except TypeError:  # not a column (Bokeh's own check refuses it)
            continue
    return lengths


def _streamed(lengths: dict[str, int], event: Mapping[str, Any]) -> dict[str, int]:
    rollover = event.get("rollover")
    after = {}
    for name, length in lengths.items():
        rows = event["data"].get(name)
        total = length + (len(rows) if rows is not None else 0)
        after[name] = min(total, rollover) if isinstance(rollover, int) else total
    return after


def _check_columns(model: Model, before: dict[str, int], after: dict[str, int]) -> None:
    if len(set(after.values())) > 1 and after != before:
        shown = ", ".join(f"{name!r:.40}: {length}" for name, length in list(after.items())[:8])
        raise PatchError(f"{type(model).__name__}.data columns would have different lengths ({shown})")


def check_offered(
    events: list[dict[str, Any]],
    new_models: list[Model],
    document: Any = None,
    client_offers: bool | None = True,
    client_code: AbstractSet[str] | None = None,
) -> set[str]:
    """Refuse (PatchError) a checked patch that leaves a widget a value it does not offer, or uneven columns.

    ``events``: the patch's decoded events, already checked by ``check_events``;
    ``new_models``: the models it defines. ``client_offers``: whether the patch may change
    what a widget offers (True: as in Bokeh; False: never; None: where the app's own code
    in ``document`` names the property, not counting the code models in ``client_code``,
    the ids of those clients wrote). Returns the ids of the code models the patch writes.
    """
    new_ids = {id(model) for model in new_models}
    after: dict[int, _After] = {}
    columns: dict[int, tuple[Model, dict[str, int], dict[str, int]]] = {}  # id -> (source, before, after)
    offers: list[dict[str, Any]] = []
    cells: list[dict[str, Any]] = []  # cell patches: a SelectEditor's column takes its options only
    # The code models the patch defines or changes: their code is the client's from then on.
    written = {str(new.id) for new in new_models if is_code(type(new))} if new_models else set()
    for event in events:
        kind, model = event["kind"], event.get("model")
        if not isinstance(model, Model):
            continue
        if kind == "ModelChanged":
            values = after.get(id(model))
            if values is None:
                values = after[id(model)] = _After()
                values.model, values.new = model, id(model) in new_ids
            attr = event["attr"]
            values[attr] = event["new"]
            if attr in OFFER_PROPERTIES and client_offers is not True and id(model) not in new_ids:
                offers.append(event)
            elif attr == "name" and client_offers is not True and not _same(event["new"], model.name):
                raise PatchError(f"{type(model).__name__}.name: {_NAMES}")
            code = CODE_CLASSES.get(type(model))  # (is_code's answer, without its call)
            if code or (code is None and is_code(type(model))):
                written.add(str(model.id))
        if kind == "ColumnsPatched" and id(model) not in new_ids:
            cells.append(event)
        if isinstance(model, ColumnarDataSource) and event.get("attr") == "data" and kind != "ColumnsPatched":
            entry = columns.get(id(model))
            before = entry[2] if entry is not None else _lengths(getattr(model, "data", None))
            if kind == "ColumnsStreamed":
                lengths = _streamed(before, event)
            else:
                lengths = _lengths(event["new" if kind == "ModelChanged" else "data"])
            columns[id(model)] = (model, entry[1] if entry is not None else before, lengths)
    if offers:
        _check_offers(offers, document, client_offers, set(client_code or ()) | written)
    if cells and client_offers is not True:
        _check_cells(cells, document, after, set(client_code or ()) | written)
    for model, before, lengths in columns.values():
        _check_columns(model, {} if id(model) in new_ids else before, lengths)
    for values in after.values():
        model = values.model
        if id(model) in new_ids:
            continue
        judged = _value_rule(model)
        if judged is None:
            continue
        attrs, rule = judged
        for attr in attrs & values.keys():
            value = values[attr]
            if value is not None and not _same(value, getattr(model, attr)):
                rule(model, attr, value, values)
    if new_models:
        _check_new(new_models, after, client_offers)
    for model in new_models:
        if isinstance(model, ColumnarDataSource) and id(model) not in {id(m) for m, _, _ in columns.values()}:
            _check_columns(model, {}, _lengths(getattr(model, "data", None)))
    return written


#: Why a browser may not name a model (its own or the app's).
_NAMES = (
    "a browser may not name a model (an app finds its own models by name); "
    'an app may allow it with "client_offers": True'
)


def _check_new(new_models: list[Model], after: dict[int, _After], client_offers: bool | None) -> None:
    """Refuse a widget a patch defines whose values are not among its own offer, or a named model.

    The widget's creator chose its offer too, so this keeps every widget of the document
    coherent; the name keeps the app's lookups (``get_model_by_name``, ``select``) off a
    browser's models, whose values no offer of the app's bounds.
    """
    for model in new_models:
        if client_offers is not True and model.name is not None:
            raise PatchError(f"new {type(model).__name__} named {model.name!r:.40}: {_NAMES}")
        judged = _value_rule(model)
        if judged is None:
            continue
        attrs, rule = judged
        values = after.get(id(model))
        if values is None:
            values = _After()
            values.model, values.new = model, True
        set_values = getattr(model, "_property_values", {})
        for attr in attrs:
            # A value the patch or its creator set (BokehJS may send a default: nothing chosen).
            value = values[attr] if attr in values or attr in set_values else None
            if value is not None and not _same(value, model.lookup(attr).class_default(type(model))):
                rule(model, attr, value, values)


def _app_code(document: Any, client_code: AbstractSet[str]) -> list[str]:
    """The strings of the code models the application made (a CustomJS's code, a SetValue's attr, ...)."""
    models: list[Any] = list(document.models) if document is not None else []
    # A document's own js_on_event callbacks are no model of it; only the app adds them.
    for callbacks in getattr(getattr(document, "callbacks", None), "_js_event_callbacks", {}).values():
        models.extend(callbacks)
    texts: list[str] = []
    for model in models:
        if str(model.id) in client_code or not is_code(type(model)):
            continue
        # The values set on it (a default string is no code): Bokeh's own dict of them, read
        # as is, where properties_with_values would prepare every property (3/4 of the cost).
        values = getattr(model, "_property_values", None)
        if not isinstance(values, dict):
            values = model.properties_with_values(include_defaults=False)
        texts.extend(value for value in values.values() if isinstance(value, str))
    return texts


def _choices(document: Any, source: Model, after: Mapping[int, _After]) -> dict[str, list[Any]]:
    """The fields of ``source`` whose every editable table column is a SelectEditor's, with their options."""
    editors: dict[str, list[Any]] = {}
    for model in document.models if document is not None else ():
        if isinstance(model, DataTable) and model.source is source and model.editable:
            for column in model.columns:
                editors.setdefault(column.field, []).append(column.editor)
    choices: dict[str, list[Any]] = {}
    for field, found in editors.items():
        if all(isinstance(editor, SelectEditor) for editor in found):
            # Options as the patch leaves them (where "client_offers" or the app's code let it change them).
            choices[field] = [option for editor in found for option in _option(after, editor, "options") or ()]
    return choices


def _option(after: Mapping[int, _After], model: Model, attr: str) -> Any:
    """A model's property as the patch leaves it."""
    values = after.get(id(model))
    return values[attr] if values is not None else getattr(model, attr)


def _check_cells(
    events: list[dict[str, Any]], document: Any, after: Mapping[int, _After], client_code: AbstractSet[str]
) -> None:
    """Refuse a table cell a browser sets to a value its SelectEditor does not offer."""
    texts: list[str] | None = None
    for event in events:
        source, patches = event["model"], event.get("patches")
        if not isinstance(patches, Mapping):
            continue
        choices = _choices(document, source, after)
        if not choices:
            continue
        if texts is None:
            texts = _app_code(document, client_code)
            if any(re.search(r"\bpatch\b", text) for text in texts):
                return  # the app's own JavaScript patches cells itself
        data = getattr(source, "data", {})
        for field, offered in choices.items():
            held = data.get(field)
            for entry in patches.get(field) or ():
                if not (isinstance(entry, list | tuple) and len(entry) == 2):
                    continue  # not a cell patch (check_events refused it already)
                for at, item in _rows(entry[0], entry[1], held):
                    if item in offered or (at is not None and _cell(held, at) == item):
                        continue
                    raise PatchError(
                        f"{type(source).__name__}.data[{field!r:.40}] {_shown(item)} is not among the options "
                        "of its table's SelectEditor"
                    )


def _rows(index: Any, value: Any, column: Any) -> list[tuple[int | None, Any]]:
    """A cell patch's (row, value) pairs; the row None where it is not plain (the value must then be offered)."""
    if type(index) is int:
        return [(index, value)]
    if isinstance(index, slice) and column is not None:
        rows: list[int | None] = list(range(*index.indices(len(column))))
        return list(zip(rows, _ends(value), strict=False))
    return [(None, item) for item in _ends(value)]


def _cell(column: Any, at: int) -> Any:
    try:
        return column[at]
    except (IndexError, TypeError, KeyError):
        return None


def _closed_tabs(before: Any, after: Any) -> bool:
    """Tell whether ``after`` is ``before`` less closable tabs (what BokehJS sends when a user closes one)."""
    if not isinstance(before, list | tuple) or not isinstance(after, list | tuple) or len(after) >= len(before):
        return False
    kept = iter(before)
    for tab in after:
        for old in kept:
            if old is tab:
                break
            if not getattr(old, "closable", False):
                return False
        else:
            return False
    return all(getattr(old, "closable", False) for old in kept)


def _check_offers(
    events: list[dict[str, Any]], document: Any, client_offers: bool | None, client_code: AbstractSet[str]
) -> None:
    """Refuse a change of what a widget offers that nothing in the page could have made."""
    held: dict[tuple[int, str], Any] = {}  # as the patch's earlier events leave them
    texts: list[str] | None = None
    for event in events:
        model, attr, value = event["model"], event["attr"], event["new"]
        found = _rule_of(model)
        if found is None or attr not in found[1]:
            continue  # a range's start, a button's disabled: no widget's offer
        before = held.get((id(model), attr), getattr(model, attr))
        held[id(model), attr] = value
        if _same(_plain(value), _plain(before)) or (attr == "tabs" and _closed_tabs(before, value)):
            continue
        if client_offers is None:
            if texts is None:
                texts = _app_code(document, client_code)
            word = re.compile(rf"\b{attr}\b")
            if any(word.search(text) for text in texts):
                continue  # the app's own JavaScript may have changed it
        raise PatchError(
            f"{type(model).__name__}.{attr}: a browser may not change what a widget offers"
            + (" (no code of the app's names it)" if client_offers is None else "")
            + '; an app may allow it with "client_offers": True'
        )


def _plain(value: Any) -> Any:
    """An offer as the wire carries it: pairs as lists, dates and times as ISO strings."""
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return value


def _same(value: Any, held: Any) -> bool:
    try:
        return bool(value == held)
    except Exception:  # arrays and the like: judged as changed
        return False
