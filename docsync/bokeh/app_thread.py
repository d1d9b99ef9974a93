"""The one thread where Bokeh script and directory apps run their code.

Bokeh's CodeRunner sets ``sys.argv`` and puts the app's folder first in ``sys.path``
while the app's code runs, then restores both from copies: two runs at once, in two of
docsync's worker threads, would take each other's folder off ``sys.path`` mid-import.
``bokeh serve`` runs them all on one thread; so does this module, in a thread of its
own (workers never wait for it, and the documents it builds come from one malloc
arena). Function apps (``module:modify_doc``) keep running in the worker threads.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bokeh.application.handlers.code import CodeHandler
from bokeh.application.handlers.directory import DirectoryHandler
from django.db import close_old_connections

# docsync's own script handler sets sys.argv under this lock, in worker threads.
from ..handlers.script import ARGV_LOCK

__all__ = ["run_app_code", "runs_app_code"]

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def runs_app_code(app: Any) -> bool:
    """Tell whether Bokeh application ``app`` runs a script's code (a script or directory app)."""
    return any(isinstance(handler, CodeHandler | DirectoryHandler) for handler in app.handlers)


def _get_executor() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="docsync-bokeh-app")
        return _executor


def _call(func: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    with ARGV_LOCK:
        close_old_connections()  # the app may use the ORM: as in docsync's worker threads
        try:
            return func(*args)
        finally:
            close_old_connections()


async def run_app_code(func: Callable[..., Any], *args: Any) -> Any:
    """Run ``func(*args)`` in the app-code thread without blocking the event loop."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_get_executor(), functools.partial(_call, func, args))
