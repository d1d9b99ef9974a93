"""Where a Bokeh app's sync code runs: docsync's worker threads (the default), or the event loop.

By default a Bokeh app's sync code — ``modify_doc`` or the script, callbacks, the
lifecycle hooks — runs as docsync's own apps' does, off the event loop: it may use the
Django ORM, and a slow callback does not stall other sessions. ``"callbacks": "loop"`` in
the app's entry runs it on the event loop instead, as ``bokeh serve`` does: no thread
hop per change (a round trip is a few tenths of a millisecond faster), and code that
expects the loop's thread (``IOLoop.current()``) finds it; but the ORM is refused
there (Django raises ``SynchronousOnlyOperation``) and a slow callback stalls every
session of the process.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from ..exceptions import ConfigurationError
from ..handlers.script import ARGV_LOCK
from ..server.executor import call_user_code, run_sync
from .app_thread import run_app_code, runs_app_code

__all__ = ["CALLBACK_PLACES", "UserCodeRunner"]

#: The values of an app entry's ``"callbacks"``.
CALLBACK_PLACES = ("threads", "loop")


class UserCodeRunner:
    """Run a Bokeh app's code in worker threads, or on the event loop (``on_loop``)."""

    def __init__(self, place: str | None) -> None:
        place = place or "threads"
        if place not in CALLBACK_PLACES:
            raise ConfigurationError(f"'callbacks' must be one of {CALLBACK_PLACES}, not {place!r}")
        self.on_loop = place == "loop"

    async def call(self, func: Callable[..., Any], *args: Any) -> Any:
        """Run user code ``func(*args)``: coroutine functions, and what it returns to await, on the loop."""
        if not self.on_loop:
            return await call_user_code(func, *args)
        result = func(*args)
        if inspect.isawaitable(result):
            result = await result
        return result

    async def run(self, func: Callable[..., Any], *args: Any) -> Any:
        """Run sync ``func(*args)``, which may call the app's sync callbacks (a patch being applied)."""
        return func(*args) if self.on_loop else await run_sync(func, *args)

    async def initialize(self, app: Any, func: Callable[..., Any], *args: Any) -> Any:
        """Run ``func(*args)``, which runs Bokeh application ``app``'s code to fill a document."""
        if self.on_loop:
            with ARGV_LOCK:  # as in the app-code thread: Bokeh's CodeRunner swaps sys.argv and sys.path
                return func(*args)
        if runs_app_code(app):
            return await run_app_code(func, *args)
        return await run_sync(func, *args)
