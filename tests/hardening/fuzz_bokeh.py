"""Seeded mutations of valid BokehJS PATCH-DOCs, for the Bokeh dialect's fuzz test (``test_fuzz_bokeh.py``).

Each case starts from valid events of every kind the dialect takes (a property set to a
plain or typed value, a data source's data replaced, rows streamed, cells and slices
patched, a root added or removed, the title, a message, a button's or a menu's click), aimed at the
models of ``bokeh_fuzzed.fuzzed`` by their ids; then mutates them a few times: a field
dropped, added or given another type, a number made huge, negative or NaN, an id made
unknown, of the wrong kind or not a string, a typed value's type, dtype, shape, order
or buffer changed, an event's kind swapped. Often a valid change comes first, so that
a refusal must leave it unapplied too. A case is a function of its seed alone
(``random.Random(seed)``): a failing one is replayed by its seed.
"""

from __future__ import annotations

import base64
import copy
import gzip
import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["KINDS", "MUTATIONS", "Case", "make_case"]

Buffers = list[tuple[str, bytes]]

KINDS = (
    "ModelChanged",
    "ColumnDataChanged",
    "ColumnsStreamed",
    "ColumnsPatched",
    "RootAdded",
    "RootRemoved",
    "TitleChanged",
    "MessageSent",
)
TYPES = ("number", "map", "set", "bytes", "ndarray", "typed_array", "slice", "object", "ref", "array", "value")
TYPES += ("field", "expr", "event", "symbol", "nope")
DTYPES = ("float64", "float32", "int32", "int64", "uint8", "bool", "object", "int8", "<f8", "(3,)f8", "x")
NUMBERS: tuple[Any, ...] = (-1, 0, 1, 2**31, 2**63, 2**70, -(2**70), 1e308, -1e308, 0.5, -0.0, True, "3")
NUMBERS += tuple({"type": "number", "value": v} for v in ("nan", "inf", "-inf", "x", "1e400", [1]))
#: What ``mutate`` may do to an event (each step of a case is named by one).
MUTATIONS = ("drop", "extra", "retype", "number", "id", "type", "dtype", "shape", "order", "buffer", "kind", "value")
MUTATIONS += ("model",)
FIELD = {"type": "field", "field": "l"}
MODEL_NAMES = (
    "Div",
    "Slider",
    "Column",
    "ColumnDataSource",
    "TableColumn",
    "Scatter",
    "Range1d",
    "Nope",
    "Model",
    "Figure",
)


@dataclass
class Case:
    """One PATCH-DOC: its content and buffers, and what was done to make it."""

    seed: int
    content: Any
    buffers: Buffers = field(default_factory=list)
    steps: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """The case in a line: its seed, its steps, its content (bounded)."""
        sizes = [(buffer_id, len(payload)) for buffer_id, payload in self.buffers]
        return f"seed {self.seed}: {self.steps} {str(self.content)[:600]} buffers {sizes}"


class _Maker:
    def __init__(self, rng: random.Random, ids: dict[str, str]) -> None:
        self.rng = rng
        self.ids = ids
        self.buffers: Buffers = []
        self.fresh = 0

    def buffer(self, payload: bytes) -> str:
        """Add a binary buffer; its id."""
        self.fresh += 1
        buffer_id = str(self.fresh)
        self.buffers.append((buffer_id, payload))
        return buffer_id

    def ref(self, name: str) -> dict[str, str]:
        return {"id": self.ids[name]}

    def new_id(self) -> str:
        self.fresh += 1
        return f"fz-{self.rng.getrandbits(32):08x}-{self.fresh}"

    def array(self, values: Any, dtype: str = "float64") -> dict[str, Any]:
        """An ndarray as BokehJS sends it: a binary buffer, or now and then inline (gzip'd base64) or a list."""
        data = np.asarray(values, dtype=dtype)
        how = self.rng.random()
        if how < 0.6:
            array: Any = {"type": "bytes", "data": {"id": self.buffer(data.tobytes())}}
        elif how < 0.8:
            array = {"type": "bytes", "data": base64.b64encode(gzip.compress(data.tobytes())).decode()}
        else:
            array = data.tolist()
        return {"type": "ndarray", "array": array, "order": "little", "dtype": dtype, "shape": list(data.shape)}

    def scalar(self) -> Any:
        rng = self.rng
        return rng.choice(
            [None, True, rng.randint(-5, 100), rng.random() * 10, "", "é\u2028\x00", rng.choice(NUMBERS), "a"]
        )

    def value(self, depth: int = 0) -> Any:
        """A value of any encoding the dialect reads (valid or not, mostly well-formed)."""
        rng = self.rng
        if depth > 2 or rng.random() < 0.35:
            return self.scalar()
        kind = rng.choice(
            ["list", "dict", "map", "set", "bytes", "ndarray", "slice", "object", "ref", "typed", "number", "other"]
        )
        if kind == "list":
            return [self.value(depth + 1) for _ in range(rng.randint(0, 3))]
        if kind == "dict":
            return {rng.choice("abc"): self.value(depth + 1) for _ in range(rng.randint(0, 3))}
        if kind == "map":
            return {"type": "map", "entries": [[self.value(depth + 1), self.value(depth + 1)]]}
        if kind == "set":
            return {"type": "set", "entries": [self.scalar() for _ in range(rng.randint(0, 3))]}
        if kind == "bytes":
            return {"type": "bytes", "data": {"id": self.buffer(bytes(rng.randint(0, 9)))}}
        if kind == "ndarray":
            return self.array(np.arange(rng.randint(0, 4)), rng.choice(["float64", "int32", "uint8", "bool"]))
        if kind == "slice":
            return {"type": "slice", "start": rng.randint(0, 3), "stop": rng.randint(0, 6), "step": 1}
        if kind == "object":
            return self.definition(rng.choice(["Div", "Range1d", "TableColumn"]))
        if kind == "ref":
            return self.ref(rng.choice(list(self.ids)))
        if kind == "typed":
            return {"type": "typed_array", "array": [1, 2], "order": "little", "dtype": rng.choice(DTYPES)}
        if kind == "number":
            return rng.choice(NUMBERS)
        return rng.choice(
            [
                {"type": "value", "value": self.scalar()},
                {"type": "field", "field": "x"},
                {"type": "object", "name": "Value", "attributes": {}},  # no id: not a model
                {"type": "symbol", "name": "x"},
                {"type": "nope"},
                {"type": "event", "name": "button_click", "values": {"model": self.ref("button")}},
            ]
        )

    def definition(self, name: str) -> dict[str, Any]:
        """A model a client defines, complete (as BokehJS sends one it made)."""
        attributes: dict[str, Any] = {
            "Div": {"text": "new div"},
            "Range1d": {"start": 0, "end": 1},
            "TableColumn": {"field": "x"},
            "Slider": {"start": 0, "end": 1, "value": 0},
            "Column": {"children": []},
            "ColumnDataSource": {"data": {"type": "map", "entries": [["x", [1.0]]]}},
            "Scatter": {},
        }.get(name, {})
        return {"type": "object", "name": name, "id": self.new_id(), "attributes": attributes}

    def columns(self, rows: int, arrays: bool = True) -> dict[str, Any]:
        """Every column of the source, ``rows`` long, as a map (arrays as ndarrays, or lists)."""
        rng = self.rng
        x = self.array(np.linspace(0, 1, rows)) if arrays else [rng.random() for _ in range(rows)]
        n = self.array(np.arange(rows), "int32") if arrays else list(range(rows))
        img = [self.array(np.ones((2, 3))) for _ in range(rows)]
        entries = [
            ["x", x],
            ["n", n],
            ["s", [f"r{i}" for i in range(rows)]],
            ["l", [float(i) for i in range(rows)]],
            ["img", img],
        ]
        return {"type": "map", "entries": entries}

    def valid_event(self) -> dict[str, Any]:
        """One event of a random kind, as BokehJS would send it."""
        rng = self.rng
        ids = self.ids
        kind = rng.choice(KINDS + ("ModelChanged",) * 3)

        def changed(name: str, attr: str, new: Any) -> dict[str, Any]:
            return {"kind": "ModelChanged", "model": self.ref(name), "attr": attr, "new": new}

        source = self.ref("source")
        if kind == "ModelChanged":
            return rng.choice(
                [
                    lambda: changed("slider", "value", rng.randint(0, 100)),
                    lambda: changed("slider", "value", rng.random() * 100),
                    lambda: changed("text", "value", rng.choice(["hi", "", "é" * 5])),
                    lambda: changed("select", "value", rng.choice("abc")),
                    lambda: changed("multi", "value", rng.sample("abc", rng.randint(0, 3))),
                    lambda: changed("checks", "active", sorted(rng.sample(range(3), rng.randint(0, 3)))),
                    lambda: changed("range", "start", rng.random()),
                    lambda: changed(rng.choice(list(ids)), "tags", [self.value()]),
                    lambda: changed("source", "data", self.columns(rng.randint(0, 6), rng.random() < 0.5)),
                    lambda: changed("root", "children", [self.ref("slider"), self.definition("Div")]),
                    lambda: changed("renderer", "data_source", source),
                    lambda: changed("table", "columns", [self.ref("column_x"), self.definition("TableColumn")]),
                    lambda: changed("glyph", "x", rng.choice([dict(FIELD), {"type": "value", "value": 3}])),
                    lambda: changed("div", "text", rng.choice(["<b>x</b>", "plain"])),
                ]
            )()
        if kind == "ColumnDataChanged":
            event = {"kind": kind, "model": source, "attr": "data", "data": self.columns(rng.randint(0, 6))}
            if rng.random() < 0.5:
                event["cols"] = ["x", "n"]
            return event
        if kind == "ColumnsStreamed":
            rows = rng.randint(1, 4)
            data = self.columns(rows, arrays=rng.random() < 0.5)
            return {"kind": kind, "model": source, "attr": "data", "data": data, "rollover": rng.choice([None, 3, 50])}
        if kind == "ColumnsPatched":
            column, cells = rng.choice(
                [
                    ("x", [[rng.randint(0, 4), rng.random()]]),
                    ("n", [[rng.randint(0, 4), rng.randint(-9, 9)]]),
                    ("s", [[rng.randint(0, 4), "patched"]]),
                    ("l", [[{"type": "slice", "start": 1, "stop": 3, "step": 1}, [7.0, 8.0]]]),
                    ("x", [[{"type": "slice", "start": 0, "stop": 5, "step": 2}, [1.0, 2.0, 3.0]]]),
                    ("img", [[[rng.randint(0, 4), {"type": "slice", "start": 0, "stop": 2, "step": 1}, 1], [5.0, 6]]]),
                ]
            )
            patches = {"type": "map", "entries": [[column, cells]]}
            return {"kind": kind, "model": source, "attr": "data", "patches": patches}
        if kind == "RootAdded":
            return {"kind": kind, "model": self.definition(rng.choice(["Div", "Slider", "Column"]))}
        if kind == "RootRemoved":
            return {"kind": kind, "model": self.ref("spare")}
        if kind == "TitleChanged":
            return {"kind": kind, "title": rng.choice(["a title", "", "é\u2028"])}
        if rng.random() < 0.5:
            return {"kind": kind, "msg_type": "hello", "msg_data": self.value()}
        if rng.random() < 0.5:
            values = {"type": "map", "entries": [["model", self.ref("button")]]}
            click = {"type": "event", "name": "button_click", "values": values}
        else:
            values = {"type": "map", "entries": [["model", self.ref("menu")], ["item", rng.choice(["one", "two"])]]}
            click = {"type": "event", "name": "menu_item_click", "values": values}
        return {"kind": kind, "msg_type": "bokeh_event", "msg_data": click}

    # -- mutations --------------------------------------------------------------------

    def _nodes(self, root: Any) -> list[tuple[Any, Any]]:
        """(container, key) of every value below ``root``."""
        out: list[tuple[Any, Any]] = []
        stack = [root]
        while stack:
            node = stack.pop()
            items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
            for key, child in items:
                out.append((node, key))
                stack.append(child)
        return out

    def dicts(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        """``event`` and every dict below it."""
        return [event] + [c[k] for c, k in self._nodes(event) if isinstance(c[k], dict)]

    def mutate(self, event: dict[str, Any], steps: list[str]) -> dict[str, Any]:
        rng = self.rng
        op = rng.choice(MUTATIONS)
        nodes = self._nodes(event)
        dicts = self.dicts(event)
        if op == "drop":
            target = rng.choice(dicts)
            if target:
                key = rng.choice(sorted(target, key=str))
                del target[key]
                steps.append(f"drop {key}")
        elif op == "extra":
            target = rng.choice(dicts)
            key = rng.choice(["extra", "id", "type", "value", "attributes", "name", "kind"])
            target[key] = self.value()
            steps.append(f"extra {key}")
        elif op in ("retype", "value") and nodes:
            container, key = rng.choice(nodes)
            container[key] = self.value() if op == "value" else rng.choice([None, 5, "s", [], {}, [[]], True, -1.5])
            steps.append(f"{op} {key}")
        elif op == "number":
            numeric = [(c, k) for c, k in nodes if type(c[k]) in (int, float)]
            if numeric:
                container, key = rng.choice(numeric)
                container[key] = copy.deepcopy(rng.choice(NUMBERS))
                steps.append(f"number {key}={container[key]!r}")
        elif op == "id":
            holders = [c for c, k in nodes if k == "id" and isinstance(c, dict)] + [d for d in dicts if "id" in d]
            if holders:
                holder = rng.choice(holders)
                names = list(self.ids)
                holder["id"] = rng.choice(
                    [self.ids[rng.choice(names)], "nope", "p999999", 5, None, "", "x" * 300, [self.ids["slider"]]]
                )
                steps.append(f"id {holder['id']!r:.20}")
        elif op == "type":
            typed = [d for d in dicts if "type" in d]
            if typed:
                target = rng.choice(typed)
                target["type"] = rng.choice(TYPES)
                steps.append(f"type {target['type']}")
        elif op in ("dtype", "shape", "order"):
            arrays = [d for d in dicts if d.get("type") in ("ndarray", "typed_array")]
            if arrays:
                target = rng.choice(arrays)
                choices: Any = {
                    "dtype": DTYPES,
                    "shape": [[-1], [0], [2**40], [3, 4], [], "5", [1.5], [2, 2, 2], None],
                    "order": ["big", "?", None, 5],
                }[op]
                target[op] = copy.deepcopy(rng.choice(choices))
                steps.append(f"{op} {target[op]!r}")
        elif op == "buffer" and self.buffers:
            i = rng.randrange(len(self.buffers))
            buffer_id, payload = self.buffers[i]
            how = rng.choice(["drop", "short", "long", "rename", "extra"])
            if how == "drop":
                del self.buffers[i]
            elif how == "short":
                self.buffers[i] = (buffer_id, payload[: max(0, len(payload) - rng.randint(1, 5))])
            elif how == "long":
                self.buffers[i] = (buffer_id, payload + bytes(rng.randint(1, 9)))
            elif how == "rename":
                self.buffers[i] = (f"{buffer_id}x", payload)
            else:
                self.buffer(bytes(8))
            steps.append(f"buffer {how}")
        elif op == "model":
            defined = [d for d in dicts if d.get("type") == "object"]
            if defined:
                target = rng.choice(defined)
                target["name"] = rng.choice(MODEL_NAMES)
                steps.append(f"model {target['name']}")
        elif op == "kind":
            event["kind"] = rng.choice((*KINDS, "Nonsense", "ListSpliced"))
            steps.append(f"kind {event['kind']}")
        return event


def make_case(seed: int, ids: dict[str, str]) -> Case:
    """The case of ``seed`` against the models named in ``ids`` (name -> id)."""
    rng = random.Random(seed)
    maker = _Maker(rng, ids)
    steps: list[str] = []
    events = []
    if rng.random() < 0.4:  # a valid change first: a refusal must leave it unapplied
        new = rng.randint(0, 100)
        events.append({"kind": "ModelChanged", "model": maker.ref("slider"), "attr": "value", "new": new})
        steps.append("valid first")
    event = maker.valid_event()
    steps.append(f"{event['kind']}")
    for _ in range(rng.choice([0, 1, 1, 1, 2, 2, 3])):
        event = maker.mutate(event, steps)
    events.append(event)
    defined = [d["id"] for d in maker.dicts(event) if d.get("type") == "object" and "id" in d]
    if defined and rng.random() < 0.3:  # a model the patch defines, used again by a later event
        new = {"id": rng.choice(defined)}
        events.append(
            rng.choice(
                [
                    {"kind": "ModelChanged", "model": maker.ref("root"), "attr": "children", "new": [new]},
                    {"kind": "ModelChanged", "model": maker.ref("table"), "attr": "columns", "new": [new]},
                    {"kind": "RootRemoved", "model": new},
                    {"kind": "RootAdded", "model": new},
                    {"kind": "ModelChanged", "model": new, "attr": "tags", "new": [maker.value()]},
                ]
            )
        )
        steps.append("reused")
    elif rng.random() < 0.15:
        events.append(copy.deepcopy(event) if rng.random() < 0.5 else maker.valid_event())
        steps.append("second event")
    content: Any = {"events": events}
    if rng.random() < 0.04:  # now and then the content itself is wrong
        content = rng.choice([{"events": event}, {}, {"events": [5]}, {"events": events, "extra": maker.value()}, []])
        steps.append("content")
    return Case(seed, content, maker.buffers, steps)
