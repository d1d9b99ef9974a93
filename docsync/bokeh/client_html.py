"""What a browser may not write into a Bokeh session that other users' pages show: HTML and code.

BokehJS lets any browser set any property, as Bokeh does; in a session only its own
user sees, what a browser writes runs in that user's own pages, as it does under
``bokeh serve``. In a session other users see (a ``"shareable"`` or ``"shared"`` app),
``Div.text = "<img src=x onerror=...>"``, a CustomJS's code, or a new CustomJS attached
to a model ran the writer's script in every other browser of it. There, unless the app's
entry says ``"client_html": True``, a client patch is refused (NotWritableError, the
document as before) when it would:

- create, change or attach (reference from a property) a model that is code: a
  ``Callback`` (CustomJS, OpenURL, SetValue, ...), the ``CustomJS*`` family, anything
  with a ``code``/``func`` property, an ``HTMLTemplateFormatter``, or a
  ``bokeh.models.dom`` model (HTML templates);
- change a property that attaches code or turns text into HTML: ``js_property_callbacks``,
  ``js_event_callbacks``, ``html_attributes`` (``onclick=...``), ``render_as_text``,
  ``disable_math``, ``tooltips`` (``@field{safe}`` shows a column raw);
- write a string with markup (``<``, or TeX's ``\\href``) anywhere else: BokehJS shows many
  strings as HTML (a Div's text, a MultiChoice's options, a table column's title, a
  Paragraph's or a slider's title once it holds TeX), so every string is checked but
  those BokehJS itself sends from what a user types: an input widget's ``value`` (and
  ``value_input``, a file's name and type), a data source's ``data`` (edited cells), and
  the text of a Div shown as text.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from bokeh.model import Model
from bokeh.models.callbacks import Callback
from bokeh.models.sources import ColumnarDataSource
from bokeh.models.widgets.inputs import InputWidget
from bokeh.models.widgets.markups import Div
from bokeh.models.widgets.tables import HTMLTemplateFormatter

from ..exceptions import NotWritableError

__all__ = ["check_client_html", "is_code"]

_MARKUP = re.compile(r"<|\\href")
#: Properties whose strings hold code.
_CODE_PROPERTIES = frozenset({"code", "func", "v_func", "major_code", "minor_code"})
#: Properties that attach code or turn text into HTML: no change of them is taken.
_SWITCHES = frozenset(
    {"js_property_callbacks", "js_event_callbacks", "html_attributes", "render_as_text", "disable_math", "tooltips"}
)
#: What BokehJS sends of what a user types into an input widget (shown as a value, never as HTML).
_INPUT_VALUES = frozenset({"value", "value_input", "filename", "mime_type"})
_WHY = 'an app may allow it with "client_html": True'


#: Model classes -> whether they are code (each class judged once).
CODE_CLASSES: dict[type, bool] = {}


def is_code(cls: type) -> bool:
    """Tell whether models of ``cls`` are code (or HTML templates) BokehJS runs or shows as is."""
    known = CODE_CLASSES.get(cls)
    if known is None:
        known = CODE_CLASSES[cls] = (
            issubclass(cls, Callback | HTMLTemplateFormatter)
            or cls.__name__.startswith("CustomJS")
            or cls.__module__.startswith("bokeh.models.dom")
            or bool(_CODE_PROPERTIES & set(getattr(cls, "properties", set)()))
        )
    return known


def _refuse(where: str, what: str) -> NotWritableError:
    return NotWritableError(f"{where}: a browser may not write HTML or code into this session ({what}); {_WHY}")


def _strings_and_models(value: Any) -> Iterable[Any]:
    """Every string and model ``value`` holds (models not entered: each new one is checked itself)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str | Model):
            yield item
        elif isinstance(item, Mapping):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)
        elif isinstance(item, np.ndarray):
            if item.dtype.kind in "OUS":
                stack.extend(item.ravel().tolist())
        elif dataclasses.is_dataclass(item) and not isinstance(item, type):
            stack.extend(getattr(item, field.name) for field in dataclasses.fields(item))


def _check_value(where: str, value: Any) -> None:
    for item in _strings_and_models(value):
        if isinstance(item, str):
            if _MARKUP.search(item):
                raise _refuse(where, f"markup: {item[:40]!r}")
        elif is_code(type(item)):
            raise _refuse(where, f"{type(item).__name__} is code")


def _check_property(model: Any, attr: str, value: Any, *, new: bool) -> None:
    cls = type(model)
    where = f"{cls.__name__}.{attr}"
    if attr in _SWITCHES:
        # A new model may carry the default (BokehJS may send it); any other value is refused.
        if not new or value != model.lookup(attr).class_default(cls):
            raise _refuse(where, "it attaches code or shows text as HTML")
        return
    if attr == "data" and isinstance(model, ColumnarDataSource):
        return  # data is shown as data, escaped (an app's own raw template of it is its choice)
    if attr in _INPUT_VALUES and isinstance(model, InputWidget):
        return
    if attr == "text" and isinstance(model, Div) and model.render_as_text:
        return
    _check_value(where, value)


def check_client_html(events: list[dict[str, Any]], new_models: Iterable[Any]) -> None:
    """Refuse (NotWritableError) a patch that would put HTML or code into a session others see.

    ``events``: the patch's decoded events (already checked by ``check_events``);
    ``new_models``: the models it defines.
    """
    for event in events:
        kind = event.get("kind")
        model = event.get("model")
        if kind == "ModelChanged":
            if is_code(type(model)):
                raise _refuse(f"{type(model).__name__}.{event['attr']}", "code")
            _check_property(model, event["attr"], event["new"], new=False)
        elif kind == "ColumnDataChanged":
            _check_property(model, event["attr"], event["data"], new=False)
        elif kind == "RootAdded":
            _check_value("Document.roots", model)
        elif kind == "TitleChanged":
            _check_value("Document.title", event["title"])
    for model in new_models:
        cls = type(model)
        if is_code(cls):
            raise _refuse(f"new {cls.__name__}", "code")
        for attr, value in model.properties_with_values(include_defaults=False).items():
            _check_property(model, attr, value, new=True)
