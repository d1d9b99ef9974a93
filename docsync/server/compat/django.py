"""Django internals docsync.asgi reads: what its one-hop handler repeats of ``ASGIHandler.handle``, and a
response's header store."""

from __future__ import annotations

from typing import Any

import django

__all__ = ["HANDLE_CHECKED", "header_store", "set_handler_class"]

#: Django releases whose ``ASGIHandler.handle`` docsync.asgi's follows (others get Django's own).
HANDLE_CHECKED = django.VERSION[:2] == (5, 2)


def set_handler_class(response: Any, handler_class: type) -> None:
    """Name the handler on ``response`` as ``run_get_response`` does: its close sends request_finished from it."""
    response._handler_class = handler_class


def header_store(headers: Any) -> dict[str, tuple[Any, Any]] | None:
    """The store of a response's headers (``ResponseHeaders``): lower-cased name -> (name as set, value), in order.

    Read directly, a header absent costs no KeyError raised and caught (``name in
    headers``), nor a call per header (``headers.items()``). None where it is not that.
    """
    store = getattr(headers, "_store", None)
    return store if type(store) is dict else None
