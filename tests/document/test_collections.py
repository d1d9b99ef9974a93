from __future__ import annotations

import copy
import gc
import pickle
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from docsync.document import (
    ColumnDataChangedEvent,
    DictItemsDeletedEvent,
    DictItemsSetEvent,
    Document,
    DocumentEvent,
    ListSplicedEvent,
    Model,
    ModelChangedEvent,
)
from docsync.document.collections import ColumnDataDict, TrackedDict, TrackedList
from docsync.document.models import ColumnDataSource
from docsync.document.properties import Dict, Float, Int, List, String
from docsync.exceptions import ValidationError


class TstBag(Model):
    numbers = List(Int())
    scores = Dict(String(), Float())


@pytest.fixture
def bag() -> tuple[TstBag, list[DocumentEvent], Document]:
    doc = Document()
    model = TstBag(numbers=[0, 1, 2, 3, 4], scores={"a": 1.0, "b": 2.0})
    doc.add_root(model)
    events: list[DocumentEvent] = []
    doc.on_change(events.append)
    return model, events, doc


def splice(event: DocumentEvent) -> tuple[int, int, list[Any]]:
    assert isinstance(event, ListSplicedEvent)
    assert event.attr == "numbers"
    return event.index, event.delete, event.items


LIST_EDITS: list[tuple[str, Callable[[list[Any]], Any], tuple[int, int, list[Any]]]] = [
    ("append", lambda xs: xs.append(9), (5, 0, [9])),
    ("extend", lambda xs: xs.extend([7, 8]), (5, 0, [7, 8])),
    ("iadd", lambda xs: xs.__iadd__([7]), (5, 0, [7])),
    ("insert", lambda xs: xs.insert(1, 9), (1, 0, [9])),
    ("insert negative", lambda xs: xs.insert(-1, 9), (4, 0, [9])),
    ("insert past end", lambda xs: xs.insert(100, 9), (5, 0, [9])),
    ("insert before start", lambda xs: xs.insert(-100, 9), (0, 0, [9])),
    ("pop", lambda xs: xs.pop(), (4, 1, [])),
    ("pop index", lambda xs: xs.pop(1), (1, 1, [])),
    ("remove", lambda xs: xs.remove(3), (3, 1, [])),
    ("clear", lambda xs: xs.clear(), (0, 5, [])),
    ("setitem", lambda xs: xs.__setitem__(2, 9), (2, 1, [9])),
    ("setitem negative", lambda xs: xs.__setitem__(-1, 9), (4, 1, [9])),
    ("set slice", lambda xs: xs.__setitem__(slice(1, 3), [7, 8, 9]), (1, 2, [7, 8, 9])),
    ("set empty slice", lambda xs: xs.__setitem__(slice(2, 2), [7]), (2, 0, [7])),
    ("delitem", lambda xs: xs.__delitem__(0), (0, 1, [])),
    ("del slice", lambda xs: xs.__delitem__(slice(1, 4)), (1, 3, [])),
    ("del open slice", lambda xs: xs.__delitem__(slice(3, None)), (3, 2, [])),
]


class TestTrackedList:
    @pytest.mark.parametrize(("name", "edit", "expected"), LIST_EDITS, ids=[e[0] for e in LIST_EDITS])
    def test_edit_makes_one_splice(
        self, bag: Any, name: str, edit: Callable[[list[Any]], Any], expected: tuple[int, int, list[Any]]
    ) -> None:
        model, events, _ = bag
        plain = [0, 1, 2, 3, 4]
        edit(plain)
        edit(model.numbers)
        assert model.numbers == plain
        assert len(events) == 1
        assert splice(events[0]) == expected
        assert events[0].model is model

    @pytest.mark.parametrize(
        ("name", "edit"),
        [
            ("sort", lambda xs: xs.sort(reverse=True)),
            ("reverse", lambda xs: xs.reverse()),
            ("imul", lambda xs: xs.__imul__(2)),
            ("extended slice", lambda xs: xs.__setitem__(slice(None, None, 2), [7, 8, 9])),
            ("del extended slice", lambda xs: xs.__delitem__(slice(None, None, 2))),
        ],
    )
    def test_reordering_edits_replace_the_whole_list(
        self, bag: Any, name: str, edit: Callable[[list[Any]], Any]
    ) -> None:
        model, events, _ = bag
        plain = [0, 1, 2, 3, 4]
        edit(plain)
        edit(model.numbers)
        assert model.numbers == plain
        (event,) = events
        assert isinstance(event, ModelChangedEvent)
        assert event.attr == "numbers" and list(event.new) == plain
        assert isinstance(model.numbers, TrackedList)

    @pytest.mark.parametrize(
        ("name", "edit"),
        [
            ("append", lambda xs: xs.append("x")),
            ("extend", lambda xs: xs.extend([5, 1.5])),
            ("insert", lambda xs: xs.insert(0, None)),
            ("setitem", lambda xs: xs.__setitem__(0, "0")),
            ("set slice", lambda xs: xs.__setitem__(slice(0, 2), [1, True])),
            ("iadd", lambda xs: xs.__iadd__(["a"])),
        ],
    )
    def test_bad_items_are_refused_leaving_the_list_unchanged(
        self, bag: Any, name: str, edit: Callable[[list[Any]], Any]
    ) -> None:
        model, events, _ = bag
        with pytest.raises(ValidationError, match=r"^TstBag\.numbers expected a list of an int, got "):
            edit(model.numbers)
        assert model.numbers == [0, 1, 2, 3, 4]
        assert events == []

    def test_out_of_range_index_raises_index_error(self, bag: Any) -> None:
        model, events, _ = bag
        with pytest.raises(IndexError):
            model.numbers[5] = 1
        with pytest.raises(IndexError):
            model.numbers.pop(10)
        with pytest.raises(ValueError):
            model.numbers.remove(42)
        assert model.numbers == [0, 1, 2, 3, 4] and events == []

    def test_items_are_validated_and_normalised(self) -> None:
        class TstFloats(Model):
            values = List(Float())

        model = TstFloats()
        model.values.append(1)
        assert model.values == [1.0] and type(model.values[0]) is float

    def test_a_list_assigned_is_tracked(self, bag: Any) -> None:
        model, events, _ = bag
        model.numbers = [1]
        model.numbers.append(2)
        assert [type(e) for e in events] == [ModelChangedEvent, ListSplicedEvent]
        assert splice(events[1]) == (1, 0, [2])

    def test_edits_without_document_still_validate_and_apply(self) -> None:
        model = TstBag()
        model.numbers.append(1)
        assert model.numbers == [1]
        with pytest.raises(ValidationError):
            model.numbers.append("x")

    def test_detached_from_a_dead_model_behaves_as_a_plain_list(self) -> None:
        model = TstBag(numbers=[1])
        numbers = model.numbers
        del model
        gc.collect()
        numbers.append("anything")
        numbers[0] = None
        del numbers[1]
        assert list(numbers) == [None]

    def test_pickles_and_copies_as_a_plain_list(self) -> None:
        numbers = TstBag(numbers=[1, 2]).numbers
        assert type(pickle.loads(pickle.dumps(numbers))) is list
        assert type(copy.copy(numbers)) is list
        assert copy.deepcopy(numbers) == [1, 2]

    def test_plain_list_equality(self) -> None:
        assert TstBag(numbers=[1, 2]).numbers == [1, 2]
        assert isinstance(TstBag().numbers, list)


class TestTrackedDict:
    def test_setitem(self, bag: Any) -> None:
        model, events, _ = bag
        model.scores["c"] = 3
        (event,) = events
        assert isinstance(event, DictItemsSetEvent)
        assert (event.model, event.attr, event.items) == (model, "scores", {"c": 3.0})
        assert model.scores == {"a": 1.0, "b": 2.0, "c": 3.0}

    def test_update_is_one_event(self, bag: Any) -> None:
        model, events, _ = bag
        model.scores.update({"a": 5}, z=6)
        (event,) = events
        assert isinstance(event, DictItemsSetEvent) and event.items == {"a": 5.0, "z": 6.0}

    def test_ior(self, bag: Any) -> None:
        model, events, _ = bag
        scores = model.scores
        scores |= {"q": 1.0}
        assert model.scores["q"] == 1.0
        assert isinstance(events[0], DictItemsSetEvent)

    def test_setdefault(self, bag: Any) -> None:
        model, events, _ = bag
        assert model.scores.setdefault("a", 9.0) == 1.0
        assert events == []
        assert model.scores.setdefault("n", 9.0) == 9.0
        assert isinstance(events[0], DictItemsSetEvent) and events[0].items == {"n": 9.0}

    @pytest.mark.parametrize(
        ("name", "edit", "keys"),
        [
            ("delitem", lambda d: d.__delitem__("a"), ["a"]),
            ("pop", lambda d: d.pop("b"), ["b"]),
            ("popitem", lambda d: d.popitem(), ["b"]),
            ("clear", lambda d: d.clear(), ["a", "b"]),
        ],
    )
    def test_deletions(self, bag: Any, name: str, edit: Callable[[dict[str, Any]], Any], keys: list[str]) -> None:
        model, events, _ = bag
        edit(model.scores)
        (event,) = events
        assert isinstance(event, DictItemsDeletedEvent)
        assert (event.model, event.attr, event.keys) == (model, "scores", keys)
        assert set(model.scores) == {"a", "b"} - set(keys)

    def test_missing_keys(self, bag: Any) -> None:
        model, events, _ = bag
        with pytest.raises(KeyError):
            del model.scores["zz"]
        with pytest.raises(KeyError):
            model.scores.pop("zz")
        assert model.scores.pop("zz", None) is None
        model.scores.clear()
        events.clear()
        with pytest.raises(KeyError):
            model.scores.popitem()
        model.scores.clear()  # clearing an empty dict sends nothing
        model.scores.update({})
        assert events == []

    @pytest.mark.parametrize(
        ("name", "edit"),
        [
            ("bad value", lambda d: d.__setitem__("x", "high")),
            ("bad key", lambda d: d.__setitem__(1, 1.0)),
            ("bad update", lambda d: d.update({"x": 1.0, "y": None})),
        ],
    )
    def test_bad_entries_are_refused_leaving_the_dict_unchanged(
        self, bag: Any, name: str, edit: Callable[[dict[Any, Any]], Any]
    ) -> None:
        model, events, _ = bag
        with pytest.raises(ValidationError, match=r"^TstBag\.scores expected a dict of a string to a float, got "):
            edit(model.scores)
        assert model.scores == {"a": 1.0, "b": 2.0}
        assert events == []

    def test_pickles_as_a_plain_dict(self) -> None:
        scores = TstBag(scores={"a": 1.0}).scores
        assert type(pickle.loads(pickle.dumps(scores))) is dict
        assert isinstance(scores, TrackedDict)


class TestColumnDataDict:
    def test_replacing_a_column_sends_only_that_column(self) -> None:
        doc = Document()
        source = ColumnDataSource(data={"x": np.arange(3.0), "y": [1, 2, 3]})
        doc.add_root(source)
        events: list[DocumentEvent] = []
        doc.on_change(events.append)
        assert isinstance(source.data, ColumnDataDict)
        new_x = np.ones(3)
        source.data["x"] = new_x
        (event,) = events
        assert isinstance(event, ColumnDataChangedEvent)
        assert event.attr == "data" and list(event.columns) == ["x"] and event.columns["x"] is new_x

    def test_deleting_a_column(self) -> None:
        doc = Document()
        source = ColumnDataSource(data={"x": [1], "y": [2]})
        doc.add_root(source)
        events: list[DocumentEvent] = []
        doc.on_change(events.append)
        del source.data["y"]
        (event,) = events
        assert isinstance(event, DictItemsDeletedEvent) and event.keys == ["y"]
        assert list(source.data) == ["x"]

    def test_bad_column_refused(self) -> None:
        source = ColumnDataSource(data={"x": [1]})
        with pytest.raises(ValidationError, match=r"^ColumnDataSource\.data expected a dict of column name"):
            source.data["y"] = np.array([object()])
        with pytest.raises(ValidationError):
            source.data[3] = [1]  # type: ignore[index]
        assert source.data == {"x": [1]}
