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

import asyncio
import contextlib
import inspect
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse, HttpRequest, HttpResponseBase
from django.urls import set_script_prefix

from .server.compat.django import HANDLE_CHECKED, header_store, set_handler_class

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


def _close(response: HttpResponseBase) -> None:
    response.close()


#: ``sync_to_async(response.close)`` (thread-sensitive), made once for every response.
_close_hop = sync_to_async(_close, thread_sensitive=True)


class OneHopASGIHandler(ASGIHandler):
    """Django's ASGI handler with the middleware chain and view run in sync mode, in one worker-thread hop."""

    def __init__(self) -> None:
        super().__init__()
        self._threads = _ThreadPool()
        # The two hops of every request, made once: asgiref's SyncToAsync keeps nothing of
        # a call, and making one (its checks of the function, update_wrapper) cost about
        # 50 Python calls a hop.
        self._started_response_hop = sync_to_async(self._started_response, thread_sensitive=True)

    def load_middleware(self, is_async: bool = False) -> None:
        """Build the middleware chain in sync mode, as WSGI does (Django's ASGI handler asks for async)."""
        super().load_middleware(is_async=False)

    async def get_response_async(self, request: HttpRequest) -> HttpResponseBase:
        """The response of the sync chain, in this request's worker thread."""
        response: HttpResponseBase = await sync_to_async(self.get_response, thread_sensitive=True)(request)
        return response

    def _started_response(self, scope: dict[str, Any], body_file: Any) -> HttpResponseBase:
        """Send request_started, make the request and return its response (in the request's thread).

        A request that cannot be made gets Django's error response for it (400, 413).
        """
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, error_response = self.create_request(scope, body_file)
        if request is None:
            assert error_response is not None  # create_request returns one or the other
            return error_response
        response: HttpResponseBase = self.get_response(request)
        set_handler_class(response, self.__class__)
        if isinstance(response, FileResponse):
            response.block_size = self.chunk_size
        return response

    async def send_response(self, response: HttpResponseBase, send: Any) -> None:
        """Django's ``send_response``: the same ASGI messages, a non-streaming response's headers read plainly.

        Django reads them through ``response.items()``: the case-insensitive mapping's
        iterator and a lookup per header, about 30 Python calls a page. Here its store
        (name as set, value; in the order set) is read directly, where Django's release is
        the one this follows; any other response, or release, is Django's.
        """
        store = header_store(response.headers)
        if not HANDLE_CHECKED or response.streaming or store is None:
            await super().send_response(response, send)
            return
        response_headers = []
        for header, value in store.values():
            if isinstance(header, str):
                header = header.encode("ascii")
            if isinstance(value, str):
                value = value.encode("latin1")
            response_headers.append((bytes(header), bytes(value)))
        for c in response.cookies.values():
            response_headers.append((b"Set-Cookie", c.output(header="").encode("ascii").strip()))
        await send({"type": "http.response.start", "status": response.status_code, "headers": response_headers})
        for chunk, last in self.chunk_bytes(response.content):  # type: ignore[attr-defined]
            await send({"type": "http.response.body", "body": chunk, "more_body": not last})

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Django's ``handle``, with request_started sent in the hop that gets the response.

        Django sends it from the loop, its sync receivers in a hop of their own to the
        request's thread, then makes the request there and hops again for the chain:
        here the receivers, the request and the chain run in one hop, on the same thread
        and in the same order. A site with an async receiver of request_started (run
        on the loop, beside the sync ones) gets Django's own ``handle``.
        """
        if not HANDLE_CHECKED or any(is_async for _, _, is_async in signals.request_started.receivers):
            await super().handle(scope, receive, send)
            return
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))

        async def process_request() -> HttpResponseBase:
            response = await self._started_response_hop(scope, body_file)
            with contextlib.suppress(asyncio.CancelledError):  # the client disconnected during send_response
                await self.send_response(response, send)
            return response

        # As Django does: a disconnect while the response is made cancels the wait for it.
        listening = asyncio.create_task(self.listen_for_disconnect(receive))
        processing = asyncio.create_task(process_request())
        tasks: list[asyncio.Task[Any]] = [listening, processing]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            if task.done():
                # Read, not raised here: ``task.result()`` would add this frame to the exception's
                # traceback, and that frame holds the task (every page's RequestAborted from the
                # listener), a cycle keeping the request's objects for the garbage collector.
                error = task.exception()
                if error is None or isinstance(error, RequestAborted):
                    continue
                if isinstance(error, AssertionError):
                    body_file.close()
                raise error
            else:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        try:
            response = processing.result()
        except asyncio.CancelledError:
            await signals.request_finished.asend(sender=self.__class__)
        else:
            await _close_hop(response)
        body_file.close()

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
