"""Hypothesis strategies: well-framed PATCH-DOCs and PUSH-DOCs that try to poison a document.

References in every value position (property values, list items, dict values and map
entries, columns, streamed rows, patched cells, roots, pushed documents), cycles among
new and existing models, big streams, long ids. Each draw says whether it certainly
breaks a rule (``Attack.must_fail``): those must be refused.

Draws never depend on the server: the session's models are named by placeholders
(``known("slider")``) that ``Attack.frames`` replaces with their ids.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

#: Models of the ``hostile`` app, by name: what a draw may aim at.
KNOWN = ("root", "slider", "text", "source", "selection")


def known(name: str) -> str:
    return f"@@{name}@@"


@dataclass
class Attack:
    """One message, and whether it breaks a rule for sure."""

    msgtype: str
    content: dict[str, Any]
    msgid: str
    must_fail: bool
    why: list[str] = field(default_factory=list)

    def frames(self, ids: dict[str, str]) -> list[str]:
        text = json.dumps(self.content)
        for name, model_id in ids.items():
            text = text.replace(known(name), model_id)
        header = {"msgid": self.msgid, "msgtype": self.msgtype}
        return [json.dumps(header), "{}", text]


def ref(model_id: str) -> dict[str, str]:
    return {"id": model_id}


new_ids = st.sampled_from(["n1", "n2", "n3"])
long_ids = st.integers(129, 400).map(lambda n: "L" * n)
targets = st.sampled_from([known(n) for n in KNOWN]) | new_ids


@st.composite
def holding(draw: st.DrawFn, target: Any = targets) -> Any:
    """A value with a reference somewhere inside: itself, a list item, a dict or map value."""
    inner: Any = ref(draw(target))
    for _ in range(draw(st.integers(0, 3))):
        shape = draw(st.sampled_from(["list", "dict", "map", "set-free list"]))
        if shape == "list":
            inner = [draw(st.integers()), inner]
        elif shape == "dict":
            inner = {"k": inner}
        elif shape == "map":
            inner = {"type": "map", "entries": [[1, inner]]}
        else:
            inner = [inner, "x"]
    return inner


def definition(model_id: str, name: str, **attributes: Any) -> dict[str, Any]:
    return {"type": "object", "name": name, "id": model_id, "attributes": attributes}


@st.composite
def definitions(draw: st.DrawFn) -> tuple[list[dict[str, Any]], bool]:
    """Models a message defines; True when they surely make a cycle or a model in a column."""
    kind = draw(st.sampled_from(["divs", "self", "pair", "through root", "column holds a model", "fine column"]))
    if kind == "divs":
        return [definition(i, "Div", text=draw(st.text(max_size=20))) for i in ("n1", "n2", "n3")], False
    if kind == "self":
        return [definition("n1", "Column", children=[ref("n1")])], True
    if kind == "pair":
        return [definition("n1", "Column", children=[ref("n2")]), definition("n2", "Row", children=[ref("n1")])], True
    if kind == "through root":  # n1 holds the root: a cycle only if n1 ends up under the root
        return [definition("n1", "Column", children=[ref(known("root"))])], False
    if kind == "column holds a model":
        data = {"x": [1.0], "s": [draw(holding(st.sampled_from(["n2", known("slider")])))]}
        return [definition("n1", "ColumnDataSource", data=data), definition("n2", "Div")], True
    return [definition("n1", "ColumnDataSource", data={"x": [1.0], "s": ["a"]})], False


POISONS = [
    "model in a column",
    "model in a stream",
    "model in a cell",
    "model in a slice",
    "model for a number",
    "model in a list of ints",
]
FINE = ["big stream", "valid stream", "root added", "text", "array stream", "array column", "array cell"]
#: dtypes of protocol.md §7 and their item sizes
DTYPES = {"float64": 8, "float32": 4, "int64": 8, "int32": 4, "uint8": 1, "bool": 1, "int16": 2, "uint64": 8}


@st.composite
def arrays(draw: st.DrawFn, rows: int) -> dict[str, Any]:
    """A base64 ndarray of ``rows`` items (now and then rows by 2: a 2-D column), of any dtype."""
    dtype = draw(st.sampled_from(sorted(DTYPES)))
    shape = [rows, 2] if draw(st.integers(0, 4)) == 0 else [rows]
    size = DTYPES[dtype] * rows * (shape[-1] if len(shape) == 2 else 1)
    payload = draw(st.binary(min_size=size, max_size=size))
    if dtype.startswith("float") and draw(st.booleans()):
        payload = bytes(size)  # zeros: finite floats, as most arrays hold
    value = {"type": "ndarray", "base64": base64.b64encode(payload).decode(), "dtype": dtype, "shape": shape}
    return {**value, "order": draw(st.sampled_from(["little", "big"]))}


@st.composite
def events(draw: st.DrawFn, kinds: list[str] = POISONS + FINE) -> tuple[dict[str, Any], bool, str]:
    """One event, whether it surely breaks a rule, and what it does."""
    source, selection = known("source"), known("selection")
    kind = draw(st.sampled_from(kinds))
    data = {"kind": "ColumnDataChanged", "model": ref(source), "attr": "data"}
    if kind == "model in a column":
        return {**data, "columns": {draw(st.sampled_from(["s", "new"])): [draw(holding())]}}, True, kind
    if kind == "model in a stream":
        rows = {"x": [1.0], "s": [draw(holding())]}
        return (
            {"kind": "ColumnsStreamed", "model": ref(source), "attr": "data", "data": rows, "rollover": None},
            True,
            kind,
        )
    if kind == "model in a cell":
        cell = [[0, draw(holding())]]
        return {"kind": "ColumnsPatched", "model": ref(source), "attr": "data", "patches": {"s": cell}}, True, kind
    if kind == "model in a slice":
        cell = [[{"type": "slice", "start": 0, "stop": 1, "step": 1}, [draw(holding())]]]
        return {"kind": "ColumnsPatched", "model": ref(source), "attr": "data", "patches": {"s": cell}}, True, kind
    if kind == "model for a number":
        slider = ref(known("slider"))
        return {"kind": "ModelChanged", "model": slider, "attr": "value", "new": draw(holding())}, True, kind
    if kind == "model in a list of ints":
        splice = {"kind": "ListSpliced", "model": ref(selection), "attr": "indices", "index": 0, "delete": 0}
        return {**splice, "items": [draw(holding())]}, True, kind
    if kind in ("big stream", "valid stream"):
        count = draw(st.integers(1000, 2500)) if kind == "big stream" else draw(st.integers(1, 5))
        rollover = draw(st.none() | st.integers(0, 8))
        stream = {"kind": "ColumnsStreamed", "model": ref(source), "attr": "data", "rollover": rollover}
        return {**stream, "data": {"x": [0.5] * count, "s": ["q"] * count}}, False, kind
    if kind == "array stream":
        rows = draw(st.integers(0, 5))
        stream = {
            "kind": "ColumnsStreamed",
            "model": ref(source),
            "attr": "data",
            "rollover": draw(st.none() | st.integers(0, 8)),
        }
        return {**stream, "data": {"x": draw(arrays(rows)), "s": ["q"] * rows}}, False, kind
    if kind == "array column":  # as long as the other columns or not: the document's length varies
        column = draw(st.sampled_from(["x", "s", "new"]))
        return {**data, "columns": {column: draw(arrays(draw(st.integers(0, 6))))}}, False, kind
    if kind == "array cell":
        start = draw(st.integers(0, 4))
        index = {"type": "slice", "start": start, "stop": start + draw(st.integers(0, 3)), "step": 1}
        cell = [[index, draw(arrays(draw(st.integers(0, 3))))]]
        patch = {"kind": "ColumnsPatched", "model": ref(source), "attr": "data"}
        return {**patch, "patches": {draw(st.sampled_from(["x", "s"])): cell}}, False, kind
    if kind == "root added":
        return {"kind": "RootAdded", "model": ref(draw(new_ids))}, False, kind
    text = draw(st.text(max_size=50) | st.integers(1000, 20_000).map(lambda n: "t" * n))
    return {"kind": "ModelChanged", "model": ref(known("text")), "attr": "value", "new": text}, False, kind


@st.composite
def attacks(draw: st.DrawFn) -> Attack:
    """A PATCH-DOC or a PUSH-DOC meant to poison, outgrow or confuse the session."""
    short = st.text(alphabet="abc123", min_size=1, max_size=12)
    msgid = draw(long_ids if draw(st.integers(0, 9)) == 0 else short)
    long_msgid = len(msgid) > 128
    if draw(st.integers(0, 4)) == 0:
        models, poisoned = draw(definitions())
        roots = [ref(models[0]["id"])]
        if draw(st.booleans()):  # a reference to a model the pushed document lacks
            models = [*models, definition("p9", "Column", children=[ref(known("slider"))])]
            roots.append(ref("p9"))
            poisoned = True
        title = draw(st.text(max_size=10))
        why = ["pushed: cycle, model in a column or unknown id"] if poisoned else []
        return Attack(
            "PUSH-DOC", {"doc": {"title": title, "roots": roots, "models": models}}, msgid, poisoned or long_msgid, why
        )
    # About half the patches carry poison; the others make the document grow and change.
    drawn = [draw(events(POISONS if draw(st.booleans()) else FINE))]
    drawn += draw(st.lists(events(FINE), max_size=2))
    content: dict[str, Any] = {"events": [e for e, _, _ in drawn], "references": []}
    must_fail = any(bad for _, bad, _ in drawn)
    why = [what for _, bad, what in drawn if bad]
    if draw(st.integers(0, 3)) == 0:
        models, poisoned = draw(definitions())
        content["references"] = models
        content["events"].append({"kind": "RootAdded", "model": ref(models[0]["id"])})
        if poisoned:
            must_fail, why = True, [*why, "references: cycle or model in a column"]
    if draw(st.integers(0, 9)) == 0:  # a new model under an id too long to be a msgid
        long_id = draw(long_ids)
        content["references"].append(definition(long_id, "Div"))
        content["events"].append({"kind": "RootAdded", "model": ref(long_id)})
    if long_msgid:
        why.append("msgid too long")
    return Attack("PATCH-DOC", content, msgid, must_fail or long_msgid, why)
