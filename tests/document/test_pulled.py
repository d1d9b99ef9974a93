"""Document.update_from_json: a pull laid over the document a client holds, keeping its models."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from docsync.document import (
    Document,
    DocumentEvent,
    ModelChangedEvent,
    RootAddedEvent,
    RootRemovedEvent,
    TitleChangedEvent,
)
from docsync.document.models import Column, ColumnDataSource, Div, Slider, TabPanel, Tabs
from docsync.document.pulled import PulledDocument
from docsync.exceptions import DeserializationError

from .helpers import TstLeaf, TstNode, assert_docs_equal, doc_json_bytes, own_buffers, recorded

SERVER = "server"


def pull(client: Document, server: Document) -> None:
    """Lay ``server``'s document over ``client``'s, as a client's pull does."""
    data, buffers = server.to_json()
    client.update_from_json(data, own_buffers(buffers), setter=SERVER)


def pulled(server: Document) -> Document:
    client = Document()
    pull(client, server)
    return client


def shown(events: list[DocumentEvent]) -> list[tuple[Any, ...]]:
    """Each event as (kind, model id or title, attr), with its setter."""
    out: list[tuple[Any, ...]] = []
    for event in events:
        model = getattr(event, "model", None)
        subject = model.id if model is not None else getattr(event, "title", None)
        out.append((event.kind, subject, getattr(event, "attr", None), event.setter))
    return out


def test_kept_models_are_the_objects_held_with_the_pulled_values() -> None:
    server = Document(title="t")
    slider, div = Slider(id="s", name="s", end=10), Div(id="d", text="a")
    server.add_root(Column(slider, div, id="c"))
    client = pulled(server)
    held = client.get_model_by_name("s")
    held_div, held_column = client.get_model_by_id("d"), client.get_model_by_id("c")
    assert held is not slider  # the client's own objects
    slider.value, div.text = 5, "b"
    pull(client, server)
    assert client.get_model_by_name("s") is held and client.get_model_by_id("d") is held_div
    assert client.roots == (held_column,) and held_column.children == [held, held_div]  # type: ignore[attr-defined]
    assert (held.value, held_div.text) == (5, "b")  # type: ignore[union-attr]
    assert held.document is client  # type: ignore[union-attr]
    assert_docs_equal(server, client)


def test_a_model_whose_id_names_another_type_is_built_anew() -> None:
    server = Document()
    server.add_root(TstLeaf(id="x", text="leaf"))
    client = pulled(server)
    held = client.get_model_by_id("x")
    held.on_change("text", lambda *args: pytest.fail("the replaced model reported a change"))  # type: ignore[union-attr]
    other = Document()
    other.add_root(Div(id="x", text="div"))
    with recorded(client) as events:
        pull(client, other)
    now = client.get_model_by_id("x")
    assert isinstance(now, Div) and now.text == "div" and now is not held
    assert held.document is None  # type: ignore[union-attr]
    assert client.roots == (now,)
    # A root removed, another added: the new object is no change of the old one.
    assert shown(events) == [("RootRemoved", "x", None, SERVER), ("RootAdded", "x", None, SERVER)]
    assert events[1].new_models == [now]


def test_models_no_longer_in_the_document_leave() -> None:
    server = Document()
    gone, stays = TstNode(id="gone"), TstNode(id="stays")
    root = TstNode(id="r", refs=[gone, stays])
    server.add_root(root)
    client = pulled(server)
    held_gone = client.get_model_by_id("gone")
    root.refs = [stays]
    with recorded(client) as events:
        pull(client, server)
    assert set(client.models) == {"r", "stays"}
    assert held_gone.document is None  # type: ignore[union-attr]
    assert client.departed_model("gone") is held_gone  # as after any removal, while held
    assert shown(events) == [("ModelChanged", "r", "refs", SERVER)]
    # A change of the model dropped reaches nothing.
    with recorded(client) as later:
        held_gone.label = "late"  # type: ignore[union-attr]
    assert later == []


def test_a_model_the_application_holds_out_of_the_document_is_built_in_place() -> None:
    # One object per id (as after a server patch's definition): a view the page took out
    # and kept is the object the pulled document holds, with the pulled values; before,
    # a second object was built and the page's stayed stale (convergence, seed 916366525).
    server = Document()
    card = TstNode(id="card", label="a", value=1.0)
    root = TstNode(id="r", refs=[card])
    server.add_root(root)
    client = pulled(server)
    held_root = client.get_model_by_id("r")
    taken = held_root.refs.pop()  # type: ignore[union-attr]
    taken.value = 5.0  # changed while out (noted by a client's outbox, to send on a put-back)
    taken.track_changes_out()
    taken.label = "written while out"
    card.label = "the server's"
    with recorded(client) as events:
        pull(client, server)
    assert client.get_model_by_id("card") is taken and held_root.refs == [taken]  # type: ignore[union-attr]
    assert (taken.label, taken.value) == ("the server's", 1.0)
    assert taken.changed_out() == []  # its values are the server's: none to send back
    assert_docs_equal(server, client)
    (change,) = [event for event in events if isinstance(event, ModelChangedEvent)]
    assert (change.attr, [m.id for m in change.new_models]) == ("refs", ["card"])  # attached, as one built


def test_references_point_at_the_kept_objects() -> None:
    server = Document()
    a, b = TstNode(id="a", value=1.0), TstNode(id="b", value=2.0)
    root = TstNode(id="r", refs=[a, b], maybe=a)
    server.add_root(root)
    client = pulled(server)
    held_a, held_b = client.get_model_by_id("a"), client.get_model_by_id("b")
    fresh = TstNode(id="c", maybe=TstNode(id="d"))
    root.refs = [b, a, fresh]
    root.maybe = b
    with recorded(client) as events:
        pull(client, server)
    held_root = client.get_model_by_id("r")
    refs = held_root.refs  # type: ignore[union-attr]
    assert refs[0] is held_b and refs[1] is held_a and held_root.maybe is held_b  # type: ignore[union-attr]
    built = refs[2]
    assert built is client.get_model_by_id("c") and built is not fresh
    assert built.maybe is client.get_model_by_id("d")
    assert set(client.models) == {"r", "a", "b", "c", "d"}
    assert_docs_equal(server, client)
    # The change that brings the new models in carries them, as a patch's would.
    by_attr = {event.attr: event for event in events if isinstance(event, ModelChangedEvent)}
    assert set(by_attr) == {"refs", "maybe"}
    assert sorted(m.id for m in by_attr["refs"].new_models) == ["c", "d"] and by_attr["maybe"].new_models == []


def test_title_and_roots_follow_the_pulled_document() -> None:
    server = Document(title="one")
    first, second = TstLeaf(id="first"), TstLeaf(id="second")
    server.add_root(first)
    server.add_root(second)
    client = pulled(server)
    held_second = client.get_model_by_id("second")
    server.remove_root(first)
    server.add_root(TstLeaf(id="third"))
    server.title = "two"
    with recorded(client) as events:
        pull(client, server)
    assert client.title == "two"
    assert [root.id for root in client.roots] == ["second", "third"] and client.roots[0] is held_second
    assert shown(events) == [
        ("TitleChanged", "two", None, SERVER),
        ("RootRemoved", "first", None, SERVER),
        ("RootAdded", "third", None, SERVER),
    ]
    assert [type(e) for e in events] == [TitleChangedEvent, RootRemovedEvent, RootAddedEvent]


def test_only_values_that_really_changed_are_reported() -> None:
    server = Document()
    slider = Slider(id="s", start=0, end=10, value=3, title="speed")
    source = ColumnDataSource(id="src", data={"x": np.array([1.0, np.nan, -0.0]), "y": [1, 2, 3]})
    div = Div(id="d", text="words")
    server.add_root(Column(slider, source, div, id="c"))
    client = pulled(server)
    held, held_source = client.get_model_by_id("s"), client.get_model_by_id("src")
    columns = held_source.data  # type: ignore[union-attr]
    calls: list[tuple[str, Any, Any]] = []
    for attr in ("value", "title", "start", "end"):
        held.on_change(attr, lambda attr, old, new: calls.append((attr, old, new)))  # type: ignore[union-attr]
    held_source.on_change("data", lambda attr, old, new: calls.append((attr, None, None)))  # type: ignore[union-attr]
    # The same document again: nothing to report, and the values held stay the objects held.
    with recorded(client) as events:
        pull(client, server)
    assert events == [] and calls == []
    assert held_source.data is columns  # type: ignore[union-attr]
    # One value changed, one back to its default (left out of the pulled definition).
    slider.value = 7
    data, buffers = server.to_json()
    (definition,) = [d for d in data["models"] if d["id"] == "d"]
    del definition["attributes"]["text"]
    with recorded(client) as events:
        client.update_from_json(data, own_buffers(buffers), setter=SERVER)
    changes = {(e.model.id, e.attr): (e.old, e.new, e.setter) for e in events}  # type: ignore[attr-defined]
    assert changes == {("s", "value"): (3, 7, SERVER), ("d", "text"): ("words", "", SERVER)}
    assert all(isinstance(e, ModelChangedEvent) for e in events) and len(events) == 2
    assert calls == [("value", 3, 7)]
    assert held_source.data is columns  # type: ignore[union-attr]
    # A column's -0.0 made 0.0 is a change (a receiver sees the sign).
    div.text = ""  # as the client holds it now
    source.data = {"x": np.array([1.0, np.nan, 0.0]), "y": [1, 2, 3]}
    with recorded(client) as events:
        pull(client, server)
    assert shown(events) == [("ModelChanged", "src", "data", SERVER)]
    assert calls[-1] == ("data", None, None) and held_source.data is not columns  # type: ignore[union-attr]


def test_a_kept_models_values_are_checked_against_the_pulled_ones() -> None:
    server = Document()
    tabs = Tabs(id="tabs", tabs=[TabPanel(id="p0", title="a")])
    server.add_root(tabs)
    client = pulled(server)
    held = client.get_model_by_id("tabs")
    # Two tabs more and the third active: against the one tab held, active 2 would be refused.
    tabs.tabs = [*tabs.tabs, TabPanel(id="p1"), TabPanel(id="p2")]
    tabs.active = 2
    pull(client, server)
    assert client.get_model_by_id("tabs") is held and held.active == 2  # type: ignore[union-attr]
    assert [panel.id for panel in held.tabs] == ["p0", "p1", "p2"]  # type: ignore[union-attr]


def _server_and_client() -> tuple[Document, Document]:
    server = Document(title="before")
    server.add_root(Column(Slider(id="s", value=1), Div(id="d", text="kept"), id="c"))
    server.add_root(ColumnDataSource(id="src", data={"x": np.arange(4.0)}))
    return server, pulled(server)


def _broken(data: dict[str, Any], how: str) -> dict[str, Any]:
    """``data`` changed everywhere it can be (title, values, a model more), then broken late, as ``how`` says."""
    definitions = [dict(d, attributes=dict(d["attributes"])) for d in data["models"]]
    by_id = {d["id"]: d for d in definitions}
    by_id["d"]["attributes"]["text"] = "changed"
    by_id["c"]["attributes"]["children"] = [{"id": "s"}, {"id": "d"}, {"id": "new"}]
    definitions.append({"type": "object", "name": "Div", "id": "new", "attributes": {"text": "new"}})
    roots = list(data["roots"])
    attrs = by_id["s"]["attributes"]
    if how == "bad value":
        attrs["value"] = 2.0
        attrs["title"] = 3  # after a good value of the same kept model
    elif how == "unknown property":
        attrs["value"] = 2.0
        attrs["no_such"] = 1
    elif how == "unknown reference":
        by_id["c"]["attributes"]["children"].append({"id": "nowhere"})
    elif how == "unknown type":
        definitions.append({"type": "object", "name": "NoSuchModel", "id": "z", "attributes": {}})
    elif how == "duplicate id":
        definitions.append(dict(by_id["d"]))
    elif how == "root not defined":
        roots.append({"id": "nowhere"})
    return {"title": "after", "roots": roots, "models": definitions}


@pytest.mark.parametrize(
    "how",
    ["bad value", "unknown property", "unknown reference", "unknown type", "duplicate id", "root not defined",
     "missing buffer"],
)  # fmt: skip
def test_a_document_that_cannot_be_read_leaves_the_one_held_as_it_was(how: str) -> None:
    server, client = _server_and_client()
    data, buffers = server.to_json()
    broken = _broken(data, how)
    good = _broken(data, "nothing")
    before = doc_json_bytes(client)
    models, roots = dict(client.models), client.roots
    values = {model_id: dict(model._values) for model_id, model in models.items()}
    with recorded(client) as events, pytest.raises(DeserializationError):
        # (The source's column travels in a buffer: "missing buffer" sends none.)
        client.update_from_json(broken, {} if how == "missing buffer" else own_buffers(buffers), setter=SERVER)
    assert events == []
    assert doc_json_bytes(client) == before and client.title == "before"
    assert dict(client.models) == models and client.roots == roots
    for model_id, model in models.items():
        assert model._values == values[model_id] and model.document is client
    # The same pull, not broken, goes through (the breakage is what was refused).
    client.update_from_json(good, own_buffers(buffers), setter=SERVER)
    assert client.title == "after" and client.get_model_by_id("d").text == "changed"  # type: ignore[union-attr]


def test_a_pulled_document_is_applied_and_reported_once() -> None:
    server, client = _server_and_client()
    data, buffers = server.to_json()
    update = PulledDocument.read(client, data, own_buffers(buffers))
    with pytest.raises(RuntimeError, match="reported once, after it is applied"):
        update.report()
    update.apply()
    with pytest.raises(RuntimeError, match="applied once"):
        update.apply()
    update.report()
    with pytest.raises(RuntimeError, match="reported once"):
        update.report()
