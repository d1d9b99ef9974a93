"""Hypothesis strategies of the session fuzz: pushed documents, patches that feed callbacks, client edits.

The ``workers`` app's models are named by placeholders (``named("slider")``) that
``Drawn.frames`` replaces with their ids; ``UNIQUE`` becomes a number never sent before
(a text that differs from the last, so that its callback runs). Draws never depend on
the server: hypothesis replays choices.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from docsync.exceptions import ValidationError

from . import fuzz_documents
from .fuzz_frames import arrays, events, json_values, scalars, values

#: Models of the ``workers`` app, by name.
NAMES = ("root", "slider", "range", "text", "boxes", "toggle", "source", "derived", "log", "label", "total", "echo")
UNIQUE = "@@unique@@"
_unique = itertools.count(1)


def named(name: str) -> str:
    """The placeholder of the model called ``name``."""
    return f"@@{name}@@"


def ref(model_id: str) -> dict[str, str]:
    return {"id": model_id}


def fill(text: str, ids: dict[str, str]) -> str:
    """``text`` with every placeholder replaced (``UNIQUE`` by a new number each time)."""
    for name, model_id in ids.items():
        text = text.replace(named(name), model_id)
    while UNIQUE in text:
        text = text.replace(UNIQUE, str(next(_unique)), 1)
    return text


@dataclass
class Drawn:
    """One message: its type, content and buffers, and what it surely does."""

    msgtype: str
    content: dict[str, Any]
    buffers: list[bytes] = field(default_factory=list)
    #: Accepted whole, a callback surely raises (the session must say so).
    must_raise: bool = False
    #: Surely refused.
    must_fail: bool = False

    def frames(self, ids: dict[str, str], msgid: str) -> list[str | bytes]:
        header: dict[str, Any] = {"msgid": msgid, "msgtype": self.msgtype}
        if self.buffers:
            header["num_buffers"] = len(self.buffers)
        frames: list[str | bytes] = [json.dumps(header), "{}", fill(json.dumps(self.content, allow_nan=True), ids)]
        for i, payload in enumerate(self.buffers):
            frames += [json.dumps({"id": f"b{i}"}), payload]
        return frames


numbers = (
    st.integers(-1000, 1_000_000)
    | st.sampled_from([0, 0.0, -0.0, 1e-300, 5e-324, 2**53 + 1, 1e308])
    | st.floats(-1e7, 1e7)
    | st.floats(allow_nan=True, allow_infinity=True)
)
texts = (
    st.integers(-(10**20), 10**20).map(str)
    | st.sampled_from(["", " 7 ", "0x10", "1e3", "١٢", "raise", "-0", "9" * 5000])
    | st.text(max_size=30)
)


def mostly(draw: st.DrawFn, good: st.SearchStrategy[Any], odd: st.SearchStrategy[Any] = values) -> Any:
    """A draw of ``good`` four times in five, else of ``odd``: most patches must be accepted to reach callbacks."""
    return draw(odd if draw(st.integers(0, 4)) == 0 else good)


@st.composite
def callback_events(draw: st.DrawFn, buffers: list[bytes]) -> tuple[dict[str, Any], bool]:
    """One event whose value a callback of ``workers`` reads; True when, applied, a callback surely raises."""
    target = draw(st.sampled_from(["slider", "range", "text", "boxes", "toggle", "source", "work", "other"]))
    changed = {"kind": "ModelChanged", "model": ref(named(target)), "attr": "value"}
    if target == "slider":
        # At 0 the callback divides by zero (the slider's start is -1000: 0 is in range).
        return {**changed, "new": mostly(draw, numbers)}, False
    if target == "range":
        return {
            **changed,
            "new": mostly(draw, st.lists(numbers, min_size=2, max_size=2), st.lists(numbers) | values),
        }, False
    if target == "text":
        if draw(st.booleans()):  # no integer, and new each time: int() raises
            return {**changed, "new": f"boom {UNIQUE}"}, True
        return {**changed, "new": mostly(draw, texts)}, False
    if target == "boxes":
        active = mostly(draw, st.lists(st.integers(0, 5), max_size=6), st.lists(st.integers(-8, 12)) | values)
        return {**changed, "attr": "active", "new": active}, False
    if target == "toggle":
        return {**changed, "attr": "active", "new": mostly(draw, st.booleans())}, False
    if target == "source":
        return draw(column_events(buffers)), False
    if target == "work":
        data = st.fixed_dictionaries({"n": numbers | texts | values}, optional={"label": values | texts})
        msg_type = draw(st.sampled_from(["work"] * 5 + ["nope"]))
        return {"kind": "MessageSent", "msg_type": msg_type, "msg_data": mostly(draw, data)}, False
    # Callbacks' outputs and other attributes: refused, but for a source's data (any source's is writable).
    model = draw(st.sampled_from(["derived", "label", "total", "slider", "root"]))
    attr = draw(st.sampled_from(["text", "data", "start", "end", "children", "title"]))
    return {"kind": "ModelChanged", "model": ref(named(model)), "attr": attr, "new": draw(values)}, False


cells = numbers | texts | values
#: Texts a document may hold (no lone surrogates, which JSON text cannot carry as such).
plain_texts = st.text(st.characters(codec="utf-8"), max_size=30)


@st.composite
def column_events(draw: st.DrawFn, buffers: list[bytes]) -> dict[str, Any]:
    """A change of the ``source``'s columns: rows of numbers mostly, strings, odd values, arrays."""
    source = {"model": ref(named("source")), "attr": "data"}
    kind = draw(st.sampled_from(["ColumnDataChanged", "ColumnsStreamed", "ColumnsPatched"]))

    def column(rows: int) -> Any:
        if draw(st.integers(0, 4)) == 0:
            return draw(arrays(buffers))
        if draw(st.integers(0, 9)) == 0:
            return draw(values)
        return draw(st.lists(numbers if draw(st.integers(0, 3)) else cells, min_size=rows, max_size=rows))

    if kind == "ColumnDataChanged":
        names = (
            ["x", "y", "s"]
            if draw(st.booleans())
            else draw(st.lists(st.sampled_from(["x", "y", "s", "z"]), min_size=1, max_size=3, unique=True))
        )
        rows = draw(st.integers(0, 4))
        return {"kind": kind, **source, "columns": {name: column(rows) for name in names}}
    if kind == "ColumnsStreamed":
        rows = draw(st.integers(0, 3))
        data = {name: column(rows) for name in draw(st.sampled_from([["x", "y", "s"]] * 4 + [["x", "y"]]))}
        return {"kind": kind, **source, "data": data, "rollover": draw(st.none() | st.integers(-1, 6))}
    index = draw(
        st.integers(0, 1)
        | st.integers(-3, 6)
        | st.fixed_dictionaries({"type": st.just("slice"), "start": st.integers(0, 3)})
    )
    name = draw(st.sampled_from(["x", "y", "s", "z"]))
    return {"kind": kind, **source, "patches": {name: [[index, mostly(draw, numbers, cells)]]}}


@st.composite
def callback_patches(draw: st.DrawFn) -> Drawn:
    """A PATCH-DOC of 1 to 3 events for the ``workers`` callbacks, now and then with a frame fuzzer's event."""
    buffers: list[bytes] = []
    drawn = draw(st.lists(callback_events(buffers), min_size=1, max_size=3 if draw(st.integers(0, 3)) == 0 else 1))
    if draw(st.integers(0, 2)) == 0:  # a text that makes its callback raise, among the others
        text = {"kind": "ModelChanged", "model": ref(named("text")), "attr": "value", "new": f"boom {UNIQUE}"}
        drawn.insert(draw(st.integers(0, len(drawn))), (text, True))
    content_events = [event for event, _ in drawn]
    if draw(st.integers(0, 9)) == 0:
        content_events.append(draw(events()))
    content: dict[str, Any] = {"events": content_events}
    return Drawn("PATCH-DOC", content, buffers, must_raise=any(raises for _, raises in drawn))


def definition(model_id: str, type_name: str, **attributes: Any) -> dict[str, Any]:
    return {"type": "object", "name": type_name, "id": model_id, "attributes": attributes}


@st.composite
def app_like(draw: st.DrawFn, buffers: list[bytes]) -> tuple[dict[str, Any], bool]:
    """A document like an app's (a layout of widgets, a source), its values valid mostly; True when surely refused."""
    bad = False

    def attribute(valid: st.SearchStrategy[Any]) -> Any:
        return mostly(draw, valid) if draw(st.integers(0, 1)) else draw(valid)  # wrong one time in ten

    rows = draw(st.integers(0, 4))
    data: Any = {
        "x": attribute(st.lists(st.floats(-1e9, 1e9), min_size=rows, max_size=rows)),
        "s": attribute(st.lists(plain_texts, min_size=rows, max_size=rows)),
    }
    if draw(st.integers(0, 3)) == 0:
        data["a"] = draw(arrays(buffers))  # of any length: as long as the others now and then
    slider = {"end": attribute(st.integers(100, 10**6)), "value": attribute(st.integers(0, 100) | st.floats(0, 100))}
    models = [
        definition("s1", "Slider", start=0, **slider, name="slider"),
        definition("t1", "TextInput", value=attribute(plain_texts), name="text"),
        definition("d1", "Div", text=attribute(plain_texts)),
        definition("c1", "ColumnDataSource", data=data, name="source"),
    ]
    models = draw(st.permutations(models))
    models = models[: draw(st.integers(1, len(models)))]
    children = [ref(m["id"]) for m in models if m["name"] != "ColumnDataSource"]
    models.append(definition("r1", "Column", children=children, name="root"))
    roots = [ref("r1")] + [ref(m["id"]) for m in models if m["name"] == "ColumnDataSource"]
    doc: dict[str, Any] = {"title": attribute(st.text(max_size=20)), "roots": roots, "models": models}
    mutation = draw(st.sampled_from(["none"] * 15 + ["dangling", "duplicate", "unknown type", "long id", "no roots"]))
    if mutation == "dangling":
        doc["roots"] = [*roots, ref("gone")]
        bad = True
    elif mutation == "duplicate":
        doc["models"] = [*models, definition(models[0]["id"], "Div")]
        bad = True
    elif mutation == "unknown type":
        doc["models"] = [*models, definition("u1", "Nope")]
        doc["roots"] = [*roots, ref("u1")]
        bad = True
    elif mutation == "long id":
        doc["models"] = [*models, definition("L" * 200, "Div")]
        doc["roots"] = [*roots, ref("L" * 200)]
        bad = True
    elif mutation == "no roots":
        del doc["roots"]
    return doc, bad


@st.composite
def pushes(draw: st.DrawFn) -> Drawn:
    """A PUSH-DOC: an app-like document, a poisoning fuzzer's, or random content."""
    buffers: list[bytes] = []
    kind = draw(st.sampled_from(["app"] * 5 + ["poison", "random", "empty", "typed"]))
    if kind == "app":
        doc, bad = draw(app_like(buffers))
        return Drawn("PUSH-DOC", {"doc": doc}, buffers, must_fail=bad)
    if kind == "poison":
        models, poisoned = draw(fuzz_documents.definitions())
        doc = {"title": draw(st.text(max_size=10)), "roots": [ref(models[0]["id"])], "models": models}
        # fuzz_documents' "through root" holds the app's root: a model this document lacks.
        text = json.dumps(doc).replace(fuzz_documents.known("root"), "gone")
        return Drawn("PUSH-DOC", {"doc": json.loads(text)}, buffers, must_fail=poisoned or "gone" in text)
    if kind == "random":
        return Drawn("PUSH-DOC", draw(st.dictionaries(st.sampled_from(["doc", "seq", "x"]), values, max_size=2)))
    if kind == "empty":
        return Drawn("PUSH-DOC", {"doc": {"title": draw(st.text(max_size=5)), "roots": [], "models": []}})
    typed = draw(st.fixed_dictionaries({"title": scalars, "roots": json_values, "models": json_values}))
    return Drawn("PUSH-DOC", {"doc": typed}, buffers)


#: Edits a well-behaved client makes to its own document of ``workers`` (applied with ``apply_edit``).
edits = st.one_of(
    st.tuples(st.just("slider"), st.integers(-1000, 1_000_000)),
    st.tuples(st.just("range"), st.tuples(st.integers(0, 50), st.integers(50, 100))),
    st.tuples(st.just("text"), st.integers(-50, 5000).map(str) | st.sampled_from(["x", "", "raise"])),
    st.tuples(st.just("boxes"), st.lists(st.integers(0, 5), max_size=4, unique=True)),
    st.tuples(st.just("toggle"), st.booleans()),
    st.tuples(st.just("stream"), st.integers(1, 3)),
    st.tuples(st.just("patch"), st.floats(-10, 10, allow_nan=False)),
    st.tuples(st.just("data"), st.lists(st.floats(-5, 5, allow_nan=False), max_size=4)),
)


def apply_edit(document: Any, edit: tuple[str, Any]) -> bool:
    """Make ``edit`` in a client's document of ``workers`` (its client sends it as a patch); False if it refuses it.

    A fuzzer may have changed the document meanwhile (a source with a column more, or of
    strings): an edit the client's own document refuses is never sent.
    """
    what, value = edit
    model = document.get_model_by_name
    try:
        if what == "slider":
            model("slider").value = value
        elif what == "range":
            model("range").value = value
        elif what == "text":
            model("text").value = value
        elif what == "boxes":
            model("boxes").active = value
        elif what == "toggle":
            model("toggle").active = value
        elif what == "stream":
            model("source").stream({"x": [float(i) for i in range(value)], "y": [1.0] * value, "s": ["e"] * value})
        elif what == "patch":
            source = model("source")
            if len(source.data.get("y", ())):
                source.patch({"y": [(0, value)]})
        else:
            source = model("source")
            source.data = {"x": list(value), "y": [v * 2 for v in value], "s": ["d"] * len(value)}
    except ValidationError:
        return False
    return True
