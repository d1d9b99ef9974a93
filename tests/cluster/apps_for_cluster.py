"""The app the cluster tests serve: counts its runs, answers broadcast requests."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from docsync.document import Document, MessageSentEvent
from docsync.document.models import Column, Div, Slider
from docsync.handlers import Application, FunctionHandler


def _record(line: str) -> None:
    path = os.environ.get("DOCSYNC_CLUSTER_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as log:
            log.write(f"{os.getpid()} {line}\n")


def modify_doc(doc: Document) -> None:
    """A slider whose callback echoes its value into a Div, and a broadcast hook."""
    slider = Slider(start=0, end=100, value=1, name="slider")
    echo = Div(text="", name="echo")
    news = Div(text="", name="news")

    def update(attr: str, old: float, new: float) -> None:
        echo.text = f"value={new:g} pid={os.getpid()}"

    slider.on_change("value", update)

    async def broadcast(event: MessageSentEvent) -> None:
        await doc.session_context.server_context.broadcast("news", {"text": str(event.msg_data)})

    def broadcast_from_thread(event: MessageSentEvent) -> None:  # a sync callback: a worker thread
        doc.session_context.server_context.broadcast_nowait("news", {"text": f"sync {event.msg_data}"})

    def hold(event: MessageSentEvent) -> None:  # a sync callback: holds the session's lock in a worker thread
        # Until the test's file exists (at most 60 s): the session takes no message meanwhile.
        released, deadline = Path(str(event.msg_data)), time.monotonic() + 60
        while not released.exists() and time.monotonic() < deadline:
            time.sleep(0.05)

    doc.on_message("hold", hold)
    doc.on_message("broadcast-request", broadcast)
    doc.on_message("broadcast-request-sync", broadcast_from_thread)
    doc.add_root(Column(slider, echo, news))
    _record(f"modify_document {doc.session_context.id}")


def _created(session_context: Any) -> None:
    _record(f"on_session_created {session_context.id}")


app = Application(FunctionHandler(modify_doc, on_session_created=_created))


def storm(doc: Document) -> None:
    """A patch storm: a periodic callback moves a slider every 5 ms (about 200 patches/s at best)."""
    slider = Slider(start=0, end=10**9, value=0, name="slider")

    def tick() -> None:
        slider.value = slider.value + 1

    doc.add_periodic_callback(tick, 5)
    doc.add_root(Column(slider))
