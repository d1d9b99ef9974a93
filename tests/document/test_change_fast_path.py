"""The inline paths of a ModelChanged (decode_patch's, apply_events' ``_check_changed``) against the general ones."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from docsync.document import Document, ModelChangedEvent, patching, wire
from docsync.document.models import Slider, TabPanel, Tabs, TextInput
from docsync.exceptions import DocsyncError, UnknownModelError
from docsync.serialization import Decoder

from .helpers import TstLeaf, TstNode, doc_json_bytes, recorded

VALUES: list[Any] = [
    0.25, -0.0, math.nan, math.inf, 3, True, False, None, "x", "", [1, 2], {"a": 1},
    np.float64(1.5), np.int64(2), np.bool_(True), 10**30, b"raw",
]  # fmt: skip


def _world() -> tuple[Document, TstNode, Slider]:
    doc = Document()
    node = TstNode(id="node", value=1.0, label="l", count=2)
    slider = Slider(id="slider", value=0.5, start=0, end=1)
    doc.add_root(node)
    doc.add_root(slider)
    return doc, node, slider


def _outcome(use_fast: bool, attr_of: str, value: Any, from_client: bool) -> tuple[Any, ...]:
    """Apply one ModelChanged by the inline or the general check; return what came of it."""
    doc, node, slider = _world()
    model = slider if attr_of.startswith("slider.") else node
    attr = attr_of.split(".", 1)[1]
    event = ModelChangedEvent(model, attr, None, value)
    checker = patching._Checker(doc, {}, from_client, True)
    before = doc_json_bytes(doc)
    try:
        if use_fast:
            step = patching._check_changed(checker, event, None)
        else:  # what _check_property did before: _Checker.prop, then the kind's check
            prop = checker.prop(model, attr)
            try:
                step = patching._check_model_changed(checker, model, prop, event, None)
            except ValueError as exc:
                raise patching._value_error(exc) from None
    except DocsyncError as exc:
        assert doc_json_bytes(doc) == before
        return ("refused", type(exc), str(exc), sorted(checker.touched))
    step()
    stored = model._values.get(attr)
    return ("stored", type(stored), repr(stored), sorted(checker.touched), sorted(checker.values))


@pytest.mark.parametrize("from_client", [False, True])
@pytest.mark.parametrize(
    "attr_of", ["node.value", "node.label", "node.count", "node.blob", "node.maybe", "node.refs", "slider.value",
                "slider.start", "node.table", "node.colour"]
)  # fmt: skip
@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_check_changed_matches_the_general_check(attr_of: str, value: Any, from_client: bool) -> None:
    assert _outcome(True, attr_of, value, from_client) == _outcome(False, attr_of, value, from_client)


def test_refused_patch_leaves_everything_unchanged() -> None:
    doc, node, slider = _world()
    before = doc_json_bytes(doc)
    good = ModelChangedEvent(node, "value", None, 2.0)
    for bad, error in [
        (ModelChangedEvent(node, "count", None, 1.5), "TstNode.count expected an int, got 1.5"),
        (ModelChangedEvent(node, "value", None, "abc"), "TstNode.value expected a float, got 'abc'"),
        (ModelChangedEvent(node, "label", None, True), "TstNode.label expected a string, got True"),
        (ModelChangedEvent(node, "count", None, True), "TstNode.count expected an int, got True"),
        (ModelChangedEvent(slider, "value", None, "abc"), "Slider.value expected"),
        (ModelChangedEvent(node, "nothing", None, 1.0), "TstNode has no property 'nothing'"),
        (ModelChangedEvent(TstLeaf(id="x"), "text", None, "t"), "unknown model id 'x'"),
    ]:
        with recorded(doc) as events, pytest.raises(DocsyncError, match=error.replace(".", r"\.")):
            doc.apply_patch([good, bad], from_client=False)
        assert events == []
        assert doc_json_bytes(doc) == before
    with pytest.raises(DocsyncError, match="not writable"):
        doc.apply_patch([good, ModelChangedEvent(node, "count", None, 3)], from_client=True)
    assert doc_json_bytes(doc) == before


def test_refining_model_checked_against_the_patch_so_far() -> None:
    doc = Document()
    tabs = Tabs(id="tabs", tabs=[TabPanel(child=TextInput(), title=str(i)) for i in range(3)], active=0)
    doc.add_root(tabs)
    doc.apply_patch([ModelChangedEvent(tabs, "active", None, 2)])
    assert tabs.active == 2
    before = doc_json_bytes(doc)
    with pytest.raises(DocsyncError):
        doc.apply_patch([ModelChangedEvent(tabs, "tabs", None, []), ModelChangedEvent(tabs, "active", None, 2)],
                        from_client=True)  # fmt: skip
    assert doc_json_bytes(doc) == before


def _general(content: Any, known: dict[str, Any], skip_unknown: bool) -> Any:
    """decode_patch's events as ``_decode_event`` alone reads them."""

    def resolve(model_id: str) -> Any:
        model = known.get(model_id)
        if model is None:
            raise UnknownModelError(f"unknown model id {model_id!r:.60}")
        return model

    decoder = Decoder({}, resolve_ref=resolve)
    events, indices = [], []
    for index, raw in enumerate(content["events"]):
        try:
            events.append(wire._decode_event(raw, decoder, resolve, "setter"))
        except UnknownModelError:
            if not skip_unknown:
                raise
            continue
        indices.append(index)
    return events, indices


RAWS: list[Any] = [
    {"kind": "ModelChanged", "model": {"id": "node"}, "attr": "value", "new": 1.5},
    {"kind": "ModelChanged", "model": {"id": "node"}, "attr": "value"},
    {"kind": "ModelChanged", "model": {"id": "node"}, "attr": "blob", "new": [1, {"id": "node"}]},
    {"kind": "ModelChanged", "model": {"id": "node"}, "attr": "blob", "new": [1, {"id": "gone"}]},
    {"kind": "ModelChanged", "model": {"id": "gone"}, "attr": "value", "new": 1.5},
    {"kind": "ModelChanged", "model": {"id": 3}, "attr": "value", "new": 1.5},
    {"kind": "ModelChanged", "model": "node", "attr": "value", "new": 1.5},
    {"kind": "ModelChanged", "model": {"id": "node"}, "attr": 7, "new": 1.5},
    {"kind": "ModelChanged", "model": {"id": "node"}, "attr": "blob", "new": {"type": "nonsense"}},
    {
        "kind": "ListSpliced",
        "model": {"id": "node"},
        "attr": "refs",
        "index": 0,
        "delete": 0,
        "items": [{"id": "node"}],
    },
    {
        "kind": "ListSpliced",
        "model": {"id": "node"},
        "attr": "refs",
        "index": 0,
        "delete": 0,
        "items": [{"id": "gone"}],
    },
    {"kind": "ListSpliced", "model": {"id": "node"}, "attr": "refs", "index": "0", "delete": 0, "items": []},
    # Plain values read without a Decoder (``plain_copy``), and what is just past it.
    {"kind": "ListSpliced", "model": {"id": "node"}, "attr": "refs", "index": 0, "delete": 1, "items": [1, None, True]},
    {"kind": "ListSpliced", "model": {"id": "node"}, "attr": "refs", "index": True, "delete": 0, "items": [1]},
    {"kind": "ListSpliced", "model": {"id": "node"}, "attr": "refs", "index": 0, "delete": 0.0, "items": ["a"]},
    {"kind": "ListSpliced", "model": {"id": "node"}, "attr": "refs", "index": 0, "delete": 0, "items": {"a": 1}},
    {"kind": "ListSpliced", "model": {"id": "node"}, "attr": "refs", "index": 0, "delete": 0, "items": [1] * 40},
    {"kind": "ListSpliced", "model": {"id": "node"}, "attr": "refs", "index": 0, "delete": 0, "items": [[1]]},
    {"kind": "ModelChanged", "model": {"id": "node"}, "attr": "blob", "new": [1.5, "x", None, False]},
    {"kind": "ModelChanged", "model": {"id": "node"}, "attr": "blob", "new": {"a": 1, "b": None}},
    {"kind": "ModelChanged", "model": {"id": "node"}, "attr": "blob", "new": {"id": "node"}},
    {"kind": "ModelChanged", "model": {"id": "node"}, "attr": "blob", "new": {"id": "gone"}},
    {"kind": "ModelChanged", "model": {"id": "node"}, "attr": "blob", "new": {"id": "node", "b": 1}},
    {"kind": "ModelChanged", "model": {"id": "node"}, "attr": "blob", "new": {"type": "number", "value": "nan"}},
    {"kind": "ModelChanged", "model": {"id": "node"}, "attr": "blob", "new": []},
    {"kind": "DictItemsSet", "model": {"id": "node"}, "attr": "table", "items": {"k": 1, "j": "v"}},
    {"kind": "DictItemsSet", "model": {"id": "node"}, "attr": "table", "items": {}},
    {"kind": "DictItemsSet", "model": {"id": "node"}, "attr": "table", "items": {"id": "node"}},
    {"kind": "DictItemsSet", "model": {"id": "node"}, "attr": "table", "items": [1, 2]},
    {"kind": "DictItemsSet", "model": {"id": "node"}, "attr": "table", "items": {str(i): i for i in range(40)}},
    {"kind": "ListSpliced", "model": {"id": "gone"}, "attr": "refs", "index": 0, "delete": 0, "items": []},
    {"kind": "DictItemsSet", "model": {"id": "node"}, "attr": "table", "items": {"k": [1, 2]}},
    {"kind": "DictItemsSet", "model": {"id": "node"}, "attr": "table", "items": [1]},
    {"kind": "DictItemsDeleted", "model": {"id": "node"}, "attr": "table", "keys": ["k", [1, "a"]]},
    {"kind": "DictItemsDeleted", "model": {"id": "node"}, "attr": "table", "keys": "k"},
    {"kind": "ColumnDataChanged", "model": {"id": "node"}, "attr": "data", "columns": {"x": [1.0]}},
    {"kind": "ColumnDataChanged", "model": {"id": "node"}, "attr": "data", "columns": [1]},
    {"kind": "ColumnsStreamed", "model": {"id": "node"}, "attr": "data", "data": {"x": [1.0]}, "rollover": 3},
    {"kind": "ColumnsStreamed", "model": {"id": "node"}, "attr": "data", "data": {"x": [1.0]}, "rollover": "3"},
    {"kind": "ColumnsPatched", "model": {"id": "node"}, "attr": "data", "patches": {"x": [[0, 2.0]]}},
    {"kind": "ColumnsPatched", "model": {"id": "node"}, "attr": "data", "patches": {"x": [[0]]}},
    {"kind": "ColumnsPatched", "model": {"id": "node"}, "attr": 3, "patches": {"x": [[0, 2.0]]}},
    {"kind": "RootAdded", "model": {"id": "node"}},
    {"kind": "MessageSent", "msg_type": "poke", "msg_data": {"a": 1}, "model": {"id": "node"}},
    {"model": {"id": "node"}, "attr": "value", "new": 1.5},
    {"kind": "TitleChanged", "title": "t"},
    {"kind": ["ModelChanged"]},
    ["ModelChanged"],
]


@pytest.mark.parametrize("skip_unknown", [False, True])
@pytest.mark.parametrize("raw", RAWS, ids=repr)
def test_decode_patch_matches_the_general_reader(raw: Any, skip_unknown: bool) -> None:
    _, node, _ = _world()
    known = {"node": node}
    content = {"events": [RAWS[0], raw, RAWS[0]]}

    def outcome(read: Any) -> Any:
        try:
            events, indices = read()
        except Exception as exc:
            return (type(exc), str(exc))
        return ([(type(e), getattr(e, "model", None), vars_of(e)) for e in events], indices)

    def fast() -> Any:
        patch = wire.decode_patch(content, known, {}, setter="setter", skip_unknown=skip_unknown)
        assert patch.skipped == 3 - len(patch.events)
        return patch.events, patch.indices

    assert outcome(fast) == outcome(lambda: _general(content, known, skip_unknown))


def vars_of(event: Any) -> Any:
    return [(name, repr(getattr(event, name))) for name in event.__slots__ if name != "model"]


def test_refining_model_alone_and_after_other_changes_of_the_patch() -> None:
    # _validate_after's shortcut (the patch changed nothing else of the model) against its general path.
    doc = Document()
    slider = Slider(id="s", start=0, end=10, step=1, value=2)
    doc.add_root(slider)
    doc.apply_patch([ModelChangedEvent(slider, "value", None, 3.0)], from_client=True)
    assert slider.value == 3 and type(slider.value) is int  # judged against its own int step
    doc.apply_patch(
        [ModelChangedEvent(slider, "step", None, 0.5), ModelChangedEvent(slider, "value", None, 4.0)],
        from_client=False,
    )
    assert slider.value == 4.0 and type(slider.value) is float  # judged against the patch's step
    before, values = doc_json_bytes(doc), dict(slider._values)
    with pytest.raises(DocsyncError):
        doc.apply_patch([ModelChangedEvent(slider, "value", None, 11.0)], from_client=True)
    assert doc_json_bytes(doc) == before and slider._values == values
