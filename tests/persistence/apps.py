"""The applications the persistence tests save, kill and restore.

``board`` has a bit of everything a snapshot must carry: a slider whose callback the
restored session must still run (it writes ``echo`` and the source's array), an
unnamed model matched by creation order, named models, a list clients splice, and a
numpy column (a binary buffer).
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from docsync.document import Document, Model
from docsync.document.models import Column, ColumnDataSource, Div, Slider, TextInput
from docsync.document.properties import List, String
from docsync.handlers import Application, FunctionHandler

__all__ = ["Notes", "app", "board", "by_arguments", "open_board", "redraw", "renamed", "slow_board"]


class Notes(Model):
    """A list of notes any client may splice."""

    __type_name__ = "persistence.Notes"
    __client_writable__ = frozenset({"items", "title"})
    items = List(String())
    title = String("")


def _hook_log(line: str) -> None:
    path = os.environ.get("DOCSYNC_HOOK_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as log:
            log.write(f"{os.getpid()} {line}\n")


def board(doc: Document) -> None:
    """A slider (unnamed) echoed by its callback into a Div and an array column; notes."""
    slider = Slider(start=0, end=1000, step=1, value=0)
    echo = Div(text="value=0", name="echo")
    source = ColumnDataSource(data={"x": np.arange(3, dtype=np.float64)}, name="source")
    notes = Notes(name="notes")

    def echo_value(attr: str, old: Any, new: Any) -> None:
        echo.text = f"value={new:g} pid={os.getpid()}"
        source.data = {"x": np.arange(int(new) + 3, dtype=np.float64) * 0.5}

    slider.on_change("value", echo_value)
    doc.add_root(Column(slider, echo, notes))
    doc.add_root(source)


def by_arguments(doc: Document) -> None:
    """The board, built from the request: ``?rows=N`` Divs, and a callback that says what the build read.

    The slider's callback writes into ``echo`` the arguments, the ``X-Team`` header and the
    ``flavour`` cookie the build saw: kept by the closure, never in the document, so only a
    build with the same request says the same after a restore.
    """
    request = doc.session_context.request  # type: ignore[union-attr]
    arguments = request.arguments
    rows = int(arguments.get("rows", ["1"])[0])
    seen = f"arguments={sorted(arguments.items())} team={request.headers.get('X-Team')}"
    seen += f" flavour={request.cookies.get('flavour')}"
    slider = Slider(start=0, end=1000, step=1, value=0)
    echo = Div(text="", name="echo")

    def echo_value(attr: str, old: Any, new: Any) -> None:
        echo.text = f"value={new:g} {seen}"

    slider.on_change("value", echo_value)
    doc.add_root(Column(slider, echo, *(Div(text=f"row {n}") for n in range(rows))))


def slow_board(doc: Document) -> None:
    """The board, with a callback that holds on while the file ``DOCSYNC_NAP_FILE`` exists (at most 20 s).

    A drain lets running callbacks finish: a test keeps a process draining for as long
    as it needs, to connect meanwhile.
    """
    board(doc)
    flag = os.environ.get("DOCSYNC_NAP_FILE", "")

    def nap() -> None:
        # A sync callback runs in a worker thread, here with no lock (locked=False).
        if not flag or not os.path.exists(flag):
            return
        _hook_log("nap holding")
        deadline = time.monotonic() + 20
        while os.path.exists(flag) and time.monotonic() < deadline:
            time.sleep(0.05)

    doc.add_periodic_callback(nap, 50, locked=False)


def redraw(doc: Document) -> None:
    """A named ``plot`` that a slider's callback replaces by a new one of the same name, and an unnamed slider echoed.

    Replacing a named model (a chart drawn again) is what a callback does; the unnamed
    slider and caption must still be matched by creation order at a restore.
    """
    plot = Div(text="drawn 0", name="plot")
    redraws = Slider(start=0, end=1000, step=1, value=0, name="redraws")
    slider = Slider(start=0, end=1000, step=1, value=0)
    echo = Div(text="value=0", name="echo")
    layout = Column(Div(text="a caption"), redraws, slider, echo, plot)

    def draw_again(attr: str, old: Any, new: Any) -> None:
        layout.children[4] = Div(text=f"drawn {new:g}", name="plot")

    def echo_value(attr: str, old: Any, new: Any) -> None:
        echo.text = f"value={new:g} pid={os.getpid()}"

    redraws.on_change("value", draw_again)
    slider.on_change("value", echo_value)
    doc.add_root(layout)


def renamed(doc: Document) -> None:
    """Input ``a`` and an unnamed input, each echoing whose callback saw its value; a slider's callback swaps the name.

    The slider's callback renames ``a`` to None and gives ``a`` to the unnamed input: a
    restore must still give each input its own callback (persistence.md, *Limits of the
    matching*).
    """
    first = TextInput(title="first", name="a")
    second = TextInput(title="second")
    echo = Div(text="", name="echo")
    renames = Slider(start=0, end=10, step=1, value=0, name="renames")

    def echoes(whose: str) -> Any:
        def saw(attr: str, old: Any, new: Any) -> None:
            echo.text = f"{whose} saw {new} pid={os.getpid()}"

        return saw

    def rename(attr: str, old: Any, new: Any) -> None:
        first.name, second.name = None, "a"

    first.on_change("value", echoes("first's"))
    second.on_change("value", echoes("second's"))
    renames.on_change("value", rename)
    doc.add_root(Column(first, second, renames, echo))


def on_session_restored(session_context: Any) -> None:
    """Say, in the hook log, which process restored which session."""
    _hook_log(f"restored {session_context.id}")


def on_session_created(session_context: Any) -> None:
    """Say, in the hook log, which process made which session."""
    _hook_log(f"created {session_context.id}")


app = Application(
    FunctionHandler(board, on_session_created=on_session_created, on_session_restored=on_session_restored)
)
#: The board, in sessions whose clients may change its structure (roots, new models).
open_board = Application(FunctionHandler(board), allow_client_structure=True)
