"""OneHopASGIHandler: Django's ASGI handler for a site of sync views, one thread hop per request.

Django's own ASGI handler runs every middleware in async mode: each ``process_request``
and ``process_response`` of a sync middleware (all of Django's default stack but
authentication) is a hop to a worker thread and back, about a dozen per page, and it
starts a new thread for each request and joins it after. This handler runs the middleware
chain and the view as WSGI does (sync mode, one call) in a single hop, on a thread kept for
the next request: docsync's pages cost about half the server CPU. The middlewares, the
view, the signals and the response are Django's, unchanged; an async view still works
(Django runs it in the thread, as under WSGI), but holds that thread while it runs, so a
site with long-running async views should keep Django's handler for them.
"""

from __future__ import annotations

import inspect
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.http import HttpRequest, HttpResponseBase

__all__ = ["OneHopASGIHandler", "get_asgi_application"]

# asgiref 3.13 lets a ThreadSensitiveContext use a given executor; before, each request starts a thread.
_KEEPS_THREADS = "executor" in inspect.signature(ThreadSensitiveContext).parameters

#: Threads kept for the next requests; more requests at once get threads of their own.
IDLE_THREADS = 8


class _OneThread(ThreadPoolExecutor):
    """A one-thread executor that knows whether anything it was given is still unfinished."""

    def __init__(self) -> None:
        super().__init__(max_workers=1, thread_name_prefix="docsync-http")
        self.unfinished = 0
        self._count_lock = threading.Lock()

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._count_lock:
            self.unfinished += 1
        future = super().submit(fn, *args, **kwargs)
        future.add_done_callback(self._finished)
        return future

    def _finished(self, _: Future[Any]) -> None:
        with self._count_lock:
            self.unfinished -= 1


class _ThreadPool:
    """Idle one-thread executors, at most IDLE_THREADS of them."""

    def __init__(self) -> None:
        self._idle: list[_OneThread] = []
        self._lock = threading.Lock()

    def take(self) -> _OneThread:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return _OneThread()

    def give_back(self, executor: _OneThread) -> None:
        # A request whose client left may leave its view running in the thread: that
        # thread is not handed to the next request (it would wait behind the view).
        with self._lock:
            if executor.unfinished == 0 and len(self._idle) < IDLE_THREADS:
                self._idle.append(executor)
                return
        executor.shutdown(wait=False)


class OneHopASGIHandler(ASGIHandler):
    """Django's ASGI handler with the middleware chain and view run in sync mode, in one worker-thread hop."""

    def __init__(self) -> None:
        super().__init__()
        self._threads = _ThreadPool()

    def load_middleware(self, is_async: bool = False) -> None:
        """Build the middleware chain in sync mode, as WSGI does (Django's ASGI handler asks for async)."""
        super().load_middleware(is_async=False)

    async def get_response_async(self, request: HttpRequest) -> HttpResponseBase:
        """The response of the sync chain, in this request's worker thread."""
        response: HttpResponseBase = await sync_to_async(self.get_response, thread_sensitive=True)(request)
        return response

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not _KEEPS_THREADS:
            await super().__call__(scope, receive, send)  # Django's error for what it does not serve
            return
        executor = self._threads.take()
        try:
            # The request's thread-sensitive calls (the chain, the response's close and its
            # signals) run on this executor's one thread; Django's own context inside is then
            # a no-op instead of a new thread.
            async with ThreadSensitiveContext(executor=executor):
                await super().__call__(scope, receive, send)
        finally:
            self._threads.give_back(executor)


def get_asgi_application() -> OneHopASGIHandler:
    """Set Django up and return a OneHopASGIHandler (as ``django.core.asgi.get_asgi_application`` does Django's)."""
    import django

    django.setup(set_prefix=False)
    return OneHopASGIHandler()
