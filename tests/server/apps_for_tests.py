"""Applications the server tests serve besides the demo's (registered in ``settings.py``)."""

from __future__ import annotations

import asyncio
import os
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from docsync.document import Document
from docsync.document.models import Column, Div, Slider
from docsync.handlers import Application, FunctionHandler

#: The file the ticker app records its ticks and hooks to, one ``kind key time...`` a line.
TICK_LOG_ENV = "DOCSYNC_TICK_LOG"
TICK_PERIOD_MS = 20
#: Each tick holds the session lock this long, so that expiry often finds one running.
TICK_BUSY_S = 0.03
#: The ORM app's callback holds its worker thread until the file ``<gate>.open`` exists
#: (at most this long), having created ``<gate>.started``; ``<gate>`` is
#: ``orm_gate(tag)`` for the tag its document shows.
ORM_GATE_MAX_S = 60.0


def orm_gate(tag: str) -> Path:
    """Where the ORM app's callback of the document tagged ``tag`` keeps its gate files."""
    return Path(tempfile.gettempdir()) / f"docsync-orm-gate-{tag}"


def record(*parts: Any) -> None:
    """Append a line to ``$DOCSYNC_TICK_LOG`` (nothing when it is unset)."""
    path = os.environ.get(TICK_LOG_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as log:
            log.write(" ".join(str(p) for p in parts) + "\n")


def _make_ticker(doc: Document) -> None:
    tag = uuid.uuid4().hex
    doc.add_root(Div(text=tag, name="tag"))

    def tick() -> None:
        start = time.time()
        time.sleep(TICK_BUSY_S)
        record("tick", tag, start, time.time())

    doc.add_periodic_callback(tick, TICK_PERIOD_MS)


ticker = Application(
    FunctionHandler(
        _make_ticker,
        on_session_created=lambda context: record("created", context.id, time.time()),
        on_session_destroyed=lambda context: record("destroyed", context.id, time.time()),
    )
)


def orm_slow(doc: Document) -> None:
    """A sync callback that queries the ORM, then keeps its thread until the test opens its gate."""
    tag = uuid.uuid4().hex
    trigger = Slider(start=0, end=10, value=0, step=1, name="trigger")
    result = Div(text="", name="result")

    def on_trigger(attr: str, old: float, new: float) -> None:
        from project.catalog.models import Product

        count = Product.objects.count()
        gate = orm_gate(tag)
        gate.with_suffix(".started").touch()
        deadline = time.monotonic() + ORM_GATE_MAX_S
        while not gate.with_suffix(".open").exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        result.text = f"{count} products"

    trigger.on_change("value", on_trigger)
    doc.add_root(Column(trigger, result, Div(text=tag, name="tag"), name="layout"))


#: Sessions the counted app has built, in this process.
counted_calls: list[str] = []
_counted_lock = threading.Lock()


def counted(doc: Document) -> None:
    """Count the documents built; slow enough that concurrent creations overlap."""
    with _counted_lock:
        counted_calls.append(threading.current_thread().name)
    time.sleep(0.05)
    doc.add_root(Div(text="counted", name="root"))


#: Lifecycle hooks of the contract tests' applications, in the order they ran.
contract_calls: list[tuple[str, str]] = []


def request_echo(doc: Document) -> None:
    """Show what the session sees of the page request: a header, the cookies, an argument."""
    request = doc.session_context.request
    shown = {
        "team": request.headers.get("X-Team"),
        "authorization": request.headers.get("Authorization"),
        "cookies": dict(sorted(request.cookies.items())),
        "arguments": request.arguments,
        "as_keys": sorted(request),
    }
    doc.add_root(Div(text=repr(shown), name="shown"))


def io_waiter(doc: Document) -> None:
    """Work that waits on I/O without its session's lock (README, *What waits under a session's lock*).

    ``start`` schedules a server-context callback that waits for ``release`` (what a call
    to another service would be) and then writes its result with ``with_locked_document``.
    Held under the session's lock, that wait would keep ``release``'s own callback out.
    """
    context = doc.session_context
    released = asyncio.Event()
    out = Div(text="waiting", name="out")

    def show(document: Document) -> None:
        document.get_model_by_name("out").text = "fetched"  # type: ignore[union-attr]

    async def fetch() -> None:
        await released.wait()
        await context.with_locked_document(show)

    async def start(event: Any) -> None:
        context.server_context.add_next_tick_callback(fetch)

    async def release(event: Any) -> None:
        out.text = "released"
        released.set()

    doc.on_message("start", start)
    doc.on_message("release", release)
    doc.add_root(out)


def broadcaster(doc: Document) -> None:
    """Callbacks that broadcast to every session of the app: one async, one sync (in a worker thread).

    Callbacks run holding their session's lock: the broadcast must reach the caller's
    own session too, once the callback has let the lock go.
    """
    context = doc.session_context

    async def broadcast_async(event: Any) -> None:
        await context.server_context.broadcast("news", {"text": f"async {event.msg_data}"})

    def broadcast_sync(event: Any) -> None:
        assert threading.current_thread() is not threading.main_thread()  # a worker thread
        context.server_context.broadcast_nowait("news", {"text": f"sync {event.msg_data}"})

    doc.on_message("broadcast-async", broadcast_async)
    doc.on_message("broadcast-sync", broadcast_sync)
    doc.add_root(Div(text="broadcaster", name="root"))
