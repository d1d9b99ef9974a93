"""Describe a live session for the admin's detail page: connections, document tree, callbacks."""

from __future__ import annotations

import datetime as dt
import html
import itertools
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..session import ServerSession

__all__ = [
    "HIDDEN",
    "MAX_DESCRIBED",
    "MAX_MODEL_CHARS",
    "MODELS_PER_PAGE",
    "Properties",
    "describe_connections",
    "describe_properties",
    "describe_session",
    "describe_value",
    "document_page",
]

_MAX_TEXT = 120
_MAX_ITEMS = 8
#: The most characters a property's value is described in on the admin's page (a preview).
MAX_DESCRIBED = 1000
#: Models of the document tree one admin page shows; the page links to the others' pages. The
#: demo's apps hold 3 to 297 models (its gallery 119): all but the largest fit one page.
MODELS_PER_PAGE = 200
#: Characters (as the page writes them, escaped) of one model's properties on a page of many;
#: past them its other properties are left to the model's own page. The demo's models stay
#: below (a Slider about 600, a source of four 200-point columns about 1,300).
MAX_MODEL_CHARS = 3000
#: What the page shows for a secret property's value (a PasswordInput's): neither the value nor its length.
HIDDEN = "(hidden: a secret, such as a password)"


def describe_value(value: Any) -> str:
    """Return a short text for a property value: collections and arrays cut, at most ``MAX_DESCRIBED`` characters.

    The text is made within that budget, so that a value of any size or nesting costs
    about what a small one does. Cutting each collection at 8 items bounded nothing for
    lists of 8 lists of 8 lists ... (5 deep): a client's 20 MB of them made a 23 MB page
    and held the session's process, every session of it, 6 s.
    """
    budget = [MAX_DESCRIBED]
    text = _describe(value, budget)
    return text if len(text) <= MAX_DESCRIBED else text[: MAX_DESCRIBED - 1] + "…"


def _describe(value: Any, budget: list[int]) -> str:
    """``value``'s text; each leaf's length is taken from ``budget[0]``: once it is spent, nothing more is described."""
    if isinstance(value, np.ndarray):
        head = ", ".join(_items(value.flat[:_MAX_ITEMS].tolist(), budget, short_floats=True))  # flat: no strided copy
        more = ", …" if value.size > _MAX_ITEMS else ""
        return f"ndarray {value.dtype}{list(value.shape)} [{head}{more}]"
    if getattr(type(value), "__docsync_ref__", False):
        return _leaf(f"→ {value.__type_name__} {value.id}", budget)
    if isinstance(value, dict) and value:
        pairs = itertools.islice(value.items(), _MAX_ITEMS)
        parts = _items((_Entry(k, v) for k, v in pairs), budget)
        more = f", … ({len(value)} entries)" if len(value) > _MAX_ITEMS else ""
        return "{" + ", ".join(parts) + more + "}"
    if isinstance(value, list | tuple | set | frozenset) and value:
        parts = _items(itertools.islice(value, _MAX_ITEMS), budget)
        more = f", … ({len(value)} items)" if len(value) > _MAX_ITEMS else ""
        opening, closing = "{}" if isinstance(value, set | frozenset) else "[]"
        return opening + ", ".join(parts) + more + closing
    if isinstance(value, str | bytes | bytearray):
        value = value[: _MAX_TEXT + 1]  # repr of the head only: a 16 MB string is not copied to be cut
    text = repr(value)
    return _leaf(text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…", budget)


class _Entry:
    """A dict's key and value, described as ``key: value``."""

    __slots__ = ("key", "value")

    def __init__(self, key: Any, value: Any) -> None:
        self.key, self.value = key, value


def _items(values: Iterable[Any], budget: list[int], *, short_floats: bool = False) -> list[str]:
    """The texts of ``values`` (a few already), until ``budget`` is spent: then "…" (an array's floats in 6 digits)."""
    parts = []
    for item in values:
        if budget[0] <= 0:
            parts.append("…")
            break
        if isinstance(item, _Entry):
            parts.append(f"{_describe(item.key, budget)}: {_describe(item.value, budget)}")
        elif short_floats and isinstance(item, float):
            parts.append(_leaf(f"{item:.6g}", budget))
        else:
            parts.append(_describe(item, budget))
    return parts


def _leaf(text: str, budget: list[int]) -> str:
    budget[0] -= len(text)
    return text


def describe_connections(connections: Iterable[Any]) -> list[dict[str, Any]]:
    """Return the admin's rows of a session's connections, direct or relayed (either dialect)."""
    return [
        {
            "remote": getattr(c, "remote", "?"),
            "user_agent": getattr(c, "user_agent", ""),
            "since": dt.datetime.fromtimestamp(getattr(c, "connected_at", 0), tz=dt.UTC),
            "client_id": getattr(c, "origin", ""),
            # Written to the socket (or, relayed, to Redis) after the messages before them.
            "queued_bytes": int(getattr(c, "queued_bytes", 0)),
        }
        for c in list(connections)
    ]


#: A model's properties as the page lists them: (name, described value, client-writable).
Properties = list[tuple[str, str, bool]]


def describe_properties(
    values: Iterable[tuple[str, Any]],
    count: int,
    hidden: Callable[[str], bool],
    writable: Callable[[str], bool],
    budget: int | None,
) -> tuple[Properties, int]:
    """``count`` (name, value) pairs described until ``budget`` characters are written (None: all); and the rest."""
    rows: Properties = []
    for name, value in values:
        if budget is not None and budget <= 0:
            break  # the rest are not even described: what a page costs is bounded
        text = HIDDEN if hidden(name) else describe_value(value)
        if budget is not None:
            cost = len(name) + len(html.escape(text))  # as the page writes it
            if rows and cost > budget:
                break  # a model's first property is always shown, the others within the budget
            budget -= cost
        rows.append((name, text, writable(name)))
    return rows, count - len(rows)


def _properties(model: Any, budget: int | None) -> tuple[Properties, int]:
    """A docsync model's properties, described (see ``describe_properties``)."""
    secret, writable = model.__secret__, model.__client_writable__
    names = list(model.properties())
    values = ((name, getattr(model, name)) for name in names)
    return describe_properties(values, len(names), secret.__contains__, writable.__contains__, budget)


def _model_page(
    models: Iterable[Any],
    total: int,
    roots: set[str],
    *,
    page: int = 1,
    describe: Callable[[Any, int | None], tuple[Properties, int]],
    type_name: Callable[[Any], str],
) -> dict[str, Any]:
    """One page of a document's models (``MODELS_PER_PAGE``, each cut at ``MAX_MODEL_CHARS``), with where it is.

    A session may hold thousands of models (clients alone ``MAX_CLIENT_MODELS``): the page
    described every one, and a visitor's 995 models made a 25 MB page. Only this page's
    models are read (under the session's lock), the others skipped over.
    """
    pages = max(1, -(-total // MODELS_PER_PAGE))
    page = min(max(page, 1), pages)
    start = (page - 1) * MODELS_PER_PAGE
    shown = []
    for model in itertools.islice(models, start, start + MODELS_PER_PAGE):
        properties, more = describe(model, MAX_MODEL_CHARS)
        shown.append(
            {
                "id": model.id,
                "type": type_name(model),
                "root": model.id in roots,
                "properties": properties,
                "more_properties": more,
            }
        )
    return {
        "models": shown,
        "models_total": total,
        "page": page,
        "pages": pages,
        "first": start + 1 if shown else 0,
        "last": start + len(shown),
        "not_shown": total - len(shown),
        "model_alone": False,
    }


def _one_model(
    model: Any,
    roots: set[str],
    describe: Callable[[Any, int | None], tuple[Properties, int]],
    type_name: Callable[[Any], str],
    total: int,
) -> dict[str, Any]:
    """The page of one model: every property, each value cut as always."""
    properties, _ = describe(model, None)
    row = {
        "id": model.id,
        "type": type_name(model),
        "root": model.id in roots,
        "properties": properties,
        "more_properties": 0,
    }
    return {
        "models": [row],
        "models_total": total,
        "page": 1,
        "pages": 1,
        "first": 1,
        "last": 1,
        "not_shown": total - 1,
        "model_alone": True,
    }


def document_page(
    models: Any,
    total: int,
    roots: set[str],
    *,
    page: int,
    model_id: str | None,
    find: Callable[[str], Any],
    describe: Callable[[Any, int | None], tuple[Properties, int]],
    type_name: Callable[[Any], str],
) -> dict[str, Any]:
    """The document tree of the admin's page: a page of models, or ``model_id`` alone (if the document holds it)."""
    if model_id is not None:
        model = find(model_id)
        if model is not None:
            return _one_model(model, roots, describe, type_name, total)
        return {
            **_model_page(models, total, roots, page=page, describe=describe, type_name=type_name),
            "missing": model_id,
        }
    return _model_page(models, total, roots, page=page, describe=describe, type_name=type_name)


def describe_session(session: ServerSession, page: int = 1, model: str | None = None) -> dict[str, Any]:
    """Return what the admin's page shows of ``session``: a ``page`` of its models, or ``model`` alone (on its loop)."""
    connections = describe_connections(session.connections)
    document = session.document
    tree = document_page(
        document.models.values(),
        len(document.models),
        {root.id for root in document.roots},
        page=page,
        model_id=model,
        find=document.get_model_by_id,
        describe=_properties,
        type_name=lambda m: str(m.__type_name__),
    )
    return {
        "id": session.id,
        "app": session.app_path,
        "seq": session.log.seq,
        "log_entries": len(session.log),
        "keep_alive": session.keep_alive,
        "connections": connections,
        **tree,
        "callbacks": session.scheduled_callbacks(),
        "notices": list(session.notices),
    }
