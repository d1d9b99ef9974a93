from __future__ import annotations

import gc
import itertools
import weakref
from typing import Any

import numpy as np
import orjson
import pytest

from docsync.document import (
    ColumnsPatchedEvent,
    ColumnsStreamedEvent,
    Document,
    DocumentEvent,
    ListSplicedEvent,
    MessageSentEvent,
    Model,
    ModelChangedEvent,
    RootAddedEvent,
    RootRemovedEvent,
    SessionCallback,
    TitleChangedEvent,
    encode_events,
)
from docsync.document.models import (
    Button,
    ColorPicker,
    Column,
    ColumnDataSource,
    DataTable,
    Div,
    GlyphRenderer,
    Line,
    Plot,
    Row,
    Select,
    Slider,
    TableColumn,
)
from docsync.exceptions import DeserializationError, PatchError, ValidationError
from docsync.serialization import Encoder

from .helpers import (
    TstLeaf,
    TstNode,
    assert_docs_equal,
    doc_json_bytes,
    forwarding,
    json_roundtrip,
    own_buffers,
    recorded,
)


def chain(n: int) -> list[TstNode]:
    """n nodes, each holding the next through ``maybe``."""
    nodes = [TstNode() for _ in range(n)]
    for here, after in itertools.pairwise(nodes):
        here.maybe = after
    return nodes


class TestRoots:
    def test_add_root_indexes_everything_reachable(self) -> None:
        doc = Document()
        slider, leaf = Slider(), TstLeaf()
        node = TstNode(refs=[TstNode(table={"k": leaf})])
        doc.add_root(Column(slider, Row(node)))
        assert len(doc.models) == 6
        assert {m.document for m in doc.models.values()} == {doc}
        assert doc.get_model_by_id(leaf.id) is leaf

    def test_roots_keep_their_order(self) -> None:
        doc = Document()
        a, b, c = TstLeaf(), TstLeaf(), TstLeaf()
        for root in (b, a, c):
            doc.add_root(root)
        assert doc.roots == (b, a, c)
        doc.add_root(a)  # already a root: nothing happens
        assert doc.roots == (b, a, c)

    def test_add_root_event_lists_new_models(self) -> None:
        doc = Document()
        inner = TstLeaf()
        shared = Column(inner)
        with recorded(doc) as events:
            doc.add_root(shared)
            doc.add_root(Row(inner))
        first, second = events
        assert isinstance(first, RootAddedEvent) and first.model is shared
        assert {m.id for m in first.new_models} == {shared.id, inner.id}
        assert isinstance(second, RootAddedEvent)
        assert [m.id for m in second.new_models] == [second.model.id]  # inner was known

    def test_remove_root_drops_what_is_no_longer_reachable(self) -> None:
        doc = Document()
        shared = TstLeaf()
        first, second = Column(shared, Div()), Row(shared)
        doc.add_root(first)
        doc.add_root(second)
        with recorded(doc) as events:
            doc.remove_root(first)
        assert set(doc.models) == {second.id, shared.id}
        assert first.document is None and first.children[1].document is None
        assert shared.document is doc
        (event,) = events
        assert isinstance(event, RootRemovedEvent) and event.model is first

    def test_remove_unknown_root(self) -> None:
        with pytest.raises(ValueError):
            Document().remove_root(TstLeaf())

    def test_clear(self) -> None:
        doc = Document()
        doc.add_root(TstLeaf())
        doc.add_root(TstLeaf())
        doc.clear()
        assert doc.roots == () and len(doc.models) == 0

    def test_root_must_be_a_model(self) -> None:
        with pytest.raises(TypeError, match="a root must be a Model"):
            Document().add_root("slider")  # type: ignore[arg-type]

    def test_model_of_another_document_is_refused_and_nothing_changes(self) -> None:
        one, two = Document(), Document()
        taken = TstLeaf()
        one.add_root(taken)
        fresh = TstLeaf()
        with pytest.raises(ValueError, match="already belongs to another document"):
            two.add_root(Column(fresh, taken))
        assert len(two.models) == 0 and two.roots == ()
        assert fresh.document is None and taken.document is one

    def test_two_models_with_one_id_are_refused(self) -> None:
        doc = Document()
        doc.add_root(TstLeaf(id="same"))
        with pytest.raises(ValueError, match="two models share the id 'same'"):
            doc.add_root(Column(TstLeaf(id="same")))
        assert len(doc.models) == 1

    def test_models_mapping_is_read_only(self) -> None:
        doc = Document()
        with pytest.raises(TypeError):
            doc.models["x"] = TstLeaf()  # type: ignore[index]


class TestIndexFollowsReferences:
    def test_setting_a_reference_attaches_and_detaches(self) -> None:
        doc = Document()
        node, old, new = TstNode(), TstLeaf(), TstLeaf()
        node.blob = old
        doc.add_root(node)
        assert old.id in doc.models
        with recorded(doc) as events:
            node.blob = new
        assert new.id in doc.models and old.id not in doc.models
        assert old.document is None and new.document is doc
        (event,) = events
        assert isinstance(event, ModelChangedEvent) and event.new_models == [new]

    def test_list_edits_attach_and_detach(self) -> None:
        doc = Document()
        column = Column()
        doc.add_root(column)
        div = Div()
        column.children.append(div)
        assert div.id in doc.models
        column.children.pop()
        assert div.id not in doc.models and div.document is None

    def test_dict_edits_attach_and_detach(self) -> None:
        doc = Document()
        node = TstNode()
        doc.add_root(node)
        leaf = TstLeaf()
        node.table["k"] = leaf
        assert leaf.id in doc.models
        del node.table["k"]
        assert leaf.id not in doc.models

    def test_model_reachable_twice_survives_losing_one_path(self) -> None:
        doc = Document()
        leaf = TstLeaf()
        node = TstNode(refs=[TstNode(blob=leaf)], blob=leaf)
        doc.add_root(node)
        node.blob = None
        assert leaf.id in doc.models

    def test_edits_inside_detached_models_are_not_indexed(self) -> None:
        doc = Document()
        node = TstNode()
        doc.add_root(node)
        stray = TstNode()
        stray.blob = TstLeaf()
        assert len(doc.models) == 1
        node.blob = stray
        assert len(doc.models) == 3


class TestRefusedAttachChangesNothing:
    """A model of another document, or a second model with a known id, cannot join."""

    def setup_doc(self) -> tuple[Document, TstNode, TstNode]:
        self.other = Document()  # kept alive: models hold their document weakly
        foreign = TstNode(id="foreign")
        self.other.add_root(foreign)
        doc = Document()
        node = TstNode(id="home", refs=[], table={"k": 1})
        doc.add_root(node)
        return doc, node, foreign

    @pytest.mark.parametrize(
        "change",
        [
            lambda node, m: setattr(node, "blob", [m]),
            lambda node, m: setattr(node, "refs", [m]),
            lambda node, m: node.refs.append(m),
            lambda node, m: node.table.__setitem__("x", m),
            lambda node, m: setattr(node, "ref", m),
        ],
    )
    def test_model_of_another_document(self, change: Any) -> None:
        doc, node, foreign = self.setup_doc()
        before = doc_json_bytes(doc)
        with recorded(doc) as events, pytest.raises(ValueError, match="already belongs to another document"):
            change(node, foreign)
        assert events == []
        assert doc_json_bytes(doc) == before
        assert set(doc.models) == {"home"} and node.refs == [] and node.table == {"k": 1}

    def test_second_model_with_a_known_id(self) -> None:
        doc, node, _ = self.setup_doc()
        fresh = TstLeaf(id="fresh")
        with pytest.raises(ValueError, match="two models share the id 'home'"):
            node.blob = [fresh, TstNode(id="home")]
        assert node.blob is None and set(doc.models) == {"home"} and fresh.document is None


class TestCycles:
    def test_two_models_referencing_each_other(self) -> None:
        doc = Document()
        a, b = TstNode(), TstNode()
        a.ref, b.ref = b, a
        doc.add_root(a)
        assert set(doc.models) == {a.id, b.id}
        doc.remove_root(a)
        assert len(doc.models) == 0
        assert a.document is None and b.document is None

    def test_self_reference(self) -> None:
        doc = Document()
        node = TstNode()
        node.refs = [node, node]
        doc.add_root(node)
        assert list(doc.models) == [node.id]

    def test_cycle_created_inside_the_document(self) -> None:
        doc = Document()
        a, b, c = TstNode(), TstNode(), TstNode()
        doc.add_root(a)
        a.ref = b
        b.ref = c
        c.ref = a
        assert set(doc.models) == {a.id, b.id, c.id}
        b.ref = b  # c is cut off: a -> b -> b
        assert set(doc.models) == {a.id, b.id}

    def test_cycle_survives_json(self) -> None:
        doc = Document()
        a, b = TstNode(), TstNode()
        a.ref, b.ref = b, a
        doc.add_root(a)
        copy = json_roundtrip(doc)
        a2 = copy.get_model_by_id(a.id)
        assert isinstance(a2, TstNode)
        assert a2.ref.ref is a2


class TestLinearIndexing:
    def count_references(self, monkeypatch: pytest.MonkeyPatch) -> list[int]:
        calls = [0]
        original = Model.references

        def counting(model: Model) -> Any:
            calls[0] += 1
            return original(model)

        monkeypatch.setattr(Model, "references", counting)
        return calls

    @pytest.mark.parametrize("n", [2_500, 10_000])
    def test_adding_a_chain_visits_each_model_once(self, monkeypatch: pytest.MonkeyPatch, n: int) -> None:
        nodes = chain(n)
        calls = self.count_references(monkeypatch)
        doc = Document()
        doc.add_root(nodes[0])
        assert len(doc.models) == n
        assert calls[0] == n

    def test_cycle_closing_a_chain_is_still_linear(self, monkeypatch: pytest.MonkeyPatch) -> None:
        nodes = chain(10_000)
        nodes[-1].maybe = nodes[0]
        calls = self.count_references(monkeypatch)
        doc = Document()
        doc.add_root(nodes[0])
        assert len(doc.models) == 10_000 and calls[0] == 10_000

    def test_cutting_a_chain_rescans_at_most_once(self, monkeypatch: pytest.MonkeyPatch) -> None:
        nodes = chain(10_000)
        doc = Document()
        doc.add_root(nodes[0])
        calls = self.count_references(monkeypatch)
        nodes[4_999].maybe = None
        assert len(doc.models) == 5_000
        assert calls[0] <= 10_000
        assert nodes[5_000].document is None and nodes[-1].document is None

    def test_removing_a_root_of_a_chain(self, monkeypatch: pytest.MonkeyPatch) -> None:
        nodes = chain(10_000)
        doc = Document()
        other = TstLeaf()
        doc.add_root(other)
        doc.add_root(nodes[0])
        calls = self.count_references(monkeypatch)
        doc.remove_root(nodes[0])
        assert list(doc.models) == [other.id]
        assert calls[0] == 1  # only what stays reachable is walked

    def test_long_chain_survives_json_without_recursion(self) -> None:
        nodes = chain(10_000)
        doc = Document()
        doc.add_root(nodes[0])
        copy = json_roundtrip(doc)
        assert len(copy.models) == 10_000


class TestLookup:
    def test_get_model_by_id(self) -> None:
        doc = Document()
        leaf = TstLeaf()
        doc.add_root(Column(leaf))
        assert doc.get_model_by_id(leaf.id) is leaf
        assert doc.get_model_by_id("missing") is None

    def test_get_model_by_name(self) -> None:
        doc = Document()
        first, second = Slider(name="speed"), Slider(name="speed")
        doc.add_root(Column(first, second, Div(name="title")))
        assert doc.get_model_by_name("speed") in (first, second)
        assert doc.get_model_by_name("title") is doc.roots[0].children[2]
        assert doc.get_model_by_name("nope") is None
        assert sorted(m.id for m in doc.select("speed")) == sorted([first.id, second.id])
        assert doc.select("nope") == []

    def test_name_changes_are_seen(self) -> None:
        doc = Document()
        slider = Slider()
        doc.add_root(slider)
        slider.name = "later"
        assert doc.get_model_by_name("later") is slider


class TestTitle:
    def test_title_change_event(self) -> None:
        doc = Document(title="one")
        with recorded(doc) as events:
            doc.title = "two"
            doc.title = "two"
            doc.set_title("three", setter="conn")
        assert [e.title for e in events if isinstance(e, TitleChangedEvent)] == ["two", "three"]
        assert events[1].setter == "conn"

    def test_title_must_be_a_string(self) -> None:
        with pytest.raises(TypeError, match="title must be a string"):
            Document().title = 5  # type: ignore[assignment]


class TestSubscribers:
    def test_setter_is_recorded(self) -> None:
        doc = Document()
        slider = Slider()
        doc.add_root(slider)
        with recorded(doc) as events:
            slider.value = 0.1
            slider._set_value(Slider.value, 0.2, "conn-7")
        assert [e.setter for e in events] == [None, "conn-7"]

    def test_remove_on_change(self) -> None:
        doc = Document()
        seen: list[DocumentEvent] = []
        doc.on_change(seen.append)
        doc.remove_on_change(seen.append)
        doc.add_root(TstLeaf())
        assert seen == []

    def test_changes_outside_a_document_make_no_events(self) -> None:
        doc = Document()
        with recorded(doc) as events:
            Slider().value = 3
        assert events == []


class TestHold:
    def test_events_wait_for_unhold(self) -> None:
        doc = Document()
        slider = Slider()
        doc.add_root(slider)
        with recorded(doc) as events:
            doc.hold()
            slider.value = 0.5
            assert events == []
            doc.unhold()
            assert len(events) == 1

    def test_repeated_sets_merge_keeping_the_first_old_value(self) -> None:
        # (A model whose values judge none of its others: a TextInput's value is judged by
        # its max_length, test_a_value_judged_by_other_values_merges_only_since_they_changed.)
        doc = Document()
        color = ColorPicker(title="", color="#000000")
        doc.add_root(color)
        with recorded(doc) as events:
            doc.hold()
            color.color = "#aaaaaa"
            color.title = "t"
            color.color = "#bbbbbb"
            color.color = "#cccccc"
            doc.unhold()
        assert [(type(e), e.attr) for e in events] == [(ModelChangedEvent, "title"), (ModelChangedEvent, "color")]
        color_event = events[1]
        assert isinstance(color_event, ModelChangedEvent)
        assert (color_event.old, color_event.new) == ("#000000", "#cccccc")

    def test_a_value_judged_by_other_values_merges_only_since_they_changed(self) -> None:
        # A slider's value is typed by its start, end and step: it stays reported after them.
        doc = Document()
        slider = Slider()
        doc.add_root(slider)
        with recorded(doc) as events:
            doc.hold()
            slider.value = 0.25
            slider.title = "t"
            slider.value = 0.5
            slider.value = 0.75
            doc.unhold()
        assert [(e.attr, e.old, e.new) for e in events] == [  # type: ignore[attr-defined]
            ("value", 0.0, 0.25),
            ("title", "", "t"),
            ("value", 0.25, 0.75),
        ]

    def test_different_setters_do_not_merge(self) -> None:
        doc = Document()
        slider = Slider()
        doc.add_root(slider)
        with recorded(doc) as events:
            doc.hold()
            slider._set_value(Slider.value, 0.5, "conn")
            slider.value = 0.75
            doc.unhold()
        assert [e.setter for e in events] == ["conn", None]

    def test_a_whole_value_supersedes_held_splices(self) -> None:
        doc = Document()
        select = Select(options=["a"])
        doc.add_root(select)
        with recorded(doc) as events:
            doc.hold()
            select.options.append("b")
            select.options.append("c")
            select.options = ["z"]
            doc.unhold()
        (event,) = events
        assert isinstance(event, ModelChangedEvent) and event.new == ["z"]

    def test_nested_holds(self) -> None:
        doc = Document()
        slider = Slider()
        doc.add_root(slider)
        with recorded(doc) as events:
            doc.hold()
            doc.hold()
            slider.value = 1
            doc.unhold()
            assert events == []
            doc.unhold()
            assert len(events) == 1
            doc.unhold()  # one too many: harmless
            assert len(events) == 1

    def test_model_callbacks_still_run_at_once(self) -> None:
        doc = Document()
        slider = Slider()
        doc.add_root(slider)
        calls: list[float] = []
        slider.on_change("value", lambda attr, old, new: calls.append(new))
        doc.hold()
        slider.value = 0.5
        assert calls == [0.5]
        doc.unhold()

    def test_held_value_is_the_value_as_set(self) -> None:
        # Edits after a held whole-value set travel as events of their own, so the
        # held value must not include them.
        doc = Document()
        select = Select(options=["a"])
        doc.add_root(select)
        replica = json_roundtrip(doc)
        with recorded(doc) as events, forwarding(doc, replica):
            doc.hold()
            select.options = ["x"]
            select.options.append("y")
            doc.unhold()
        assert isinstance(events[0], ModelChangedEvent) and events[0].new == ["x"]
        assert replica.get_model_by_id(select.id).options == ["x", "y"]  # type: ignore[union-attr]

    def test_held_column_data_set_then_stream(self) -> None:
        doc = Document()
        source = ColumnDataSource(data={"x": [1]})
        doc.add_root(source)
        replica = json_roundtrip(doc)
        with forwarding(doc, replica):
            doc.hold()
            source.data = {"x": [1, 2]}
            source.stream({"x": [3]})
            doc.unhold()
        assert replica.get_model_by_id(source.id).data == {"x": [1, 2, 3]}  # type: ignore[union-attr]

    def test_a_model_attached_while_held_is_defined_as_it_was_then(self) -> None:
        doc = Document()
        column = Column()
        doc.add_root(column)
        replica = json_roundtrip(doc)
        definitions: list[list[dict[str, Any]]] = []

        def capture(event: DocumentEvent) -> None:
            definitions.append(encode_events([event], Encoder(), doc.models)["references"])

        doc.on_change(capture)
        with recorded(doc) as events, forwarding(doc, replica):
            doc.hold()
            row = Row(Div(text="a"))
            column.children.append(row)
            row.children.append(Div(text="b"))
            row.spacing = 3
            doc.unhold()
        assert [type(e) for e in events] == [ListSplicedEvent, ListSplicedEvent, ModelChangedEvent]
        row_definition = next(d for d in definitions[0] if d["id"] == row.id)
        assert row_definition["attributes"] == {"children": [{"id": row.children[0].id}]}
        assert row._frozen_values is None  # only while the event is reported
        assert_docs_equal(doc, replica)

    def test_a_held_model_may_refer_to_one_attached_after_it(self) -> None:
        # The row is attached first, the plot after it, then the row takes the plot:
        # the row's definition must not name the plot, which is defined later.
        doc = Document()
        column = Column()
        doc.add_root(column)
        replica = json_roundtrip(doc)
        with forwarding(doc, replica):
            doc.hold()
            row = Row()
            column.children.append(row)
            plot = Plot()
            doc.add_root(plot)
            row.children.append(plot)
            doc.unhold()
        assert_docs_equal(doc, replica)

    def test_moving_a_model_while_held(self) -> None:
        doc = Document()
        widget = Slider()
        left, right = Column(widget), Row()
        doc.add_root(left)
        doc.add_root(right)
        replica = json_roundtrip(doc)
        with forwarding(doc, replica):
            doc.hold()
            left.children.remove(widget)
            right.children.append(widget)
            left.children = [Div()]
            doc.unhold()
        assert_docs_equal(doc, replica)

    def test_sets_of_a_model_property_do_not_merge_away_attached_models(self) -> None:
        doc = Document()
        node = TstNode()
        doc.add_root(node)
        replica = json_roundtrip(doc)
        with recorded(doc) as events, forwarding(doc, replica):
            doc.hold()
            first = TstLeaf()
            node.blob = first
            first.text = "edited"
            node.blob = TstLeaf()
            doc.unhold()
        assert len(events) == 3
        assert_docs_equal(doc, replica)

    def test_model_attached_and_detached_while_held(self) -> None:
        doc = Document()
        column = Column()
        doc.add_root(column)
        replica = json_roundtrip(doc)
        with forwarding(doc, replica):
            doc.hold()
            column.children.append(Div())
            column.children.pop()
            doc.unhold()
        assert_docs_equal(doc, replica)


class TestStream:
    def make(self) -> tuple[Document, ColumnDataSource]:
        doc = Document()
        source = ColumnDataSource(data={"x": np.arange(3.0), "y": ["a", "b", "c"]})
        doc.add_root(source)
        return doc, source

    def test_stream_appends_rows(self) -> None:
        doc, source = self.make()
        with recorded(doc) as events:
            source.stream({"x": [3.0, 4.0], "y": ["d", "e"]})
        assert source.data["x"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
        assert source.data["y"] == ["a", "b", "c", "d", "e"]
        (event,) = events
        assert isinstance(event, ColumnsStreamedEvent)
        assert event.rollover is None and event.attr == "data"
        assert event.data["x"].tolist() == [3.0, 4.0] and event.data["y"] == ["d", "e"]

    def test_stream_with_rollover(self) -> None:
        doc, source = self.make()
        with recorded(doc) as events:
            source.stream({"x": np.array([3.0, 4.0]), "y": ["d", "e"]}, rollover=4)
        assert source.data["x"].tolist() == [1.0, 2.0, 3.0, 4.0]
        assert source.data["y"] == ["b", "c", "d", "e"]
        assert events[0].rollover == 4  # type: ignore[attr-defined]

    def test_rollover_smaller_than_the_new_rows(self) -> None:
        _, source = self.make()
        source.stream({"x": [5.0, 6.0, 7.0], "y": ["p", "q", "r"]}, rollover=2)
        assert source.data["x"].tolist() == [6.0, 7.0]
        assert source.data["y"] == ["q", "r"]

    def test_rollover_zero_empties(self) -> None:
        _, source = self.make()
        source.stream({"x": [5.0], "y": ["p"]}, rollover=0)
        assert source.length == 0

    def test_stream_keeps_the_column_dtype(self) -> None:
        _, source = self.make()
        source.stream({"x": [1], "y": ["z"]})
        assert source.data["x"].dtype == np.float64

    @pytest.mark.parametrize(
        ("rows", "rollover", "message"),
        [
            ({"x": [1.0]}, None, r"stream must supply every column: missing \['y'\], extra \[\]"),
            ({"x": [1.0], "y": ["a"], "z": [0]}, None, r"stream must supply every column: missing \[\], extra \['z'\]"),
            ({"x": [1.0, 2.0], "y": ["a"]}, None, r"streamed columns have different lengths: \[1, 2\]"),
            ({"x": ["s"], "y": ["a"]}, None, r"streamed column 'x' of text cannot join float64"),
            ({"x": [[1.0]], "y": ["a"]}, None, r"streamed column 'x' has shape \(1, 1\)"),
            ({"x": [1.0], "y": "a"}, None, r"streamed column 'y' must be a list or ndarray"),
            ({"x": [1.0], "y": ["a"]}, -1, r"rollover must be a non-negative int, got -1"),
            ({}, None, r"stream needs a dict of column name to new rows"),
        ],
    )
    def test_bad_streams_change_nothing(self, rows: Any, rollover: Any, message: str) -> None:
        doc, source = self.make()
        before = doc_json_bytes(doc)
        with recorded(doc) as events, pytest.raises(ValidationError, match=r"^ColumnDataSource\.data: " + message):
            source.stream(rows, rollover)
        assert events == [] and doc_json_bytes(doc) == before


class TestPatch:
    def make(self) -> tuple[Document, ColumnDataSource]:
        doc = Document()
        source = ColumnDataSource(data={"x": np.arange(5.0), "y": list("abcde")})
        doc.add_root(source)
        return doc, source

    def test_patch_by_index(self) -> None:
        doc, source = self.make()
        with recorded(doc) as events:
            source.patch({"x": [(0, 10.0), (4, 40.0)], "y": [(1, "B")]})
        assert source.data["x"].tolist() == [10.0, 1.0, 2.0, 3.0, 40.0]
        assert source.data["y"] == ["a", "B", "c", "d", "e"]
        (event,) = events
        assert isinstance(event, ColumnsPatchedEvent)
        assert event.patches == {"x": [(0, 10.0), (4, 40.0)], "y": [(1, "B")]}

    def test_patch_by_slice(self) -> None:
        doc, source = self.make()
        with recorded(doc) as events:
            source.patch({"x": [(slice(1, 3), [7.0, 8.0])], "y": [(slice(None, None, 2), ["A", "C", "E"])]})
        assert source.data["x"].tolist() == [0.0, 7.0, 8.0, 3.0, 4.0]
        assert source.data["y"] == ["A", "b", "C", "d", "E"]
        (event,) = events
        assert event.patches["x"] == [(slice(1, 3, 1), [7.0, 8.0])]  # type: ignore[attr-defined]
        assert event.patches["y"] == [(slice(0, 5, 2), ["A", "C", "E"])]  # type: ignore[attr-defined]

    def test_patch_a_read_only_array(self) -> None:
        doc = Document()
        source = ColumnDataSource(data={"x": np.frombuffer(np.arange(3.0).tobytes())})
        doc.add_root(source)
        assert not source.data["x"].flags.writeable
        source.patch({"x": [(0, 9.0)]})
        assert source.data["x"].tolist() == [9.0, 1.0, 2.0]

    @pytest.mark.parametrize(
        ("patches", "message"),
        [
            ({"x": [(5, 1.0)]}, r"patch index 5 out of range for column 'x'"),
            ({"x": [(-1, 1.0)]}, r"patch index -1 out of range for column 'x'"),
            ({"x": [(1.0, 1.0)]}, r"patch index 1.0 out of range for column 'x'"),
            ({"x": [(slice(0, 2), [1.0])]}, r"patch slice of column 'x' needs 2 values"),
            ({"x": [(slice(0, 9), [1.0] * 9)]}, r"patch slice slice\(0, 9, None\) out of range"),
            ({"x": [(slice(3, 1, -1), [1.0, 2.0])]}, r"patch slice slice\(3, 1, -1\) out of range"),
            ({"x": [(0, "s")]}, r"patch value 's' does not fit column 'x'"),
            ({"q": [(0, 1)]}, r"cannot patch unknown column 'q'"),
            ({"x": [(0,)]}, r"patch of column 'x' must be \(index, value\) pairs"),
            ({"x": 5}, r"patches of column 'x' must be a list"),
            ({}, r"patch needs a dict"),
        ],
    )
    def test_bad_patches_change_nothing(self, patches: Any, message: str) -> None:
        doc, source = self.make()
        before = doc_json_bytes(doc)
        with recorded(doc) as events, pytest.raises(ValidationError, match=r"^ColumnDataSource\.data: " + message):
            source.patch(patches)
        assert events == [] and doc_json_bytes(doc) == before

    def test_a_bad_entry_after_good_ones_changes_nothing(self) -> None:
        doc, source = self.make()
        before = doc_json_bytes(doc)
        with pytest.raises(ValidationError):
            source.patch({"x": [(0, 5.0)], "y": [(0, "A"), (99, "Z")]})
        assert doc_json_bytes(doc) == before


class TestJson:
    def test_shape(self) -> None:
        doc = Document(title="Demo")
        slider = Slider(value=0.5, name="s")
        doc.add_root(Column(slider))
        data, buffers = doc.to_json()
        assert buffers == []
        assert data["title"] == "Demo"
        assert data["roots"] == [{"id": doc.roots[0].id}]
        models = {m["id"]: m for m in data["models"]}
        assert models[slider.id] == {
            "type": "object",
            "name": "Slider",
            "id": slider.id,
            "attributes": {"value": 0.5, "name": "s"},
        }
        assert models[doc.roots[0].id]["attributes"] == {"children": [{"id": slider.id}]}
        orjson.dumps(data)

    def test_only_explicit_attributes_travel(self) -> None:
        doc = Document()
        doc.add_root(Slider())
        assert doc.to_json()[0]["models"][0]["attributes"] == {}

    def test_arrays_travel_as_buffers(self) -> None:
        doc = Document()
        x = np.arange(4.0)
        doc.add_root(ColumnDataSource(data={"x": x}))
        data, buffers = doc.to_json()
        ((buffer_id, payload),) = buffers
        assert data["models"][0]["attributes"]["data"]["x"] == {
            "type": "ndarray",
            "buffer": buffer_id,
            "dtype": "float64",
            "shape": [4],
            "order": "little",
        }
        assert isinstance(payload, memoryview) and payload.obj is x

    def test_round_trip(self) -> None:
        doc = Document(title="Round ☃")
        source = ColumnDataSource(data={"x": np.arange(3.0), "y": [1, None, "z"]})
        doc.add_root(Column(Slider(value=0.25), DataTable(source=source, columns=[TableColumn(field="x")])))
        doc.add_root(Plot(renderers=[GlyphRenderer(data_source=source, glyph=Line(line_color="red"))]))
        doc.add_root(TstNode(table={"k": [1.5, float("nan")]}, blob={(1, 2): {3}}))
        copy = json_roundtrip(doc)
        assert_docs_equal(doc, copy)

    def test_from_json_with_base64_arrays(self) -> None:
        doc = Document()
        doc.add_root(ColumnDataSource(data={"x": np.arange(3, dtype=np.int16)}))
        data, buffers = doc.to_json(encoder=Encoder(use_buffers=False))
        assert buffers == []
        assert_docs_equal(doc, Document.from_json(data))

    def test_empty_document(self) -> None:
        copy = json_roundtrip(Document(title=""))
        assert copy.title == "" and copy.roots == ()

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ([], r"document JSON must be an object with a 'roots' list"),
            ({"title": "x"}, r"document JSON must be an object with a 'roots' list"),
            ({"roots": [], "title": 5}, r"document title must be a string"),
            ({"roots": [], "models": {}}, r"model definitions must be a list"),
            ({"roots": [], "models": [{"type": "thing"}]}, r"invalid model definition"),
            ({"roots": [], "models": [{"type": "object", "name": "Slider"}]}, r"needs a string id and name"),
            ({"roots": [], "models": [{"type": "object", "id": "a", "name": "Nope"}]}, r"unknown model type 'Nope'"),
            (
                {"roots": [], "models": [{"type": "object", "id": "a", "name": "Slider", "attributes": []}]},
                r"attributes of 'a' must be an object",
            ),
            (
                {"roots": [], "models": [{"type": "object", "id": "a", "name": "Slider"}] * 2},
                r"duplicate model id 'a'",
            ),
            (
                {"roots": [], "models": [{"type": "object", "id": "a", "name": "Slider", "attributes": {"x": 1}}]},
                r"Slider has no property 'x'",
            ),
            (
                {
                    "roots": [],
                    "models": [{"type": "object", "id": "a", "name": "Slider", "attributes": {"value": "hi"}}],
                },
                r"^Slider.value expected an int or a float, got 'hi'$",
            ),
            (
                {
                    "roots": [],
                    "models": [
                        {"type": "object", "id": "a", "name": "Column", "attributes": {"children": [{"id": "b"}]}}
                    ],
                },
                r"reference to unknown model id 'b'",
            ),
            ({"roots": [{"id": "zz"}], "models": []}, r"root is not a defined model"),
            ({"roots": ["zz"], "models": []}, r"root is not a defined model"),
        ],
    )
    def test_from_json_refuses(self, data: Any, message: str) -> None:
        with pytest.raises(DeserializationError, match=message):
            Document.from_json(data)

    def test_from_json_checks_buffers(self) -> None:
        doc = Document()
        doc.add_root(ColumnDataSource(data={"x": np.arange(3.0)}))
        data, _ = doc.to_json()
        with pytest.raises(DeserializationError, match="missing buffer '0'"):
            Document.from_json(data, {})
        with pytest.raises(DeserializationError, match="buffer length 8 does not match"):
            Document.from_json(data, {"0": b"\0" * 8})
        with pytest.raises(DeserializationError, match="ndarray too large: 3 > 2 elements"):
            Document.from_json(data, {"0": b"\0" * 24}, max_array_elements=2)

    def test_replace_with_json_keeps_callbacks(self) -> None:
        doc = Document(title="old")
        doc.add_root(Slider())
        entry = doc.add_periodic_callback(lambda: None, 100)
        other = Document(title="new")
        other.add_root(Div(text="hello"))
        data, buffers = other.to_json()
        with recorded(doc) as events:
            doc.replace_with_json(data, own_buffers(buffers))
        assert doc.title == "new"
        assert_docs_equal(other, doc)
        assert doc.callbacks == (entry,)
        kinds = [type(e) for e in events]
        assert kinds == [RootRemovedEvent, TitleChangedEvent, RootAddedEvent]


class TestMessages:
    def test_send_message_reaches_subscribers(self) -> None:
        doc = Document()
        button = Button()
        doc.add_root(button)
        with recorded(doc) as events:
            doc.send_message("toast", {"text": "hi"}, model=button)
        (event,) = events
        assert isinstance(event, MessageSentEvent)
        assert (event.msg_type, event.msg_data, event.model) == ("toast", {"text": "hi"}, button)

    def test_on_message_gets_client_messages(self) -> None:
        doc = Document()
        received: list[MessageSentEvent] = []
        doc.on_message("ping", received.append)
        assert doc.accepts_message("ping") and not doc.accepts_message("pong")
        doc.apply_patch([MessageSentEvent("ping", [1, 2])], setter="c", from_client=True)
        (event,) = received
        assert event.msg_data == [1, 2]

    def test_client_message_without_handler_is_refused(self) -> None:
        doc = Document()
        with pytest.raises(PatchError, match=r"^no handler for messages of type 'pong'$"):
            doc.apply_patch([MessageSentEvent("pong", None)], from_client=True)


class RecordingScheduler:
    def __init__(self) -> None:
        self.added: list[SessionCallback] = []
        self.removed: list[SessionCallback] = []

    def callback_added(self, callback: SessionCallback) -> None:
        self.added.append(callback)

    def callback_removed(self, callback: SessionCallback) -> None:
        self.removed.append(callback)


class TestCallbacks:
    def test_callbacks_are_recorded_as_data(self) -> None:
        doc = Document()

        def tick() -> None:
            pass

        soon = doc.add_next_tick_callback(tick)
        later = doc.add_timeout_callback(tick, 1500)
        every = doc.add_periodic_callback(tick, 250, locked=False)
        assert doc.callbacks == (soon, later, every)
        assert (soon.kind, soon.delay, soon.locked) == ("next_tick", 0.0, True)
        assert (later.kind, later.delay) == ("timeout", 1.5)
        assert (every.kind, every.delay, every.locked) == ("periodic", 0.25, False)
        assert soon.callback is tick
        assert len({soon.id, later.id, every.id}) == 3
        assert every.describe().startswith("periodic 0.25s: ")
        assert soon.describe().startswith("next tick: ")
        assert "tick" in later.describe()

    def test_removal(self) -> None:
        doc = Document()
        first = doc.add_periodic_callback(lambda: None, 10)
        second = doc.add_timeout_callback(lambda: None, 10)
        third = doc.add_next_tick_callback(lambda: None)
        doc.remove_periodic_callback(first)
        doc.remove_timeout_callback(second)
        doc.remove_next_tick_callback(third)
        assert doc.callbacks == ()
        doc.remove_callback(first)  # twice: harmless

    def test_callback_done_forgets_one_shots(self) -> None:
        doc = Document()
        once = doc.add_timeout_callback(lambda: None, 5)
        doc.callback_done(once)
        assert doc.callbacks == ()

    def test_period_must_be_positive(self) -> None:
        with pytest.raises(ValueError, match="period must be positive, got 0"):
            Document().add_periodic_callback(lambda: None, 0)

    def test_scheduler_receives_existing_and_future_callbacks(self) -> None:
        doc = Document()
        early = doc.add_periodic_callback(lambda: None, 100)
        scheduler = RecordingScheduler()
        doc.set_callback_scheduler(scheduler)
        assert scheduler.added == [early]
        late = doc.add_next_tick_callback(lambda: None)
        assert scheduler.added == [early, late]
        doc.remove_callback(early)
        assert scheduler.removed == [early]

    def test_callback_done_does_not_tell_the_scheduler(self) -> None:
        doc = Document()
        scheduler = RecordingScheduler()
        doc.set_callback_scheduler(scheduler)
        once = doc.add_next_tick_callback(lambda: None)
        doc.callback_done(once)
        assert scheduler.removed == []

    def test_detached_scheduler_is_not_told(self) -> None:
        doc = Document()
        scheduler = RecordingScheduler()
        doc.set_callback_scheduler(scheduler)
        doc.set_callback_scheduler(None)
        entry = doc.add_periodic_callback(lambda: None, 5)
        doc.remove_callback(entry)
        assert scheduler.added == [] and scheduler.removed == []

    def test_destroy_removes_every_callback(self) -> None:
        doc = Document()
        scheduler = RecordingScheduler()
        doc.set_callback_scheduler(scheduler)
        entries = [doc.add_periodic_callback(lambda: None, 5), doc.add_timeout_callback(lambda: None, 5)]
        doc.destroy()
        assert scheduler.removed == entries
        assert doc.callbacks == ()


def _build_session_document() -> tuple[Document, list[weakref.ref[Any]]]:
    doc = Document(title="app")
    source = ColumnDataSource(data={"x": np.arange(1000.0), "y": list(range(1000))})
    slider = Slider(value=0.5)
    button = Button()
    table = DataTable(source=source, columns=[TableColumn(field="x"), TableColumn(field="y")])
    plot = Plot(renderers=[GlyphRenderer(data_source=source, glyph=Line())])
    layout = Column(Row(slider, button), table, plot)
    doc.add_root(layout)
    doc.add_root(Select(options=["a", "b"]))

    # Callbacks that close over the document and its models, as application code does.
    def moved(attr: str, old: Any, new: Any) -> None:
        source.patch({"x": [(0, new)]})

    slider.on_change("value", moved)
    button.on_click(lambda event: doc.send_message("clicked", slider.value))
    doc.on_change(lambda event: layout.children)
    doc.on_message("ping", lambda event: slider)
    doc.add_periodic_callback(lambda: source.stream({"x": [1.0], "y": [1]}, rollover=1000), 100)
    doc.add_next_tick_callback(lambda: table)

    # Edits of every kind, so that events and tracked containers exist.
    slider.value = 0.75
    doc.hold()
    source.stream({"x": [5.0], "y": [5]}, rollover=1000)
    layout.children.append(Div(text="late"))
    doc.unhold()
    doc.apply_patch(
        doc.decode_patch(
            {"events": [{"kind": "ModelChanged", "model": {"id": slider.id}, "attr": "value", "new": 0.1}]}
        )
    )
    doc.to_json()
    refs: list[weakref.ref[Any]] = [weakref.ref(m) for m in doc.models.values()]
    refs.append(weakref.ref(doc))
    return doc, refs


class TestFreeingWithoutGc:
    def test_destroyed_document_is_freed_by_reference_counting(self) -> None:
        gc.collect()
        gc.disable()
        try:
            doc, refs = _build_session_document()
            assert len(refs) > 10
            assert all(ref() is not None for ref in refs)
            doc.destroy()
            del doc
            alive = [ref() for ref in refs if ref() is not None]
            assert alive == []
        finally:
            gc.enable()

    def test_a_model_outlives_its_document_without_a_cycle(self) -> None:
        gc.collect()
        gc.disable()
        try:
            doc = Document()
            slider = Slider()
            doc.add_root(slider)
            doc_ref = weakref.ref(doc)
            del doc
            assert doc_ref() is None  # models hold their document weakly
            assert slider.document is None
        finally:
            gc.enable()
