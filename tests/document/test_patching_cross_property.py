"""Patches that change a property and, in the same patch, one whose check depends on it.

Tabs.active is judged against the tabs, MultiChoice.value against max_items, an indexed
group's active against its labels, a NumericInput's value against low/high, a
TextAreaInput's value against max_length, a GridBox's cells by themselves. Every event
of a patch is judged against the values the events before it leave: a patch either
applies whole, to a document whose every value passes its model's check, or is refused
with a PatchError and leaves the document, its subscribers and its callbacks untouched.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
import pytest

from docsync.document import Document, DocumentEvent, ListSplicedEvent, Model, ModelChangedEvent, encode_events
from docsync.document.models import (
    CheckboxButtonGroup,
    CheckboxGroup,
    Column,
    Div,
    GridBox,
    MultiChoice,
    NumericInput,
    RadioButtonGroup,
    RadioGroup,
    Slider,
    TabPanel,
    Tabs,
    TextAreaInput,
)
from docsync.exceptions import PatchError
from docsync.serialization import Encoder

from .helpers import doc_json_bytes, recorded


def _panels(count: int) -> list[TabPanel]:
    return [TabPanel(title=f"t{i}", child=Div(text=str(i))) for i in range(count)]


@dataclass
class Case:
    """A model, a patch for it, and what the patch must lead to (None: refused)."""

    name: str
    make: Callable[[], Model]
    events: Callable[[Model], list[DocumentEvent]]
    expect: dict[str, Any] | None  # the values after the patch; None: refused
    message: str = ""


def _set(attr: str, value: Any) -> Callable[[Model], DocumentEvent]:
    return lambda m: ModelChangedEvent(m, attr, None, value() if callable(value) else value)


def _patch(*steps: Callable[[Model], DocumentEvent]) -> Callable[[Model], list[DocumentEvent]]:
    return lambda m: [step(m) for step in steps]


def _tabs(count: int, active: int = 0) -> Callable[[], Model]:
    return lambda: Tabs(tabs=_panels(count), active=active)


def _shrink_tabs(m: Model) -> DocumentEvent:
    return ListSplicedEvent(m, "tabs", 1, 2, [])


CASES: list[Case] = [
    # Tabs: active is judged against the tabs the earlier events leave.
    Case(
        "tabs shrink, then active past them",
        _tabs(3),
        _patch(_set("tabs", lambda: _panels(1)), _set("active", 2)),
        None,
        "Tabs.active 2 is out of range: 1 tabs",
    ),
    Case(
        "tabs spliced shorter, then active past them",
        _tabs(3),
        _patch(_shrink_tabs, _set("active", 2)),
        None,
        "Tabs.active 2 is out of range: 1 tabs",
    ),
    Case(
        "tabs grow, then active into the new ones",
        _tabs(1),
        _patch(_set("tabs", lambda: _panels(3)), _set("active", 2)),
        {"active": 2},
    ),
    Case(
        "active, then tabs grow", _tabs(3), _patch(_set("active", 2), _set("tabs", lambda: _panels(4))), {"active": 2}
    ),
    Case(
        "active past the tabs, then tabs grow",
        _tabs(1),
        _patch(_set("active", 2), _set("tabs", lambda: _panels(3))),
        None,
        "Tabs.active 2 is out of range: 1 tabs",
    ),
    Case(
        "active back, then tabs shrink",
        _tabs(3, 2),
        _patch(_set("active", 0), _set("tabs", lambda: _panels(1))),
        {"active": 0},
    ),
    # MultiChoice: value is judged against max_items.
    Case(
        "max_items lowered, then too many values",
        lambda: MultiChoice(options=["a", "b"], max_items=3),
        _patch(_set("max_items", 1), _set("value", ["a", "b"])),
        None,
        "at most 1 may be chosen",
    ),
    Case(
        "max_items raised, then more values",
        lambda: MultiChoice(options=["a", "b"], max_items=1),
        _patch(_set("max_items", 2), _set("value", ["a", "b"])),
        {"value": ["a", "b"], "max_items": 2},
    ),
    Case(
        "more values, then max_items raised",
        lambda: MultiChoice(options=["a", "b"], max_items=1),
        _patch(_set("value", ["a", "b"]), _set("max_items", 2)),
        None,
        "at most 1 may be chosen",
    ),
    Case(
        "values spliced past max_items",
        lambda: MultiChoice(options=["a", "b"], max_items=1, value=["a"]),
        _patch(lambda m: ListSplicedEvent(m, "value", 1, 0, ["b"])),
        None,
        "at most 1 may be chosen",
    ),
    # NumericInput and TextAreaInput: the value is judged against bounds set before it.
    Case(
        "low raised, then a value below it",
        lambda: NumericInput(value=4),
        _patch(_set("low", 5.0), _set("value", 3)),
        None,
        "below low 5",
    ),
    Case(
        "mode float, then a fraction",
        lambda: NumericInput(value=4),
        _patch(_set("mode", "float"), _set("value", 2.5)),
        {"value": 2.5, "mode": "float"},
    ),
    Case(
        "max_length lowered, then a longer text",
        lambda: TextAreaInput(value="a"),
        _patch(_set("max_length", 2), _set("value", "abc")),
        None,
        "at most 2",
    ),
    # GridBox: a cell is judged however it arrives.
    Case(
        "grid cells replaced",
        lambda: GridBox(children=[(Div(), 0, 0)]),
        _patch(_set("children", lambda: [(Div(), 1, 2, 1, 1)]), _set("spacing", 3)),
        {"spacing": 3},
    ),
    Case(
        "grid cell spliced in at a negative row",
        lambda: GridBox(children=[(Div(), 0, 0)]),
        _patch(_set("spacing", 3), lambda m: ListSplicedEvent(m, "children", 1, 0, [(Div(), -1, 0)])),
        None,
        r"GridBox.children: bad cell \(-1, 0\)",
    ),
    # Sliders: the value's type follows start, end and step set in the same patch.
    Case(
        "int steps, then a whole value",
        lambda: Slider(start=0.0, end=1.0, step=0.1, value=0.5),
        _patch(_set("start", 0), _set("end", 10), _set("step", 1), _set("value", 3.0)),
        {"value": 3},
    ),
]

for group, one in [(RadioGroup, True), (RadioButtonGroup, True), (CheckboxGroup, False), (CheckboxButtonGroup, False)]:
    name = group.__type_name__

    def _active(index: int, one: bool = one) -> Any:
        return index if one else [index]

    def _group(count: int, group: type[Model] = group) -> Callable[[], Model]:
        return lambda: group(labels=[f"l{i}" for i in range(count)])

    CASES += [
        Case(
            f"{name}: labels shrink, then active past them",
            _group(3),
            _patch(_set("labels", ["l0"]), _set("active", _active(2))),
            None,
            f"{name}.active 2 is out of range: 1 labels",
        ),
        Case(
            f"{name}: labels grow, then active into them",
            _group(1),
            _patch(_set("labels", ["a", "b", "c"]), _set("active", _active(2))),
            {"active": _active(2)},
        ),
        Case(
            f"{name}: active past the labels, then labels grow",
            _group(1),
            _patch(_set("active", _active(2)), _set("labels", ["a", "b", "c"])),
            None,
            f"{name}.active 2 is out of range: 1 labels",
        ),
    ]
    if not one:
        CASES += [
            Case(
                f"{name}: active spliced past the labels",
                _group(2),
                _patch(lambda m: ListSplicedEvent(m, "active", 0, 0, [5])),
                None,
                f"{name}.active 5 is out of range: 2 labels",
            ),
            Case(
                f"{name}: an index spliced in twice",
                _group(2),
                _patch(lambda m: ListSplicedEvent(m, "active", 0, 0, [1, 1])),
                None,
                "names an index twice",
            ),
            Case(
                f"{name}: labels grow, then active spliced into them",
                _group(1),
                _patch(_set("labels", ["a", "b"]), lambda m: ListSplicedEvent(m, "active", 0, 0, [1])),
                {"active": [1]},
            ),
        ]


def _assert_valid(model: Model) -> None:
    """Every value of ``model`` passes its model's check against the others."""
    for attr, prop in model.properties().items():
        value = getattr(model, attr)
        assert model.validate_value(prop, list(value) if isinstance(value, list) else value) == value, attr


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_a_patch_applies_whole_or_not_at_all(case: Case) -> None:
    doc = Document()
    model = case.make()
    doc.add_root(Column(model))
    calls: list[tuple[str, Any, Any]] = []
    for attr in model.properties():
        model.on_change(attr, lambda a, o, n: calls.append((a, o, n)))
    before = doc_json_bytes(doc)
    events = case.events(model)
    with recorded(doc) as delivered:
        if case.expect is None:
            with pytest.raises(PatchError, match=case.message):
                doc.apply_patch(events)
            assert delivered == [] and calls == []
            assert doc_json_bytes(doc) == before
            return
        doc.apply_patch(events)
    assert len(delivered) == len(events)
    for attr, value in case.expect.items():
        got = getattr(model, attr)
        got = list(got) if isinstance(got, list) else got
        assert got == value and type(got) is type(value), attr  # the type too: 3, not 3.0
    _assert_valid(model)


def test_a_refused_patch_from_json_leaves_the_document_as_it_was() -> None:
    """The same over the wire: a client patch that creates a Tabs and sets it in order."""
    doc = Document()
    doc.add_root(Column(id="root"))
    before = doc_json_bytes(doc)
    content = {
        "events": [
            {"kind": "RootAdded", "model": {"id": "tabs"}},
            {"kind": "ModelChanged", "model": {"id": "tabs"}, "attr": "tabs", "new": []},
            {"kind": "ModelChanged", "model": {"id": "tabs"}, "attr": "active", "new": 1},
        ],
        "references": [
            {"type": "object", "name": "Tabs", "id": "tabs", "attributes": {"tabs": [{"id": "p0"}, {"id": "p1"}]}},
            {"type": "object", "name": "TabPanel", "id": "p0", "attributes": {"title": "a"}},
            {"type": "object", "name": "TabPanel", "id": "p1", "attributes": {"title": "b"}},
        ],
    }
    with recorded(doc) as delivered, pytest.raises(PatchError, match=r"Tabs\.active 1 is out of range: 0 tabs"):
        doc.apply_patch(doc.decode_patch(content, setter="c1"), setter="c1", from_client=True)
    assert delivered == [] and doc_json_bytes(doc) == before
    content["events"][1]["new"] = [{"id": "p1"}, {"id": "p0"}, {"id": "p1"}]  # type: ignore[index]
    with recorded(doc) as delivered:
        doc.apply_patch(doc.decode_patch(content, setter="c1"), setter="c1", from_client=True)
    tabs = doc.get_model_by_id("tabs")
    assert isinstance(tabs, Tabs) and tabs.active == 1 and len(tabs.tabs) == 3 and len(delivered) == 3


def test_held_changes_merge_without_reordering_what_a_value_was_judged_against() -> None:
    """A hold reports max_items=5 before a value of 4 items, not only max_items=4 after it.

    A receiver judges each reported change against the ones before it: merging the two
    max_items changes into the later one would report the 4 values under max_items=3.
    """
    doc = Document()
    choice = MultiChoice(id="mc", options=["a", "b", "c", "d"], max_items=3)
    doc.add_root(Column(choice, id="col"))
    mirror = Document.from_json(json.loads(doc_json_bytes(doc)), {})
    with recorded(doc) as delivered:
        doc.hold()
        choice.max_items = 5
        choice.value = ["a", "b", "c", "d"]
        choice.max_items = 4
        choice.max_items = 6  # merges with the one before: nothing of the model came between
        doc.unhold()
    assert [(e.attr, e.new) for e in delivered] == [  # type: ignore[attr-defined]
        ("max_items", 5),
        ("value", ["a", "b", "c", "d"]),
        ("max_items", 6),
    ]
    content = encode_events(delivered, Encoder(use_buffers=False))
    mirror.apply_patch(mirror.decode_patch(json.loads(orjson.dumps(content))))
    assert doc_json_bytes(mirror) == doc_json_bytes(doc)


@pytest.mark.parametrize(
    ("make", "edit", "message"),
    [
        (lambda: CheckboxGroup(labels=["a", "b"]), lambda m: m.active.append(5), r"active 5 is out of range: 2"),
        (lambda: CheckboxButtonGroup(labels=["a", "b"], active=[1]), lambda m: m.active.insert(0, 1), "twice"),
        (
            lambda: MultiChoice(options=["a", "b"], max_items=1, value=["a"]),
            lambda m: m.value.extend(["b"]),
            "at most 1",
        ),
        (lambda: GridBox(children=[(Div(), 0, 0)]), lambda m: m.children.append((Div(), 0, -2)), "bad cell"),
    ],
)
def test_an_edit_in_place_from_python_is_judged_like_a_whole_value(make: Any, edit: Any, message: str) -> None:
    doc = Document()
    model = make()
    doc.add_root(Column(model))
    before = doc_json_bytes(doc)
    with recorded(doc) as delivered, pytest.raises(ValueError, match=message):
        edit(model)
    assert delivered == [] and doc_json_bytes(doc) == before


_ALIVE: list[Document] = []  # models hold their document weakly: the other one must live


def _foreign(doc: Document, column: Column, text: Div) -> list[DocumentEvent]:
    other = Document()
    _ALIVE.append(other)
    stranger = Div(text="theirs")
    other.add_root(Column(stranger))
    return [ModelChangedEvent(text, "text", None, "changed"), ModelChangedEvent(column, "children", None, [stranger])]


def _twins(doc: Document, column: Column, text: Div) -> list[DocumentEvent]:
    return [
        ModelChangedEvent(text, "text", None, "changed"),
        ListSplicedEvent(column, "children", 1, 0, [Div(id="twin")]),
        ListSplicedEvent(column, "children", 2, 0, [Column(Div(id="twin"))]),
    ]


@pytest.mark.parametrize(
    ("make", "message"),
    [(_foreign, "already belongs to another document"), (_twins, "two models share the id 'twin'")],
)
def test_a_model_that_cannot_join_is_refused_before_anything_applies(make: Any, message: str) -> None:
    doc = Document()
    text = Div(text="mine")
    column = Column(text)
    doc.add_root(column)
    before = doc_json_bytes(doc)
    with recorded(doc) as delivered, pytest.raises(PatchError, match=message):
        doc.apply_patch(make(doc, column, text))
    assert delivered == [] and doc_json_bytes(doc) == before and text.text == "mine"


def _held_twin(doc: Document, column: Column, text: Div) -> list[DocumentEvent]:
    # A newcomer takes the id of a model the document still holds.
    return [
        ModelChangedEvent(text, "text", None, "changed"),
        ListSplicedEvent(column, "children", 1, 0, [Div(id=text.id)]),
    ]


def _replacing_twin(doc: Document, column: Column, text: Div) -> list[DocumentEvent]:
    # Replaced in one event: the newcomer joins while the old model is still there.
    return [
        ModelChangedEvent(text, "text", None, "changed"),
        ModelChangedEvent(column, "children", None, [Div(id=text.id, text="new")]),
    ]


@pytest.mark.parametrize("make", [_held_twin, _replacing_twin])
def test_a_new_model_with_the_id_of_a_held_one_is_refused_before_anything_applies(make: Any) -> None:
    doc = Document()
    text = Div(text="mine")
    column = Column(text)
    doc.add_root(column)
    before = doc_json_bytes(doc)
    with recorded(doc) as delivered, pytest.raises(PatchError, match=f"two models share the id '{text.id}'"):
        doc.apply_patch(make(doc, column, text))
    assert delivered == [] and doc_json_bytes(doc) == before and text.text == "mine"


def test_a_new_model_may_take_the_id_of_one_an_earlier_event_dropped() -> None:
    doc = Document()
    text = Div(text="mine")
    column = Column(text)
    doc.add_root(column)
    doc.apply_patch(
        [
            ModelChangedEvent(column, "children", None, []),
            ListSplicedEvent(column, "children", 0, 0, [Div(id=text.id, text="new")]),
        ]
    )
    assert doc.get_model_by_id(text.id).text == "new" and text.document is None


# A change that would leave another value failing its check brings that value back within
# it, as a change of its own: applied in Python and simulated by a patch's check alike.
KEPT_VALID = [
    (_tabs(3, active=2), "tabs", lambda m: m.tabs.pop(), {"active": 1}),
    (_tabs(3, active=2), "tabs", lambda m: setattr(m, "tabs", []), {"active": 0}),
    (lambda: RadioGroup(labels=["a", "b", "c"], active=2), "labels", lambda m: m.labels.pop(), {"active": None}),
    (
        lambda: CheckboxGroup(labels=["a", "b", "c"], active=[2, 0]),
        "labels",
        lambda m: setattr(m, "labels", ["a"]),
        {"active": [0]},
    ),
    (
        lambda: MultiChoice(options=["a", "b", "c"], value=["c", "a"]),
        "max_items",
        lambda m: setattr(m, "max_items", 1),
        {"value": ["c"]},
    ),
]


@pytest.mark.parametrize(("make", "attr", "edit", "after"), KEPT_VALID)
def test_a_change_keeps_the_values_it_judges_valid(make: Any, attr: str, edit: Any, after: dict[str, Any]) -> None:
    doc = Document()
    model = make()
    doc.add_root(Column(model))
    mirror = Document.from_json(json.loads(doc_json_bytes(doc)), {})
    with recorded(doc) as delivered:
        edit(model)
    assert {name: getattr(model, name) for name in after} == after
    changed = [(type(e).__name__, getattr(e, "attr", None)) for e in delivered]
    assert changed[0][1] == attr and changed[1:] == [("ModelChangedEvent", name) for name in after]
    # Sent as a patch, the events lead a mirror to the same document (the follow-up
    # arrives after the mirror made it by itself, and changes nothing more).
    content = encode_events(delivered, Encoder(use_buffers=False))
    with recorded(mirror) as mirrored:
        mirror.apply_patch(mirror.decode_patch(json.loads(orjson.dumps(content))))
    assert doc_json_bytes(mirror) == doc_json_bytes(doc)
    assert len(mirrored) == len(delivered)


def test_a_patch_is_checked_against_what_follows_a_change() -> None:
    # Shrinking the labels drops index 2 from active: a splice then deleting it is out of range.
    doc = Document()
    group = CheckboxGroup(labels=["a", "b", "c"], active=[0, 2])
    doc.add_root(group)
    before = doc_json_bytes(doc)
    events = [ModelChangedEvent(group, "labels", None, ["a", "b"]), ListSplicedEvent(group, "active", 1, 1, [])]
    with recorded(doc) as delivered, pytest.raises(PatchError, match=r"out of range of CheckboxGroup\.active"):
        doc.apply_patch(events)
    assert delivered == [] and doc_json_bytes(doc) == before
    doc.apply_patch(
        [ModelChangedEvent(group, "labels", None, ["a", "b"]), ModelChangedEvent(group, "active", None, [1])]
    )
    assert group.active == [1]
