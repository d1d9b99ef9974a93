"""HookTableHandler: lifecycle hooks held as plain functions in a table."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from .handler import Handler

__all__ = ["HOOK_NAMES", "HookTableHandler"]

HOOK_NAMES = (
    "on_server_loaded",
    "on_server_unloaded",
    "on_session_created",
    "on_session_destroyed",
    "on_session_restored",
)


class HookTableHandler(Handler):
    """A handler whose lifecycle hooks are functions looked up by name (sync or async)."""

    def __init__(self) -> None:
        super().__init__()
        self._hooks: dict[str, Callable[[Any], Any] | None] = {}

    def runs_on_loop(self, method_name: str) -> bool:
        return inspect.iscoroutinefunction(self._hooks.get(method_name))

    def has_hook(self, name: str) -> bool:
        return self._hooks.get(name) is not None

    def _hook(self, name: str, context: Any) -> Any:
        hook = self._hooks.get(name)
        return hook(context) if hook is not None else None

    def on_server_loaded(self, server_context: Any) -> Any:
        return self._hook("on_server_loaded", server_context)

    def on_server_unloaded(self, server_context: Any) -> Any:
        return self._hook("on_server_unloaded", server_context)

    def on_session_created(self, session_context: Any) -> Any:
        return self._hook("on_session_created", session_context)

    def on_session_destroyed(self, session_context: Any) -> Any:
        return self._hook("on_session_destroyed", session_context)

    def on_session_restored(self, session_context: Any) -> Any:
        return self._hook("on_session_restored", session_context)
