"""A document holds no value deeper than its clients decode (64 JSON levels as its property's value).

An application's value was taken at any depth: a column item of 63 nested lists made
the data 65 levels deep, every client refused the patch that carried it and every pull
after (``Decoder``: "value nested deeper than 64 levels"), as a restore of the snapshot
did. Each way a value comes in is bounded here: at the bound it is taken and a client
decodes the events and a pull; one level past, it raises ValidationError naming the
property, nothing is reported and the document is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from docsync.document import Document, Model
from docsync.document.models import ColumnDataSource, FactorRange
from docsync.document.properties import Any_, Dict, List, String
from docsync.exceptions import PatchError, ValidationError

from .helpers import TstNode, assert_docs_equal, doc_json_bytes, forwarding, json_roundtrip, recorded

BOUND = 64


def lists(levels: int) -> Any:
    """A value ``levels`` JSON levels deep."""
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


class DeepTable(Model):
    """Properties a browser may write whose values may nest without bound."""

    __client_writable__ = frozenset({"table", "items"})
    table = Dict(String(), Any_())
    items = List(Any_())


@dataclass
class Served:
    doc: Document
    node: TstNode
    factors: FactorRange
    received: list[Any]


def served() -> Served:
    doc = Document()
    node = TstNode(data={"x": [1.0], "s": [[1]]}, table={"a": 1}, blob=[1])
    factors = FactorRange(factors=["a"])
    doc.add_root(node)
    doc.add_root(factors)
    return Served(doc, node, factors, [])


Write = Callable[[Served, int], None]


@dataclass
class Case:
    """A write that leaves its property's value (or a message's data) ``levels`` deep, after ``setup``."""

    write: Write
    where: str
    setup: Write = lambda s, levels: None


CASES = {
    "a model made": Case(lambda s, n: s.doc.add_root(TstNode(blob=lists(n))), "TstNode.blob"),
    "a value set": Case(lambda s, n: setattr(s.node, "blob", lists(n)), "TstNode.blob"),
    "column data set": Case(lambda s, n: setattr(s.node, "data", {"x": [1.0], "s": [lists(n - 2)]}), "TstNode.data"),
    "a column set": Case(lambda s, n: s.node.data.__setitem__("s", [lists(n - 2)]), "TstNode.data"),
    "columns updated": Case(lambda s, n: s.node.data.update(s=[lists(n - 2)]), "TstNode.data"),
    "rows streamed": Case(
        lambda s, n: s.node.stream({"x": [2.0], "s": [lists(n - 2)]}), "TstNode.data: streamed column 's'"
    ),
    "a cell patched": Case(lambda s, n: s.node.patch({"s": [(0, lists(n - 2))]}), "TstNode.data: patch of column 's'"),
    "a slice patched": Case(
        lambda s, n: s.node.patch({"s": [(slice(0, 1), [lists(n - 2)])]}), "TstNode.data: patch of column 's'"
    ),
    "a list item appended": Case(lambda s, n: s.factors.factors.append(lists(n - 1)), "FactorRange.factors"),
    "a list item replaced": Case(lambda s, n: s.factors.factors.__setitem__(0, lists(n - 1)), "FactorRange.factors"),
    "a list extended": Case(lambda s, n: s.factors.factors.extend(["b", lists(n - 1)]), "FactorRange.factors"),
    "a dict entry set": Case(lambda s, n: s.node.table.__setitem__("b", lists(n - 1)), "TstNode.table"),
    # A "type" key makes the dict a map: every entry two levels deeper than it was.
    "a dict made a map": Case(
        lambda s, n: s.node.table.__setitem__("type", 1),
        "TstNode.table",
        lambda s, n: setattr(s.node, "table", {"a": lists(n - 3)}),
    ),
    # So does one "id" entry left alone.
    "a dict left one id": Case(
        lambda s, n: s.node.table.pop("b"),
        "TstNode.table",
        lambda s, n: setattr(s.node, "table", {"id": lists(n - 3), "b": 1}),
    ),
    "column data made a map": Case(
        lambda s, n: s.node.data.__setitem__("type", [1]),
        "TstNode.data",
        lambda s, n: setattr(s.node, "data", {"x": [1.0], "s": [lists(n - 4)]}),
    ),
    "column data left one id column": Case(
        lambda s, n: s.node.data.pop("x"),
        "TstNode.data",
        lambda s, n: setattr(s.node, "data", {"x": [1.0], "id": [lists(n - 4)]}),
    ),
    "a message sent": Case(lambda s, n: s.doc.send_message("deep", lists(n)), "message 'deep'"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_value_at_the_bound_is_decoded_and_one_past_is_refused_with_nothing_changed(case: str) -> None:
    write, where, setup = CASES[case].write, CASES[case].where, CASES[case].setup
    at = served()
    setup(at, BOUND)
    replica = json_roundtrip(at.doc)
    replica.on_message("deep", lambda event: at.received.append(event.msg_data))
    with forwarding(at.doc, replica):  # every event encoded, decoded and applied, as a client does
        write(at, BOUND)
    assert_docs_equal(json_roundtrip(at.doc), at.doc)  # a new client's pull
    assert_docs_equal(replica, at.doc)
    assert at.received == ([lists(BOUND)] if case == "a message sent" else [])

    past = served()
    setup(past, BOUND + 1)  # (within the bound until the write)
    before = doc_json_bytes(past.doc)
    with recorded(past.doc) as events, pytest.raises(ValidationError) as refused:
        write(past, BOUND + 1)
    assert str(refused.value) == f"{where} nested deeper than 64 JSON levels"
    assert events == []
    assert doc_json_bytes(past.doc) == before


def test_only_properties_whose_values_can_nest_past_the_bound_are_measured() -> None:
    assert TstNode.lookup("value").depth_bound == 1 and TstNode.lookup("refs").depth_bound == 2
    assert TstNode.lookup("pairs").depth_bound == 4
    assert TstNode.lookup("blob").depth_bound > BOUND
    assert TstNode.lookup("data").depth_bound == BOUND  # (its own check measures its columns)


def client_patch(doc: Document, model: Model, **event: Any) -> None:
    doc.apply_patch(doc.decode_patch({"events": [{"model": {"id": model.id}, **event}]}), from_client=True)


@pytest.mark.parametrize(
    ("event", "where"),
    [
        # Each value decoded alone is within the bound: a column (one level down in the
        # data), rows (the column's), a cell (two levels down), an entry of a dict that
        # is a map (three: the event's items are a plain object).
        ({"kind": "ColumnDataChanged", "attr": "data", "columns": {"s": [lists(63)]}}, "ColumnDataSource.data"),
        (
            {"kind": "ColumnsStreamed", "attr": "data", "data": {"x": [2.0], "s": [lists(63)]}},
            "streamed column 's'",
        ),
        ({"kind": "ColumnsPatched", "attr": "data", "patches": {"s": [[0, lists(63)]]}}, "patch of column 's'"),
        (
            {"kind": "DictItemsSet", "attr": "table", "items": {"a": lists(63)}},
            "DeepTable.table",
        ),
    ],
)
def test_a_clients_value_deeper_as_its_property_holds_it_than_as_it_came_is_refused(
    event: dict[str, Any], where: str
) -> None:
    doc = Document()
    source = ColumnDataSource(data={"x": [1.0], "s": [[1]]})
    table = DeepTable(table={"type": 1})
    doc.add_root(source)
    doc.add_root(table)
    before = doc_json_bytes(doc)
    with pytest.raises(PatchError, match=rf"^{where} nested deeper than 64 JSON levels$"):
        client_patch(doc, table if event["attr"] == "table" else source, **event)
    assert doc_json_bytes(doc) == before
