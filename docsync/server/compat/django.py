"""Django's ASGI handler: what docsync's one-hop handler (docsync.asgi) repeats of its ``handle``."""

from __future__ import annotations

from typing import Any

import django

__all__ = ["HANDLE_CHECKED", "set_handler_class"]

#: Django releases whose ``ASGIHandler.handle`` docsync.asgi's follows (others get Django's own).
HANDLE_CHECKED = django.VERSION[:2] == (5, 2)


def set_handler_class(response: Any, handler_class: type) -> None:
    """Name the handler on ``response`` as ``run_get_response`` does: its close sends request_finished from it."""
    response._handler_class = handler_class
