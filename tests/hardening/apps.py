"""Applications of the hardening and admin tests (named in ``settings.py``)."""

from __future__ import annotations

import asyncio
import datetime
import inspect
import os
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from docsync.document import Document, MessageSentEvent, Model
from docsync.document import models as builtin
from docsync.document.models import (
    Column,
    ColumnDataSource,
    DataTable,
    Div,
    GlyphRenderer,
    Line,
    Plot,
    Scatter,
    Slider,
    TableColumn,
    TextInput,
    VBar,
)
from docsync.handlers import Application, FunctionHandler


def builtin_model_classes() -> list[type[Model]]:
    """Every concrete model class that ``docsync.document.models`` exports."""
    classes = []
    for name in builtin.__all__:
        cls = getattr(builtin, name)
        if inspect.isclass(cls) and issubclass(cls, Model) and not cls.__dict__.get("__abstract__", False):
            classes.append(cls)
    return classes


def all_models(doc: Document) -> None:
    """One instance of every built-in model, all reachable from one root."""
    source = ColumnDataSource(data={"x": [1.0, 2.0, 3.0], "y": [4.0, 5.0, 6.0]}, name="source")
    wired: dict[type[Model], Model] = {
        ColumnDataSource: source,
        TableColumn: TableColumn(field="x", title="x"),
        # Choices with options: a browser picks among them (test_client_writes' samples).
        builtin.Select: builtin.Select(options=["a", "b"]),
        builtin.MultiSelect: builtin.MultiSelect(options=["a", "b"]),
        builtin.MultiChoice: builtin.MultiChoice(options=["a", "b"]),
        builtin.AutocompleteInput: builtin.AutocompleteInput(completions=["Bern"]),
    }
    renderers = [GlyphRenderer(data_source=source, glyph=glyph) for glyph in (Line(), Scatter(), VBar(top="y"))]
    wired[GlyphRenderer] = renderers[0]
    wired[Plot] = Plot(title="all", renderers=renderers)
    wired[DataTable] = DataTable(source=source, columns=[wired[TableColumn]])
    children = [wired.get(cls) or cls() for cls in builtin_model_classes() if cls is not Column]
    doc.add_root(Column(*children, name="root"))
    doc.title = "all models"


def limits(doc: Document) -> None:
    """A slider with no callback (patches stay cheap) and a text."""
    doc.add_root(Column(Slider(start=0, end=10_000, step=1, value=0, name="slider"), Div(text="ok", name="text")))


def echo(doc: Document) -> None:
    """A slider whose callback writes its value into a Div (a server round trip)."""
    slider = Slider(start=0, end=1_000_000, step=1, value=0, name="slider")
    text = Div(text="", name="echo")

    def changed(attr: str, old: float, new: float) -> None:
        text.text = f"value={new:g}"

    slider.on_change("value", changed)
    doc.add_root(Column(slider, text, name="root"))


def holding(doc: Document) -> None:
    """A "hold" message whose sync callback keeps the session busy until the file it names exists (60 s at most)."""

    def hold(event: MessageSentEvent) -> None:  # a worker thread, holding the session's lock
        released, deadline = Path(str(event.msg_data)), time.monotonic() + 60
        while not released.exists() and time.monotonic() < deadline:
            time.sleep(0.05)

    doc.on_message("hold", hold)
    doc.add_root(Div(text="holding", name="text"))


def empty_array(doc: Document) -> None:
    """A data source whose columns are empty arrays (empty binary frames on the wire)."""
    doc.add_root(ColumnDataSource(data={"x": np.zeros(0), "y": np.zeros(0, dtype=np.int32)}, name="source"))


def streamed(doc: Document) -> None:
    """A data source of one float column, empty, which clients stream rows into, and a text input."""
    doc.add_root(
        Column(ColumnDataSource(data={"x": np.zeros(0)}, name="source"), TextInput(value="", name="input"), name="root")
    )


def nested_lists(levels: int) -> Any:
    """A value ``levels`` JSON levels deep: lists around a number."""
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


def deep_writes(doc: Document) -> None:
    """A source and a "write" message whose callback writes a value as many JSON levels deep as the message asks.

    ``[kind, levels]``: the whole column data, one column, a streamed row, a patched cell,
    an item appended to a FactorRange's factors, or a message to the clients, each
    ``levels`` deep as the property's value (or the message's data); what the write
    raised goes into the ``said`` Div.
    """
    source = ColumnDataSource(data={"x": [1.0, 2.0], "s": [[1], [2]]}, name="source")
    factors = builtin.FactorRange(factors=["a"], name="factors")
    said = Div(text="", name="said")

    def write(event: MessageSentEvent) -> None:
        kind, levels = event.msg_data
        try:
            if kind == "data":  # the data, a column, an item: the item two levels down
                source.data = {"x": [1.0, 2.0], "s": [nested_lists(levels - 2), [2]]}
            elif kind == "column":
                source.data["s"] = [nested_lists(levels - 2), [2]]
            elif kind == "stream":
                source.stream({"x": [3.0], "s": [nested_lists(levels - 2)]})
            elif kind == "patch":
                source.patch({"s": [(0, nested_lists(levels - 2))]})
            elif kind == "factors":
                factors.factors.append(nested_lists(levels - 1))
            elif kind == "message":
                doc.send_message("echo", nested_lists(levels))
            said.text = f"took {kind} {levels}"
        except ValueError as exc:
            said.text = f"refused: {exc}"

    doc.on_message("write", write)
    doc.add_root(Column(said, source, name="root"))
    doc.add_root(factors)


def only_alice(user: Any, app_path: str) -> bool:
    """An access rule: only the user named alice (named as ``callable:...``)."""
    return bool(getattr(user, "is_authenticated", False) and user.get_username() == "alice")


def only_staffer(user: Any, app_path: str) -> bool:
    """An access rule given as a callable object: only the user named staffer."""
    return bool(getattr(user, "is_authenticated", False) and user.get_username() == "staffer")


def hostile(doc: Document) -> None:
    """What the hostile-client tests attack: a layout, a client-writable source, a text input."""
    source = ColumnDataSource(data={"x": np.arange(4.0), "s": ["a", "b", "c", "d"]}, name="source")
    slider = Slider(start=0, end=1_000_000, step=1, value=0, name="slider")
    doc.add_root(Column(slider, TextInput(name="text"), source, name="root"))


def hostile_wide(doc: Document) -> None:
    """The hostile document with 450 Divs more in its root, which it holds: a move of it defines 456 models again."""
    source = ColumnDataSource(data={"x": np.arange(4.0), "s": ["a", "b", "c", "d"]}, name="source")
    slider = Slider(start=0, end=1_000_000, step=1, value=0, name="slider")
    divs = (Div(text=str(i)) for i in range(450))
    text = TextInput(name="text")
    root = Column(slider, text, source, *divs, name="root")

    def count(attr: str, old: float, new: float) -> None:  # (the application holds its root, as a callback does)
        text.value = f"{len(root.children)} children"

    slider.on_change("value", count)
    doc.add_root(root)


def hostile_heavy(doc: Document) -> None:
    """The hostile document whose source holds 400 KB (50,000 floats), a root it holds: a move sends them again."""
    source = ColumnDataSource(data={"x": np.arange(50_000.0)}, name="source")
    slider = Slider(start=0, end=1_000_000, step=1, value=0, name="slider")
    text = TextInput(name="text")
    root = Column(slider, text, source, name="root")

    def count(attr: str, old: float, new: float) -> None:  # (the application holds its root, as a callback does)
        text.value = f"{len(root.children)} children"

    slider.on_change("value", count)
    doc.add_root(root)


#: The same document, from an application that lets no client change its structure.
hostile_closed = Application(FunctionHandler(hostile), allow_client_structure=False)
#: The same document, from an application that lets every client change its structure,
#: in the sessions other users see too (served shared: test_shared_structure.py).
hostile_open = Application(FunctionHandler(hostile), allow_client_structure=True)


def offered(doc: Document) -> None:
    """Widgets that offer their user bounded values, a source, and a Div every callback writes to."""
    calls = Div(text="", name="calls")

    def record(attr: str, old: Any, new: Any) -> None:
        calls.text += f"{attr}={new!r};"

    day = datetime.date
    widgets = [
        Slider(start=0, end=1_000_000, step=1, value=0, name="slider"),
        builtin.RangeSlider(start=0.1, end=0.9, step=0.1, value=(0.2, 0.5), name="range"),
        builtin.Select(options=["a", "b"], value="a", name="select"),
        builtin.MultiSelect(options=[("a", "A"), ("b", "B")], value=["a"], name="multi_select"),
        builtin.MultiChoice(options=["a", "b", "c"], value=[], name="multi_choice"),
        builtin.AutocompleteInput(completions=["Bern", "Berlin"], value="", name="auto"),
        builtin.AutocompleteInput(completions=["Bern"], restrict=False, value="", name="auto_free"),
        builtin.DatePicker(min_date=day(2024, 1, 1), max_date=day(2024, 12, 31), value=day(2024, 6, 1), name="date"),
        builtin.DateRangePicker(min_date=day(2024, 1, 1), max_date=day(2024, 12, 31), name="date_range"),
        builtin.DatePicker(max_date=day(2024, 12, 31), name="open_date"),  # no min_date: no lower bound
        builtin.DatetimePicker(
            min_date=datetime.datetime(2024, 1, 1, 8), max_date=datetime.datetime(2024, 1, 31, 18), name="datetime"
        ),
        builtin.TimePicker(min_time=datetime.time(8), max_time=datetime.time(18), name="time"),
        # An overnight range: from 22:00 past midnight to 06:00.
        builtin.TimePicker(
            min_time=datetime.time(22), max_time=datetime.time(6), value=datetime.time(23), name="night"
        ),
        builtin.DateRangeSlider(
            start=day(2024, 1, 1), end=day(2024, 3, 1), value=(day(2024, 1, 10), day(2024, 2, 1)), name="date_slider"
        ),
        builtin.Spinner(low=0, high=10, value=5, name="spinner"),
        # Values the app set outside the options (its choice): a browser may send them back.
        builtin.MultiChoice(options=["a", "b"], value=["a", "legacy"], name="tags"),
        builtin.Select(options=["a"], value="old", name="legacy_select"),
    ]
    for widget in widgets:
        widget.on_change("value", record)
    panels = [builtin.TabPanel(title=t, child=Div(text=t), disabled=t == "two") for t in ("one", "two", "three")]
    tabs = builtin.Tabs(tabs=panels, active=0, name="tabs")
    tabs.on_change("active", record)
    source = ColumnDataSource(data={"x": [1.0, 2.0, 3.0], "y": np.arange(3.0)}, name="source")
    source.on_change("data", record)
    uneven = ColumnDataSource(data={"x": [1.0, 2.0, 3.0], "y": [1.0]}, name="uneven")  # the app's choice
    doc.add_root(Column(*widgets, tabs, source, uneven, calls, name="root"))
    # Zoom and pan set a range's ends (client-writable), to finite numbers only.
    ranges = [
        builtin.Range1d(start=0, end=10, name="x_range"),
        builtin.DataRange1d(name="y_range"),
        builtin.FactorRange(factors=["a", "b"], name="factors"),
    ]
    for made in ranges:
        made.on_change("start", record)
        made.on_change("end", record)
        doc.add_root(made)


def oversized(doc: Document) -> None:
    """A document the server made bigger than the test site's frame limit (80,000-byte array)."""
    doc.add_root(Column(Slider(name="slider"), ColumnDataSource(data={"x": np.zeros(10_000)}), name="root"))


def who_changed(doc: Document) -> None:
    """A slider whose callback writes who moved it, and who is connected, into a Div."""
    slider = Slider(start=0, end=1_000_000, step=1, value=0, name="slider")
    text = Div(text="", name="who")

    def changed(attr: str, old: float, new: float) -> None:
        context = doc.session_context
        users = sorted(user.get_username() or "anonymous" for user in context.users)
        text.text = f"{context.user.get_username() or 'anonymous'} set {new:g}; connected: {', '.join(users)}"

    slider.on_change("value", changed)
    doc.add_root(Column(slider, text, name="root"))


def who_changed_async(doc: Document) -> None:
    """``who_changed`` with an ``async def`` callback: it runs on the event loop, after the patch is applied."""
    slider = Slider(start=0, end=1_000_000, step=1, value=0, name="slider")
    text = Div(text="", name="who")

    async def changed(attr: str, old: float, new: float) -> None:
        context = doc.session_context
        users = sorted(user.get_username() or "anonymous" for user in context.users)
        text.text = f"{context.user.get_username() or 'anonymous'} set {new:g}; connected: {', '.join(users)}"

    slider.on_change("value", changed)
    doc.add_root(Column(slider, text, name="root"))


def keeper(doc: Document) -> None:
    """The application keeps every root a client adds, also once it leaves the document (as a page's history would)."""
    kept: dict[str, Model] = {}

    def keep(event: Any) -> None:
        model = getattr(event, "model", None)
        if type(event).__name__ == "RootAddedEvent" and isinstance(model, Model):
            kept[model.id] = model

    doc.on_change(keep)
    doc.add_root(Div(text="the application's", name="kept"))
    doc.add_root(Slider(start=0, end=1_000_000, step=1, value=0, name="slider"))


def swapper(doc: Document) -> None:
    """A Select that shows one of two views it holds (a view it hides leaves the document, keeping its id)."""
    views = {"a": Div(text="view a", name="view_a"), "b": Div(text="view b", name="view_b")}
    choice = builtin.Select(options=["a", "b"], value="a", name="choice")
    slider = Slider(start=0, end=1_000_000, step=1, value=0, name="slider")
    layout = Column(choice, slider, views["a"], name="root")

    def show(attr: str, old: str, new: str) -> None:
        layout.children = [choice, slider, views[new]]

    choice.on_change("value", show)
    doc.add_root(layout)


def workers(doc: Document) -> None:
    """Widgets whose callbacks compute with what clients send, and write what they find into other models.

    Each callback does real work with the new value: formatting, arithmetic, parsing,
    writes to other properties and columns (whose callbacks run in turn). Some values
    make them raise (a slider at 0 divides by zero; a text that is no integer; a box
    index past the labels; a column of non-numbers; a "work" message without ``n``; a
    "factor" message whose ``n`` squared is past 64 bits, in a free-form list):
    the session reports it and goes on. ``log`` is left to clients (the resume fuzz
    streams its markers there).
    """
    slider = Slider(start=-1000, end=1_000_000, step=1, value=1, name="slider")
    span = builtin.RangeSlider(start=0, end=100, step=0.5, value=(10, 20), name="range")
    text = TextInput(value="1", name="text")
    boxes = builtin.CheckboxGroup(labels=list("abcdef"), active=[], name="boxes")
    toggle = builtin.Toggle(name="toggle")
    source = ColumnDataSource(data={"x": [1.0, 2.0], "y": [2.0, 4.0], "s": ["a", "b"]}, name="source")
    derived = ColumnDataSource(data={"x": [], "y": []}, name="derived")
    log = ColumnDataSource(data={"m": []}, name="log")
    label, total, echo = Div(text="", name="label"), Div(text="", name="total"), Div(text="", name="echo")
    factors = builtin.FactorRange(factors=["a", "b"], name="factors")  # (free-form: List(Any_()))

    def on_slider(attr: str, old: float, new: float) -> None:
        label.text = f"{new:,.2f} (was {old:g}); inverse {1 / new:.4g}"
        derived.stream({"x": [new], "y": [new * new]}, rollover=20)

    def on_range(attr: str, old: tuple[float, float], new: tuple[float, float]) -> None:
        low, high = new
        total.text = f"width {high - low:.1f}, middle {(low + high) / 2:.2f}"
        slider.value = round((low + high) / 2)

    def on_text(attr: str, old: str, new: str) -> None:
        count = int(new)
        echo.text = f"{new.strip().upper()[:40]} x2={count * 2}"
        slider.value = count % 1000

    def on_boxes(attr: str, old: list[int], new: list[int]) -> None:
        label.text = ",".join(boxes.labels[i] for i in new)

    async def on_toggle(attr: str, old: bool, new: bool) -> None:
        await asyncio.sleep(0)
        echo.text = "on" if new else "off"
        if new and text.value == "raise":
            raise RuntimeError("the toggle raises on purpose")

    def on_source(attr: str, old: Any, new: Any) -> None:
        xs, ys = list(source.data["x"]), list(source.data["y"])
        pairs = list(zip(xs, ys, strict=False))
        derived.data = {"x": [float(x) for x, _ in pairs], "y": [float(x) * float(y) for x, y in pairs]}
        words = "/".join(str(word) for word in source.data.get("s", []))
        total.text = f"sum={sum(float(x) for x in xs):g} rows={len(xs)} {words[:40]}"

    def on_work(event: MessageSentEvent) -> None:
        data = event.msg_data
        n = int(data["n"])
        total.text = f"{data.get('label', '')!s:.30}: {n * 3}"
        source.patch({"y": [(abs(n) % 2, float(n))]})
        derived.stream({"x": [float(n)], "y": [n * n]}, rollover=20)  # past 64 bits from 2**32 on

    def on_factor(event: MessageSentEvent) -> None:
        n = int(event.msg_data["n"])
        factors.factors = [*factors.factors[:4], [f"n{n % 10}", n * n]]  # past 64 bits from 2**32 on

    slider.on_change("value", on_slider)
    span.on_change("value", on_range)
    text.on_change("value", on_text)
    boxes.on_change("active", on_boxes)
    toggle.on_change("active", on_toggle)
    source.on_change("data", on_source)
    doc.on_message("work", on_work)
    doc.on_message("factor", on_factor)
    widgets = Column(slider, span, text, boxes, toggle, label, total, echo, name="root")
    doc.add_root(widgets)
    for made in (source, derived, log, factors):
        doc.add_root(made)


#: Callbacks of ``threads_probe`` running now, the most at once, and the threads they ran in (this process's).
_probe_lock = threading.Lock()
_probe: dict[str, Any] = {"now": 0, "peak": 0, "threads": set()}
#: Each probing callback waits for another to run beside it: two at once, whatever the timing.
_probe_pair = threading.Barrier(2)


def threads_probe(doc: Document) -> None:
    """A slider whose sync callbacks run in pairs and count how many run at once (``SYNC_CALLBACK_THREADS``).

    The slider at its end only reports (no pairing): the report's peak and threads are the process's so far.
    """
    report = Div(text="", name="report")
    slider = Slider(start=0, end=1_000_000, step=1, value=0, name="slider")

    def held(attr: str, old: Any, new: Any) -> None:
        with _probe_lock:
            _probe["now"] += 1
            _probe["peak"] = max(_probe["peak"], _probe["now"])
            _probe["threads"].add(threading.current_thread().name)
        if new != slider.end:
            _probe_pair.wait(timeout=60)
            time.sleep(0.05)  # a third callback, had it a thread, would start meanwhile
        with _probe_lock:
            _probe["now"] -= 1
            report.text = f"peak {_probe['peak']} threads {sorted(_probe['threads'])}"

    slider.on_change("value", held)
    doc.add_root(Column(slider, report, name="root"))


def held_until_released(doc: Document) -> None:
    """A slider whose change starts a callback that runs until the file ``DOCSYNC_TEST_RELEASE`` names exists.

    The change itself is answered at once: its session's clients may leave, and the
    session expire, while that callback runs.
    """
    slider = Slider(start=0, end=10, step=1, value=0, name="slider")

    def wait_for_release() -> None:
        release = Path(os.environ["DOCSYNC_TEST_RELEASE"])
        deadline = time.monotonic() + 120  # bounded: a test that never releases it ends anyway
        while not release.exists() and time.monotonic() < deadline:
            time.sleep(0.05)

    slider.on_change("value", lambda attr, old, new: doc.add_next_tick_callback(wait_for_release))
    doc.add_root(Column(slider, name="root"))


def _log_ended(session_context: Any) -> None:
    with Path(os.environ["DOCSYNC_TEST_ENDED"]).open("a") as log:
        log.write(f"{session_context.id}\n")


#: Its sessions write their id to the file ``DOCSYNC_TEST_ENDED`` names when they are destroyed.
held_sessions = Application(FunctionHandler(held_until_released, on_session_destroyed=_log_ended))


def many_models(doc: Document) -> None:
    """450 Divs in a Column, and a FileInput whose values fill the admin's page (test_live_sessions.py)."""
    quotes = "'" * 200  # each written &#x27; on a page: six characters
    many = [quotes] * 3
    wide = builtin.FileInput(title=quotes, accept=quotes, css_classes=many, filename=many, mime_type=many)
    doc.add_root(Column(wide, *(Div(text=str(i)) for i in range(450)), name="root"))
