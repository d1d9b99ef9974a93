from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from docsync.document import (
    ColumnsPatchedEvent,
    ColumnsStreamedEvent,
    DictItemsDeletedEvent,
    DictItemsSetEvent,
    Document,
    DocumentEvent,
    ListSplicedEvent,
    MessageSentEvent,
    Model,
    ModelChangedEvent,
    RootAddedEvent,
    RootRemovedEvent,
    TitleChangedEvent,
)
from docsync.document.models import Button, Column, ColumnDataSource, Select, Slider, TextInput
from docsync.document.properties import Float, Int, List
from docsync.exceptions import NotWritableError, PatchError, UnknownModelError, UnknownPropertyError, ValidationError

from .helpers import TstLeaf, TstNode, doc_json_bytes, recorded


class World:
    """A document with a few models, and everything that may notice a change."""

    def __init__(self) -> None:
        self.doc = Document(title="t")
        self.slider = Slider(id="slider", value=0.5)
        self.select = Select(id="select", options=["a", "b"])
        self.source = ColumnDataSource(id="source", data={"x": np.arange(3.0), "y": ["p", "q", "r"]})
        self.node = TstNode(id="node", table={"k": 1})
        self.button = Button(id="button")
        self.layout = Column(self.slider, self.select, self.source, self.node, self.button, id="layout")
        self.doc.add_root(self.layout)
        self.model_calls: list[tuple[str, Any, Any]] = []
        for model, attr in [(self.slider, "value"), (self.select, "options"), (self.source, "data")]:
            model.on_change(attr, lambda a, o, n: self.model_calls.append((a, o, n)))
        self.clicks: list[Any] = []
        self.button.on_click(self.clicks.append)

    def good_events(self) -> list[DocumentEvent]:
        return [
            ModelChangedEvent(self.slider, "value", None, 0.75),
            ListSplicedEvent(self.select, "options", 2, 0, ["c"]),
            ColumnsStreamedEvent(self.source, "data", {"x": [3.0], "y": ["s"]}),
            MessageSentEvent("button_click", None, self.button),
        ]


def assert_refused_atomically(
    world: World, bad: DocumentEvent, error: type[PatchError], message: str, **options: Any
) -> None:
    before = doc_json_bytes(world.doc)
    with recorded(world.doc) as events:
        with pytest.raises(error, match=message) as info:
            world.doc.apply_patch([*world.good_events(), bad], **options)
        assert type(info.value) is error
        assert events == []
    assert doc_json_bytes(world.doc) == before
    assert world.model_calls == [] and world.clicks == []


BAD_EVENTS: list[tuple[str, Any, type[PatchError], str]] = [
    (
        "unknown model",
        lambda w: ModelChangedEvent(TstLeaf(id="stranger"), "text", None, "x"),
        UnknownModelError,
        r"^unknown model id 'stranger'$",
    ),
    (
        "impostor with a known id",
        lambda w: ModelChangedEvent(Slider(id="slider"), "value", None, 0.1),
        UnknownModelError,
        r"^unknown model id 'slider'$",
    ),
    (
        "unknown property",
        lambda w: ModelChangedEvent(w.slider, "colour", None, "red"),
        UnknownPropertyError,
        r"^Slider has no property 'colour'$",
    ),
    (
        "bad value",
        lambda w: ModelChangedEvent(w.slider, "value", None, "abc"),
        PatchError,
        r"^Slider\.value expected an int or a float, got 'abc'$",
    ),
    (
        "bad splice index",
        lambda w: ListSplicedEvent(w.select, "options", 9, 0, ["z"]),
        PatchError,
        r"^splice at 9 deleting 0 out of range of Select\.options$",
    ),
    (
        "splice deleting too much",
        lambda w: ListSplicedEvent(w.select, "options", 1, 5, []),
        PatchError,
        r"^splice at 1 deleting 5 out of range of Select\.options$",
    ),
    (
        "negative splice index",
        lambda w: ListSplicedEvent(w.select, "options", -1, 0, []),
        PatchError,
        r"out of range of Select\.options",
    ),
    (
        "bad splice item",
        lambda w: ListSplicedEvent(w.select, "options", 0, 0, [5]),
        PatchError,
        r"^Select\.options expected a list of a string, got \[5\]$",
    ),
    (
        "splice of a non-list",
        lambda w: ListSplicedEvent(w.slider, "value", 0, 0, [5]),
        PatchError,
        r"^Slider\.value is not a list$",
    ),
    (
        "stream with a missing column",
        lambda w: ColumnsStreamedEvent(w.source, "data", {"x": [1.0]}),
        PatchError,
        r"stream must supply every column: missing \['y'\]",
    ),
    (
        "stream into a non-column property",
        lambda w: ColumnsStreamedEvent(w.node, "table", {"x": [1.0]}),
        PatchError,
        r"^TstNode\.table is not column data$",
    ),
    (
        "patch out of range",
        lambda w: ColumnsPatchedEvent(w.source, "data", {"x": [(4, 1.0)]}),
        PatchError,
        r"patch index 4 out of range for column 'x'",
    ),
    (
        "dict key deleted twice",
        lambda w: DictItemsDeletedEvent(w.node, "table", ["missing"]),
        PatchError,
        r"^TstNode\.table has no key 'missing'$",
    ),
    (
        "dict item of the wrong type",
        lambda w: DictItemsSetEvent(w.node, "table", {1: 1}),
        PatchError,
        r"^TstNode\.table expected a dict of a string to any value, got \{1: 1\}$",
    ),
    (
        "bad column",
        lambda w: DictItemsSetEvent(w.source, "data", {"z": np.array([object()])}),
        PatchError,
        r"^ColumnDataSource\.data expected a dict of column name to ndarray or list, got \{'z': array\(",
    ),
    (
        "dict items on a list",
        lambda w: DictItemsSetEvent(w.select, "options", {"a": 1}),
        PatchError,
        r"^Select\.options is not a dict$",
    ),
    (
        "root added twice",
        lambda w: RootAddedEvent(w.layout),
        PatchError,
        r"is already a root$",
    ),
    (
        "removing a non-root",
        lambda w: RootRemovedEvent(w.slider),
        PatchError,
        r"is not a root$",
    ),
]


@pytest.mark.parametrize(("name", "make", "error", "message"), BAD_EVENTS, ids=[b[0] for b in BAD_EVENTS])
def test_one_bad_event_refuses_the_whole_batch(name: str, make: Any, error: type[PatchError], message: str) -> None:
    world = World()
    assert_refused_atomically(world, make(world), error, message)


CLIENT_REFUSALS: list[tuple[str, Any, type[PatchError], str]] = [
    (
        "property not declared writable",
        lambda w: ModelChangedEvent(w.slider, "start", None, 0.2),
        NotWritableError,
        r"^Slider\.start is not writable from the client$",
    ),
    (
        "list not declared writable",
        lambda w: ListSplicedEvent(w.select, "options", 0, 0, ["z"]),
        NotWritableError,
        r"^Select\.options is not writable from the client$",
    ),
    (
        "name is never client writable by default",
        lambda w: ModelChangedEvent(w.slider, "name", None, "x"),
        NotWritableError,
        r"^Slider\.name is not writable",
    ),
    (
        "event the model does not accept",
        lambda w: MessageSentEvent("double_click", None, w.button),
        NotWritableError,
        r"^Button does not accept 'double_click' events$",
    ),
    (
        "message without a handler",
        lambda w: MessageSentEvent("nobody_listens", None),
        PatchError,
        r"^no handler for messages of type 'nobody_listens'$",
    ),
]


def client_good_events(world: World) -> list[DocumentEvent]:
    return [
        ModelChangedEvent(world.slider, "value", None, 0.75),
        MessageSentEvent("button_click", None, world.button),
    ]


@pytest.mark.parametrize(("name", "make", "error", "message"), CLIENT_REFUSALS, ids=[c[0] for c in CLIENT_REFUSALS])
def test_client_may_only_change_what_is_declared(name: str, make: Any, error: type[PatchError], message: str) -> None:
    world = World()
    before = doc_json_bytes(world.doc)
    with recorded(world.doc) as events, pytest.raises(error, match=message):
        world.doc.apply_patch([*client_good_events(world), make(world)], setter="c1", from_client=True)
    assert events == [] and world.clicks == []
    assert doc_json_bytes(world.doc) == before
    # The same event is fine from the server.
    world.doc.apply_patch([make(world)] if name != "message without a handler" else [])


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("title", lambda w: TitleChangedEvent("new")),
        ("root added", lambda w: RootAddedEvent(TextInput())),
        ("root removed", lambda w: RootRemovedEvent(w.layout)),
    ],
)
def test_structure_changes_from_the_client_can_be_refused(name: str, make: Any) -> None:
    world = World()
    before = doc_json_bytes(world.doc)
    with pytest.raises(NotWritableError, match=r"is not allowed from the client$"):
        world.doc.apply_patch([*client_good_events(world), make(world)], from_client=True, allow_structure=False)
    assert doc_json_bytes(world.doc) == before


def test_client_writable_properties_are_applied_with_the_setter() -> None:
    world = World()
    with recorded(world.doc) as events:
        world.doc.apply_patch(client_good_events(world), setter="c1", from_client=True)
    assert world.slider.value == 0.75
    assert len(world.clicks) == 1
    assert [e.setter for e in events] == ["c1"]  # the click is not a document change
    assert world.model_calls == [("value", 0.5, 0.75)]


def test_models_created_by_the_client_are_writable() -> None:
    world = World()
    content = {
        "events": [
            {"kind": "RootAdded", "model": {"id": "mine"}},
            {"kind": "ModelChanged", "model": {"id": "mine"}, "attr": "count", "new": 3},
        ],
        "references": [{"type": "object", "name": "TstNode", "id": "mine", "attributes": {"count": 2}}],
    }
    world.doc.apply_patch(world.doc.decode_patch(content, setter="c1"), setter="c1", from_client=True)
    mine = world.doc.get_model_by_id("mine")
    assert isinstance(mine, TstNode) and mine.count == 3 and mine in world.doc.roots


def test_events_are_checked_against_the_state_left_by_earlier_ones() -> None:
    world = World()
    events: list[DocumentEvent] = [
        ModelChangedEvent(world.select, "options", None, ["x"]),
        ListSplicedEvent(world.select, "options", 1, 0, ["y"]),
        ListSplicedEvent(world.select, "options", 2, 0, ["z"]),
        ModelChangedEvent(world.source, "data", None, {"only": [1, 2]}),
        ColumnsStreamedEvent(world.source, "data", {"only": [3]}),
        ColumnsPatchedEvent(world.source, "data", {"only": [(2, 30)]}),
        DictItemsSetEvent(world.node, "table", {"new": 1}),
        DictItemsDeletedEvent(world.node, "table", ["new", "k"]),
        RootRemovedEvent(world.layout),
        RootAddedEvent(world.layout),
    ]
    world.doc.apply_patch(events)
    assert world.select.options == ["x", "y", "z"]
    assert world.source.data == {"only": [1, 2, 30]}
    assert world.node.table == {}
    assert world.doc.roots == (world.layout,)


def test_a_splice_valid_only_before_an_earlier_change_is_refused() -> None:
    world = World()
    before = doc_json_bytes(world.doc)
    with pytest.raises(PatchError, match="out of range"):
        world.doc.apply_patch(
            [
                ModelChangedEvent(world.select, "options", None, []),
                ListSplicedEvent(world.select, "options", 1, 1, []),  # fine on the old list
            ]
        )
    assert doc_json_bytes(world.doc) == before


def test_a_stream_after_a_column_was_dropped_is_refused() -> None:
    world = World()
    before = doc_json_bytes(world.doc)
    with pytest.raises(PatchError, match=r"missing \[\], extra \['y'\]"):
        world.doc.apply_patch(
            [
                DictItemsDeletedEvent(world.source, "data", ["y"]),
                ColumnsStreamedEvent(world.source, "data", {"x": [1.0], "y": ["z"]}),
            ]
        )
    assert doc_json_bytes(world.doc) == before


def test_same_root_removed_twice_is_refused() -> None:
    world = World()
    extra = TstLeaf()
    world.doc.add_root(extra)
    before = doc_json_bytes(world.doc)
    with pytest.raises(PatchError, match="is not a root"):
        world.doc.apply_patch([RootRemovedEvent(extra), RootRemovedEvent(extra)])
    assert doc_json_bytes(world.doc) == before


def test_max_models() -> None:
    world = World()
    content = {
        "events": [{"kind": "ModelChanged", "model": {"id": "node"}, "attr": "blob", "new": {"id": "n2"}}],
        "references": [{"type": "object", "name": "TstLeaf", "id": "n2"}],
    }
    count = len(world.doc.models)
    with pytest.raises(PatchError, match=rf"^too many models: the document may hold at most {count}$"):
        world.doc.apply_patch(world.doc.decode_patch(content), max_models=count)
    world.doc.apply_patch(world.doc.decode_patch(content), max_models=count + 1)
    assert len(world.doc.models) == count + 1


def test_client_patch_from_json_is_refused_atomically() -> None:
    world = World()
    before = doc_json_bytes(world.doc)
    content = {
        "events": [
            {"kind": "ModelChanged", "model": {"id": "slider"}, "attr": "value", "new": 0.9},
            {"kind": "ModelChanged", "model": {"id": "slider"}, "attr": "end", "new": 9.0},
        ]
    }
    patch = world.doc.decode_patch(content, setter="c1")
    with pytest.raises(NotWritableError, match=r"^Slider\.end is not writable from the client$"):
        world.doc.apply_patch(patch, setter="c1", from_client=True)
    assert doc_json_bytes(world.doc) == before


def test_stream_and_patch_from_a_client_on_a_writable_source() -> None:
    world = World()
    content = {
        "events": [
            {
                "kind": "ColumnsStreamed",
                "model": {"id": "source"},
                "attr": "data",
                "data": {"x": [3.0], "y": ["s"]},
                "rollover": 3,
            },
            {
                "kind": "ColumnsPatched",
                "model": {"id": "source"},
                "attr": "data",
                "patches": {"y": [[{"type": "slice", "start": 0, "stop": 2, "step": None}, ["P", "Q"]]]},
            },
        ]
    }
    world.doc.apply_patch(world.doc.decode_patch(content), from_client=True)
    assert world.source.data["x"].tolist() == [1.0, 2.0, 3.0]
    assert world.source.data["y"] == ["P", "Q", "s"]


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        (["k", "k"], r"^TstNode\.table has no key 'k'$"),
        ([["k"]], r"^TstNode\.table has no key \['k'\]$"),
        ([{"a"}], r"^TstNode\.table has no key \{'a'\}$"),
    ],
)
def test_deleting_a_key_twice_or_an_unhashable_key_is_refused(keys: list[Any], message: str) -> None:
    world = World()
    before = doc_json_bytes(world.doc)
    with pytest.raises(PatchError, match=message):
        world.doc.apply_patch([*world.good_events(), DictItemsDeletedEvent(world.node, "table", keys)])
    assert doc_json_bytes(world.doc) == before


class Counter(Model):
    """A model whose value a model-level rule refines, and whose UI events carry data."""

    __client_writable__ = frozenset({"value"})
    __client_events__ = frozenset({"step"})
    value = Float()
    limit = Float(10.0)
    steps = List(Int())

    def validate_value(self, prop: Any, value: Any) -> Any:
        value = super().validate_value(prop, value)
        if prop.name == "value" and value > self.limit:
            raise ValidationError(f"Counter.value {value} is above limit {self.limit}")
        return value

    def check_client_event(self, event: Any, scratch: dict[str, Any]) -> None:
        expected = scratch.get("next", len(self.steps))
        if event.msg_data != expected:
            raise PatchError(f"step {event.msg_data!r} out of order: expected {expected}")
        scratch["next"] = expected + 1

    def _trigger_event(self, event: Any) -> None:
        self.steps.append(event.msg_data)


def test_model_level_validation_and_event_checks_apply_to_client_patches() -> None:
    doc = Document()
    counter = Counter(id="counter", steps=[])
    doc.add_root(counter)
    with pytest.raises(PatchError, match=r"^Counter\.value 11\.0 is above limit 10\.0$"):
        doc.apply_patch([ModelChangedEvent(counter, "value", None, 11)], from_client=True)
    with pytest.raises(ValidationError):
        counter.value = 12
    # Each event is judged against what the ones before it in the patch will do.
    steps = [MessageSentEvent("step", i, counter) for i in (0, 1, 2)]
    before = doc_json_bytes(doc)
    with pytest.raises(PatchError, match=r"^step 1 out of order: expected 3$"):
        doc.apply_patch([*steps, MessageSentEvent("step", 1, counter)], from_client=True)
    assert doc_json_bytes(doc) == before
    doc.apply_patch([*steps, ModelChangedEvent(counter, "value", None, 4)], from_client=True)
    assert list(counter.steps) == [0, 1, 2] and counter.value == 4.0
    # Python's own messages are not the browser's: they are not checked.
    doc.apply_patch([MessageSentEvent("step", 7, counter)])
    assert counter.steps[-1] == 7
