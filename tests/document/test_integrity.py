"""What a client's change may make of a document: references, cycles, client structure.

Every refusal leaves the document byte-identical (its JSON with arrays inline) and
reports no event; the rules read property types, so a test model with writable
model-holding properties of every shape stands for the models colleagues add.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from docsync.document import Document, Model
from docsync.document.models import Column, ColumnDataSource, Div, Selection, Slider
from docsync.document.properties import Any_, ColumnData, Dict, Instance, List, Nullable, String, Tuple
from docsync.exceptions import NotWritableError, PatchError

from .helpers import doc_json_bytes, recorded


class Holder(Model):
    """A model whose every model-holding property a client may write."""

    __client_writable__ = frozenset({"child", "children", "table", "blob", "pair", "data"})
    child = Nullable(Instance(Model))
    children = List(Instance(Model))
    table = Dict(String(), Any_())
    blob = Any_()
    pair = Tuple(String(), Nullable(Instance(Model)))
    data = ColumnData()


class World:
    """A document: root -> (a -> b), slider, source."""

    def __init__(self) -> None:
        self.doc = Document(title="w")
        self.b = Holder(id="b")
        self.a = Holder(id="a", children=[self.b])
        self.slider = Slider(id="slider")
        self.source = ColumnDataSource(id="src", data={"x": np.arange(3.0), "s": ["p", "q", "r"]})
        self.root = Column(self.a, self.slider, self.source, id="root")
        self.doc.add_root(self.root)

    def patch(self, events: list[dict[str, Any]], references: list[dict[str, Any]] | None = None, **kw: Any) -> None:
        content = {"events": events, "references": references or []}
        self.doc.apply_patch(self.doc.decode_patch(content), from_client=True, **kw)

    def refused(self, error: type[Exception], match: str, events: list[dict[str, Any]], **kw: Any) -> None:
        before = doc_json_bytes(self.doc)
        values = {m.id: dict(m._values) for m in self.doc.models.values()}
        with recorded(self.doc) as events_seen, pytest.raises(error, match=match):
            self.patch(events, **kw)
        assert events_seen == []
        assert doc_json_bytes(self.doc) == before
        # Checking stored nothing either (no default read into a model).
        assert {m.id: dict(m._values) for m in self.doc.models.values()} == values


def div(model_id: str) -> dict[str, Any]:
    return {"type": "object", "name": "Div", "id": model_id, "attributes": {"text": model_id}}


def ref(model_id: str) -> dict[str, str]:
    return {"id": model_id}


def changed(model: str, attr: str, new: Any) -> dict[str, Any]:
    return {"kind": "ModelChanged", "model": ref(model), "attr": attr, "new": new}


# -- references: every value position ---------------------------------------------

COLUMN_EVENTS: dict[str, dict[str, Any]] = {
    "ColumnDataChanged": {
        "kind": "ColumnDataChanged",
        "model": ref("src"),
        "attr": "data",
        "columns": {"s": [ref("d1")]},
    },
    "ColumnsStreamed": {
        "kind": "ColumnsStreamed",
        "model": ref("src"),
        "attr": "data",
        "data": {"x": [1.0], "s": [ref("d1")]},
        "rollover": None,
    },
    "ColumnsPatched": {
        "kind": "ColumnsPatched",
        "model": ref("src"),
        "attr": "data",
        "patches": {"s": [[0, ref("d1")]]},
    },
    "ColumnsPatched slice": {
        "kind": "ColumnsPatched",
        "model": ref("src"),
        "attr": "data",
        "patches": {"s": [[{"type": "slice", "start": 0, "stop": 1, "step": 1}, [[ref("d1")]]]]},
    },
    "whole data": changed("src", "data", {"x": [1.0], "s": [{"nested": [ref("d1")]}]}),
    "existing model in a column": {
        "kind": "ColumnDataChanged",
        "model": ref("src"),
        "attr": "data",
        "columns": {"s": [ref("slider"), "q", "r"]},
    },
}


@pytest.mark.parametrize("case", sorted(COLUMN_EVENTS))
def test_a_column_never_holds_a_model(case: str) -> None:
    world = World()
    event: dict[str, Any] = COLUMN_EVENTS[case]
    references = [div("d1")] if "d1" in str(event) else []
    world.refused(PatchError, r"ColumnDataSource\.data|holds models", [event], references=references)


def _cells(column: str, value: Any) -> dict[str, Any]:
    return {"kind": "ColumnsPatched", "model": ref("src"), "attr": "data", "patches": {column: [[0, value]]}}


def _rows(s_value: Any) -> dict[str, Any]:
    return {"kind": "ColumnsStreamed", "model": ref("src"), "attr": "data", "data": {"x": [1.0], "s": [s_value]}}


#: A model added to a column by a later event of a patch, after the column was made by an earlier one.
COLUMN_CHAINS: dict[str, list[dict[str, Any]]] = {
    "patched, then patched with a model": [_cells("s", "a"), _cells("s", ref("d1"))],
    "patched, then streamed a model": [_cells("s", "a"), _rows(ref("d1"))],
    "streamed, then patched with a model": [_rows("a"), _cells("s", ref("d1"))],
    "streamed a model, then streamed": [_rows(ref("d1")), _rows("b"), _cells("s", "c")],
    "replaced, then patched": [
        {"kind": "ColumnDataChanged", "model": ref("src"), "attr": "data", "columns": {"s": [[ref("d1")], "q", "r"]}},
        _cells("s", "a"),
    ],
}


@pytest.mark.parametrize("case", sorted(COLUMN_CHAINS))
def test_a_column_made_by_several_events_never_holds_a_model(case: str) -> None:
    world = World()
    before = {name: list(column) for name, column in world.doc.models["src"].data.items()}
    world.refused(PatchError, r"ColumnDataSource\.data|holds models", COLUMN_CHAINS[case], references=[div("d1")])
    assert {name: list(column) for name, column in world.doc.models["src"].data.items()} == before


MODEL_VALUES = {
    "Instance": ("child", ref("d1")),
    "List item": ("children", [ref("d1")]),
    "Dict value": ("table", {"k": [ref("d1")]}),
    "Any, nested": ("blob", {"type": "map", "entries": [[1, {"deep": [ref("d1")]}]]}),
    "Tuple item": ("pair", ["p", ref("d1")]),
}


@pytest.mark.parametrize("case", sorted(MODEL_VALUES))
def test_a_model_in_a_model_holding_property_is_attached(case: str) -> None:
    world = World()
    attr, value = MODEL_VALUES[case]
    world.patch([changed("b", attr, value)], references=[div("d1")])
    assert "d1" in world.doc.models
    # Every reference of the document's JSON names a model it defines.
    data, buffers = world.doc.to_json()
    copy = Document.from_json(data, dict(buffers))
    assert set(copy.models) == set(world.doc.models)


def test_splices_and_dict_items_attach_their_models_too() -> None:
    world = World()
    world.patch(
        [
            {
                "kind": "ListSpliced",
                "model": ref("b"),
                "attr": "children",
                "index": 0,
                "delete": 0,
                "items": [ref("d1")],
            },
            {"kind": "DictItemsSet", "model": ref("b"), "attr": "table", "items": {"k": ref("d2")}},
        ],
        references=[div("d1"), div("d2")],
    )
    assert {"d1", "d2"} <= set(world.doc.models)


def test_with_client_structure_off_no_model_may_be_created() -> None:
    world = World()
    world.refused(
        NotWritableError,
        "creating models is not allowed from the client",
        [changed("b", "child", ref("d1"))],
        references=[div("d1")],
        allow_structure=False,
    )
    # Existing models may still be referenced where a property is writable.
    world.patch([changed("b", "child", ref("slider"))], allow_structure=False)
    assert world.b.child is world.slider


# -- cycles -------------------------------------------------------------------------

CYCLES: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {
    "a new Column that contains itself": (
        [{"kind": "RootAdded", "model": ref("c1")}],
        [{"type": "object", "name": "Column", "id": "c1", "attributes": {"children": [ref("c1")]}}],
    ),
    "two new Columns that contain each other": (
        [{"kind": "RootAdded", "model": ref("c1")}],
        [
            {"type": "object", "name": "Column", "id": "c1", "attributes": {"children": [ref("c2")]}},
            {"type": "object", "name": "Column", "id": "c2", "attributes": {"children": [ref("slider"), ref("c1")]}},
        ],
    ),
    "a child made its parent's parent": ([changed("b", "child", ref("a"))], []),
    "a splice of an ancestor": (
        [
            {
                "kind": "ListSpliced",
                "model": ref("b"),
                "attr": "children",
                "index": 0,
                "delete": 0,
                "items": [ref("root")],
            }
        ],
        [],
    ),
    "an ancestor in a dict": (
        [{"kind": "DictItemsSet", "model": ref("b"), "attr": "table", "items": {"k": ref("a")}}],
        [],
    ),
    "a model that holds itself": ([changed("a", "blob", [ref("a")])], []),
    "a new model between an ancestor and itself": (
        [changed("b", "child", ref("n1"))],
        [{"type": "object", "name": "Holder", "id": "n1", "attributes": {"children": [ref("a")]}}],
    ),
}


@pytest.mark.parametrize("case", sorted(CYCLES))
def test_a_change_that_makes_a_cycle_is_refused(case: str) -> None:
    world = World()
    events, references = CYCLES[case]
    world.refused(PatchError, "cycle: .* would be among its own descendants", events, references=references)


def test_references_that_make_no_cycle_are_accepted() -> None:
    world = World()
    # A shared child (two parents) is no cycle; nor is moving a model under a sibling.
    world.patch([changed("b", "children", [ref("slider"), ref("src")]), changed("a", "blob", ref("slider"))])
    assert world.b.children == [world.slider, world.source]


def test_a_later_event_can_undo_a_cycle_an_earlier_one_made() -> None:
    world = World()
    world.patch([changed("b", "child", ref("a")), changed("b", "child", None)])
    assert world.b.child is None


def test_deep_documents_are_checked_without_recursion() -> None:
    world = World()
    depth = 5000  # deeper than Python's stack
    references = [
        {"type": "object", "name": "Holder", "id": f"n{i}", "attributes": {"child": ref(f"n{i + 1}")}}
        for i in range(depth)
    ]
    references.append({"type": "object", "name": "Holder", "id": f"n{depth}", "attributes": {"child": ref("n0")}})
    world.refused(PatchError, "cycle", [changed("b", "child", ref("n0"))], references=references)


def test_cycles_a_server_builds_are_its_own_business() -> None:
    doc = Document()
    a = Holder()
    a.child = a
    doc.add_root(a)
    assert list(doc.models) == [a.id]


# -- nothing read while checking ----------------------------------------------------


def test_a_refused_splice_leaves_the_json_byte_identical() -> None:
    doc = Document()
    source = ColumnDataSource(id="src", selected=Selection(id="sel"))
    doc.add_root(source)
    before = doc_json_bytes(doc)
    content = {
        "events": [
            {"kind": "ListSpliced", "model": ref("sel"), "attr": "indices", "index": 4, "delete": 0, "items": [1]}
        ]
    }
    with pytest.raises(PatchError, match="out of range"):
        doc.apply_patch(doc.decode_patch(content), from_client=True)
    assert doc_json_bytes(doc) == before
    assert "indices" not in doc.to_json()[0]["models"][1]["attributes"]


def test_reading_an_empty_default_leaves_the_json_as_it_was() -> None:
    doc = Document()
    source = ColumnDataSource(selected=Selection())
    doc.add_root(source)
    before = doc_json_bytes(doc)
    assert source.selected.indices == []  # stores the default, so that edits in place stick
    assert doc_json_bytes(doc) == before
    source.selected.indices.append(3)
    assert doc_json_bytes(doc) != before


# -- PUSH-DOC: a whole document, under the same rules ---------------------------------


def pushed(*models: dict[str, Any], roots: list[str] | None = None, title: str = "pushed") -> dict[str, Any]:
    return {"title": title, "roots": [ref(r) for r in (roots or [models[0]["id"]])], "models": list(models)}


PUSH_REFUSALS: dict[str, tuple[dict[str, Any], dict[str, Any], type[Exception], str]] = {
    "structure off": (pushed(div("d1")), {"allow_structure": False}, NotWritableError, "not allowed from the client"),
    "too many models": (
        pushed(div("d1"), div("d2"), div("d3")),
        {"max_models": 2},
        PatchError,
        "too many models: 3 > 2",
    ),
    "a cycle": (
        pushed({"type": "object", "name": "Column", "id": "c1", "attributes": {"children": [ref("c1")]}}),
        {},
        PatchError,
        "cycle",
    ),
    "a model in a column": (
        pushed(
            {"type": "object", "name": "ColumnDataSource", "id": "s1", "attributes": {"data": {"x": [ref("d1")]}}},
            div("d1"),
        ),
        {},
        Exception,
        r"ColumnDataSource\.data expected",
    ),
    "an unknown id": (
        pushed({"type": "object", "name": "Column", "id": "c1", "attributes": {"children": [ref("slider")]}}),
        {},
        Exception,
        "unknown model id 'slider'",
    ),
    "too many array elements": (
        pushed(
            {
                "type": "object",
                "name": "ColumnDataSource",
                "id": "s1",
                "attributes": {
                    "data": {
                        "x": {
                            "type": "ndarray",
                            "base64": "AAAAAAAAAAAAAAAAAAAAAA==",
                            "dtype": "float64",
                            "shape": [2],
                            "order": "little",
                        }
                    }
                },
            }
        ),
        {"max_array_elements": 1},
        Exception,
        "ndarray too large",
    ),
}


@pytest.mark.parametrize("case", sorted(PUSH_REFUSALS))
def test_a_pushed_document_obeys_every_rule_of_patches(case: str) -> None:
    world = World()
    data, options, error, match = PUSH_REFUSALS[case]
    before = doc_json_bytes(world.doc)
    with recorded(world.doc) as events, pytest.raises(error, match=match):
        world.doc.replace_with_json(data, from_client=True, **options)
    assert events == [] and doc_json_bytes(world.doc) == before


def test_a_valid_push_replaces_the_document_and_keeps_callbacks() -> None:
    world = World()
    calls: list[str] = []
    world.doc.on_message("m", lambda event: calls.append("m"))
    data = pushed(
        {"type": "object", "name": "Column", "id": "root", "attributes": {"children": [ref("d1")]}}, div("d1")
    )
    world.doc.replace_with_json(data, from_client=True, allow_structure=True, max_models=2)
    assert world.doc.title == "pushed" and set(world.doc.models) == {"root", "d1"}
    assert isinstance(world.doc.get_model_by_id("d1"), Div)
    assert world.doc.accepts_message("m")
