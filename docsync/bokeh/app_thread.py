"""The one thread where Bokeh script and directory apps run their code.

Bokeh's CodeRunner sets ``sys.argv`` and puts the app's folder first in ``sys.path``
while the app's code runs, then restores both from copies: two runs at once, in two of
docsync's worker threads, would take each other's folder off ``sys.path`` mid-import.
``bokeh serve`` runs them all on one thread; so does this module, in a thread of its
own (workers never wait for it, and the documents it builds come from one malloc
arena). Function apps (``module:modify_doc``) keep running in the worker threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from bokeh.application.handlers.code import CodeHandler
from bokeh.application.handlers.directory import DirectoryHandler
from django.db import close_old_connections

# docsync's own script handler sets sys.argv under this lock, in worker threads.
from ..handlers.script import ARGV_LOCK
from ..server.worker_threads import WorkerThreads

__all__ = ["run_app_code", "runs_app_code"]

_thread: WorkerThreads | None = None
_thread_lock = threading.Lock()


def runs_app_code(app: Any) -> bool:
    """Tell whether Bokeh application ``app`` runs a script's code (a script or directory app)."""
    return any(isinstance(handler, CodeHandler | DirectoryHandler) for handler in app.handlers)


def _get_thread() -> WorkerThreads:
    global _thread
    with _thread_lock:
        if _thread is None:
            _thread = WorkerThreads("docsync-bokeh-app", 1, around=_call)
        return _thread


def _call(func: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    with ARGV_LOCK:
        close_old_connections()  # the app may use the ORM: as in docsync's worker threads
        try:
            return func(*args)
        finally:
            close_old_connections()


async def run_app_code(func: Callable[..., Any], *args: Any) -> Any:
    """Run ``func(*args)`` in the app-code thread without blocking the event loop."""
    return await _get_thread().submit(func, *args)
