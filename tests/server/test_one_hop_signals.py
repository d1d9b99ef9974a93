"""docsync.asgi's handler sends Django's request signals where and when Django's own handler does.

request_started runs in the request's thread before the request is made and the chain
runs (docsync sends it in the chain's hop, Django in a hop of its own), request_finished
after the response is sent; a site's async receiver of request_started still runs.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import types
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler

from docsync.asgi import OneHopASGIHandler

Events = list[tuple[str, Any]]


def _scope(path: str, query: bytes) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query,
        "headers": [(b"host", b"127.0.0.1"), (b"accept", b"text/html")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def _call(handler: Any, events: Events, query: bytes = b"") -> int:
    """Run ``handler`` on one request; the events of the answer go to ``events``; return its status."""
    messages = [{"type": "http.request", "body": b"", "more_body": False}]
    stop = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        await stop.wait()
        return {"type": "http.disconnect"}

    status = 0

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            events.append(("sent", threading.get_ident()))

    try:
        await handler(_scope("/docsync-client/protocol.js", query), receive, send)
    finally:
        stop.set()
    return status


@pytest.fixture
def events(database: str) -> Iterator[Events]:
    recorded: Events = []

    def started(sender: Any, **kwargs: Any) -> None:
        recorded.append(("started", threading.get_ident()))

    def finished(sender: Any, **kwargs: Any) -> None:
        recorded.append(("finished", threading.get_ident()))

    signals.request_started.connect(started)
    signals.request_finished.connect(finished)
    try:
        yield recorded
    finally:
        signals.request_started.disconnect(started)
        signals.request_finished.disconnect(finished)


def _order(events: Events) -> list[str]:
    return [name for name, _ in events]


@pytest.mark.asyncio
async def test_the_signals_come_in_django_s_order_in_the_request_s_thread(events: Events) -> None:
    ours: Events = []
    assert await _call(OneHopASGIHandler(), events) == 200
    ours, events[:] = list(events), []
    assert await _call(ASGIHandler(), events) == 200
    assert _order(ours) == _order(events) == ["started", "sent", "finished"]
    loop_thread = threading.get_ident()
    started, sent, finished = (thread for _, thread in ours)
    # Both signals in the request's worker thread (the one that ran the chain), the send on the loop.
    assert started == finished != loop_thread and sent == loop_thread


@pytest.mark.asyncio
async def test_the_request_is_made_after_request_started(events: Events) -> None:
    made: list[str] = []
    handler = OneHopASGIHandler()
    make = handler.create_request

    def create_request(scope: dict[str, Any], body_file: Any) -> Any:
        made.append(_order(events)[-1])
        return make(scope, body_file)

    handler.create_request = create_request  # type: ignore[method-assign]
    assert await _call(handler, events) == 200
    assert made == ["started"]


@pytest.mark.asyncio
async def test_a_request_that_cannot_be_made_gets_django_s_error_and_both_signals(events: Events) -> None:
    ours: Events = []
    query = b"a=\xff"  # not UTF-8: Django answers 400
    assert await _call(OneHopASGIHandler(), events, query) == 400
    ours, events[:] = list(events), []
    assert await _call(ASGIHandler(), events, query) == 400
    assert _order(ours) == _order(events) == ["started", "sent", "finished"]


@pytest.mark.asyncio
async def test_an_async_receiver_of_request_started_runs(events: Events) -> None:
    called: list[str] = []

    async def receiver(sender: Any, **kwargs: Any) -> None:
        called.append("async")

    signals.request_started.connect(receiver)
    try:
        assert await _call(OneHopASGIHandler(), events) == 200
    finally:
        signals.request_started.disconnect(receiver)
    assert called == ["async"] and _order(events) == ["started", "sent", "finished"]


@pytest.mark.asyncio
async def test_the_listener_s_request_aborted_leaves_no_cycle_through_handle(events: Events) -> None:
    # uvicorn answers receive() with http.disconnect once the response is complete: the
    # listener then ends with RequestAborted, every page. Read from its task (not raised
    # in handle), the exception's traceback holds no handle frame, which holds the task:
    # the request's objects are not left for the garbage collector by that cycle.
    handler = OneHopASGIHandler()
    listen, outcomes = handler.listen_for_disconnect, []

    async def listen_for_disconnect(receive: Any) -> None:
        try:
            await listen(receive)
        except RequestAborted:
            outcomes.append("aborted")
            raise

    handler.listen_for_disconnect = listen_for_disconnect  # type: ignore[method-assign]
    messages = [{"type": "http.request", "body": b"", "more_body": False}]
    complete = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        await complete.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body"):
            complete.set()

    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        await handler(_scope("/docsync-client/protocol.js", b""), receive, send)
        await asyncio.sleep(0)
        gc.collect()
        kept = [
            o
            for o in gc.garbage
            if isinstance(o, RequestAborted) or (isinstance(o, types.FrameType) and o.f_code.co_name == "handle")
        ]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert outcomes == ["aborted"] and _order(events) == ["started", "finished"]
    assert kept == []
