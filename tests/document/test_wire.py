from __future__ import annotations

from typing import Any

import numpy as np
import orjson
import pytest

from docsync.document import (
    ColumnDataChangedEvent,
    ColumnsPatchedEvent,
    ColumnsStreamedEvent,
    DecodedPatch,
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
    encode_events,
)
from docsync.document.models import Column, ColumnDataSource, Div
from docsync.document.properties import Dict, Float, Int, String, Tuple
from docsync.document.wire import model_definition
from docsync.exceptions import DeserializationError, PatchError, UnknownModelError
from docsync.protocol import PATCH_DOC, Receiver, new_message, pull_doc_reply
from docsync.serialization import Encoder

from .helpers import TstLeaf, TstNode, assert_docs_equal, frozen, json_roundtrip, recorded


def encoded(events: list[DocumentEvent], doc: Document | None = None) -> tuple[dict[str, Any], Encoder]:
    encoder = Encoder()
    content = encode_events(events, encoder, doc.models if doc is not None else None)
    orjson.dumps(content)
    return content, encoder


def setup() -> tuple[Document, TstNode, ColumnDataSource]:
    doc = Document()
    node = TstNode(id="n1", refs=[], table={"a": 1})
    source = ColumnDataSource(id="s1", data={"x": np.arange(4.0), "y": [1, 2, 3, 4]})
    doc.add_root(Column(node, source, id="c1"))
    return doc, node, source


class TestEventJson:
    def test_model_changed(self) -> None:
        doc, node, _ = setup()
        with recorded(doc) as events:
            node.value = float("inf")
        assert encoded(events)[0]["events"] == [
            {"kind": "ModelChanged", "model": {"id": "n1"}, "attr": "value", "new": {"type": "number", "value": "+inf"}}
        ]

    def test_model_changed_to_a_new_model_carries_its_definition(self) -> None:
        doc, node, _ = setup()
        leaf = TstLeaf(id="leaf", text="hi")
        with recorded(doc) as events:
            node.blob = leaf
        content, _ = encoded(events, doc)
        assert content["events"][0]["new"] == {"id": "leaf"}
        assert content["references"] == [
            {"type": "object", "name": "TstLeaf", "id": "leaf", "attributes": {"text": "hi"}}
        ]

    def test_column_data_changed(self) -> None:
        doc, _, source = setup()
        with recorded(doc) as events:
            source.data["y"] = np.array([5, 6, 7, 8], dtype=np.int32)
        content, encoder = encoded(events)
        assert content["events"] == [
            {
                "kind": "ColumnDataChanged",
                "model": {"id": "s1"},
                "attr": "data",
                "columns": {"y": {"type": "ndarray", "buffer": "0", "dtype": "int32", "shape": [4], "order": "little"}},
            }
        ]
        assert bytes(encoder.buffers[0][1]) == np.array([5, 6, 7, 8], dtype=np.int32).tobytes()

    def test_columns_streamed(self) -> None:
        doc, _, source = setup()
        with recorded(doc) as events:
            source.stream({"x": [9.0], "y": [9]}, rollover=3)
            source.stream({"x": [10.0], "y": [10]})
        content, encoder = encoded(events)
        first, second = content["events"]
        assert first == {
            "kind": "ColumnsStreamed",
            "model": {"id": "s1"},
            "attr": "data",
            "data": {
                "x": {"type": "ndarray", "buffer": "0", "dtype": "float64", "shape": [1], "order": "little"},
                "y": [9],
            },
            "rollover": 3,
        }
        assert second["rollover"] is None
        assert np.frombuffer(encoder.buffers[0][1], dtype=np.float64).tolist() == [9.0]

    def test_columns_patched_with_index_and_slice(self) -> None:
        doc, _, source = setup()
        with recorded(doc) as events:
            source.patch({"y": [(0, 7), (slice(1, None, 2), [8, 9])]})
        assert encoded(events)[0]["events"] == [
            {
                "kind": "ColumnsPatched",
                "model": {"id": "s1"},
                "attr": "data",
                "patches": {"y": [[0, 7], [{"type": "slice", "start": 1, "stop": 4, "step": 2}, [8, 9]]]},
            }
        ]

    def test_list_spliced(self) -> None:
        doc, node, _ = setup()
        leaf = TstNode(id="new")
        with recorded(doc) as events:
            node.refs.append(leaf)
        content, _ = encoded(events, doc)
        assert content["events"] == [
            {
                "kind": "ListSpliced",
                "model": {"id": "n1"},
                "attr": "refs",
                "index": 0,
                "delete": 0,
                "items": [{"id": "new"}],
            }
        ]
        assert [r["id"] for r in content["references"]] == ["new"]

    def test_dict_items_set_and_deleted(self) -> None:
        doc, node, _ = setup()
        with recorded(doc) as events:
            node.table["b"] = {1, 2}
            node.table.update({"type": None})
            del node.table["a"]
        first, second, third = encoded(events)[0]["events"]
        assert first == {
            "kind": "DictItemsSet",
            "model": {"id": "n1"},
            "attr": "table",
            "items": {"b": {"type": "set", "entries": [1, 2]}},
        }
        assert second["items"] == {"type": "map", "entries": [["type", None]]}
        assert third == {"kind": "DictItemsDeleted", "model": {"id": "n1"}, "attr": "table", "keys": ["a"]}

    def test_roots_and_title(self) -> None:
        doc = Document()
        leaf = TstLeaf(id="r")
        with recorded(doc) as events:
            doc.add_root(leaf)
            doc.title = "T"
            doc.remove_root(leaf)
        content, _ = encoded(events)
        assert content["events"] == [
            {"kind": "RootAdded", "model": {"id": "r"}},
            {"kind": "TitleChanged", "title": "T"},
            {"kind": "RootRemoved", "model": {"id": "r"}},
        ]
        assert [r["id"] for r in content["references"]] == ["r"]  # no index given: every new model

    def test_message_sent(self) -> None:
        doc, node, _ = setup()
        with recorded(doc) as events:
            doc.send_message("toast", {"n": float("nan")})
            doc.send_message("poke", [1], model=node)
        assert encoded(events)[0]["events"] == [
            {"kind": "MessageSent", "msg_type": "toast", "msg_data": {"n": {"type": "number", "value": "nan"}}},
            {"kind": "MessageSent", "msg_type": "poke", "msg_data": [1], "model": {"id": "n1"}},
        ]

    def test_model_definition(self) -> None:
        node = TstNode(id="q", label="x", refs=[TstNode(id="l")])
        assert model_definition(node, Encoder()) == {
            "type": "object",
            "name": "TstNode",
            "id": "q",
            "attributes": {"label": "x", "refs": [{"id": "l"}]},
        }


class TestReferences:
    def test_models_detached_later_and_unreferenced_are_left_out(self) -> None:
        doc, node, _ = setup()
        with recorded(doc) as events:
            node.blob = TstLeaf(id="gone")
            node.blob = None
        content, _ = encoded(events[1:], doc)
        assert content["references"] == []

    def test_models_detached_later_but_referenced_are_kept(self) -> None:
        doc, node, _ = setup()
        with recorded(doc) as events:
            node.blob = TstNode(id="outer", ref=TstNode(id="inner"))
            node.blob = None
        content, _ = encoded(events[:1], doc)
        assert sorted(r["id"] for r in content["references"]) == ["inner", "outer"]

    def test_each_definition_once(self) -> None:
        _, node, _ = setup()
        shared = TstLeaf(id="shared")
        event_a = ModelChangedEvent(node, "blob", None, shared, new_models=[shared])
        event_b = ModelChangedEvent(node, "blob", None, shared, new_models=[shared])
        assert [r["id"] for r in encoded([event_a, event_b])[0]["references"]] == ["shared"]


def receive(message_frames: list[Any]) -> Any:
    receiver = Receiver()
    result = None
    for frame in frozen(message_frames):
        result = receiver.receive(frame)
    assert result is not None
    return result


class TestDecodeAndApply:
    def test_every_event_kind_round_trips_through_frames(self) -> None:
        doc, node, source = setup()
        doc.on_message("hello", lambda event: None)
        replica = json_roundtrip(doc)
        with recorded(doc) as events:
            node.value = 2.5
            node.refs.append(TstNode(id="x1", label="new"))
            node.refs.insert(0, node)
            del node.refs[1]
            node.table["k"] = [1, None]
            del node.table["a"]
            source.data["x"] = np.linspace(0, 1, 4)
            source.stream({"x": np.array([7.0]), "y": [7]}, rollover=4)
            source.patch({"x": [(slice(0, 2), [0.5, 0.25])], "y": [(3, 70)]})
            doc.add_root(TstLeaf(id="root2"))
            doc.remove_root(doc.roots[0])
            doc.title = "changed"
            doc.send_message("hello", {"a": 1})
        assert {type(e) for e in events} == {
            ModelChangedEvent,
            ListSplicedEvent,
            DictItemsSetEvent,
            DictItemsDeletedEvent,
            ColumnDataChangedEvent,
            ColumnsStreamedEvent,
            ColumnsPatchedEvent,
            RootAddedEvent,
            RootRemovedEvent,
            TitleChangedEvent,
            MessageSentEvent,
        }
        for event in events:
            encoder = Encoder()
            content = encode_events([event], encoder, doc.models)
            message = receive(new_message(PATCH_DOC, content, buffers=encoder.buffers).to_frames())
            patch = replica.decode_patch(message.content, dict(message.buffers), setter="server")
            assert isinstance(patch, DecodedPatch)
            assert [type(e) for e in patch.events] == [type(event)]
            assert patch.events[0].setter == "server"
            replica.apply_patch(patch, setter="server")
        assert_docs_equal(doc, replica)

    def test_whole_document_through_frames(self) -> None:
        doc, _, _ = setup()
        data, buffers = doc.to_json()
        message = receive(pull_doc_reply("9", data, buffers).to_frames())
        assert message.reqid == "9"
        assert_docs_equal(doc, Document.from_json(message.content["doc"], dict(message.buffers)))

    def test_decoding_applies_nothing(self) -> None:
        doc, node, _ = setup()
        doc.decode_patch({"events": [{"kind": "ModelChanged", "model": {"id": "n1"}, "attr": "value", "new": 9.0}]})
        assert node.value == 0.0

    def test_references_may_point_at_each_other_and_at_known_models(self) -> None:
        doc, node, _ = setup()
        content = {
            "events": [{"kind": "ModelChanged", "model": {"id": "n1"}, "attr": "ref", "new": {"id": "a"}}],
            "references": [
                {"type": "object", "name": "TstNode", "id": "a", "attributes": {"ref": {"id": "b"}}},
                {
                    "type": "object",
                    "name": "TstNode",
                    "id": "b",
                    "attributes": {"ref": {"id": "a"}, "maybe": {"id": "n1"}},
                },
            ],
        }
        patch = doc.decode_patch(content)
        assert set(patch.new_models) == {"a", "b"}
        doc.apply_patch(patch)
        assert node.ref.id == "a" and node.ref.ref.id == "b" and node.ref.ref.maybe is node
        assert {"a", "b"} <= set(doc.models)

    @pytest.mark.parametrize(
        ("content", "error", "message"),
        [
            ([], DeserializationError, r"patch content must be an object with an 'events' list"),
            ({"events": {}}, DeserializationError, r"patch content must be an object with an 'events' list"),
            ({"events": [5]}, DeserializationError, r"event must be an object, got 5"),
            (
                {"events": [{"kind": "Frobnicated", "model": {"id": "n1"}, "attr": "x"}]},
                PatchError,
                r"unknown event kind 'Frobnicated'",
            ),
            # The kind is judged before the model: unknown, it refuses the patch even when
            # the model is unknown too (which alone would make the event lose).
            (
                {"events": [{"kind": "Frobnicated", "model": {"id": "zz"}}]},
                PatchError,
                r"unknown event kind 'Frobnicated'",
            ),
            ({"events": [{"attr": "value", "new": 1}]}, PatchError, r"unknown event kind None"),
            ({"events": [{"kind": 5, "model": {"id": "n1"}}]}, PatchError, r"unknown event kind 5"),
            (
                {"events": [{"kind": "ModelChanged", "attr": "value", "new": 1}]},
                DeserializationError,
                r"event without a model reference",
            ),
            (
                {"events": [{"kind": "ModelChanged", "model": "n1", "attr": "value"}]},
                DeserializationError,
                r"event without a model reference",
            ),
            (
                {"events": [{"kind": "ModelChanged", "model": {"id": "zz"}, "attr": "value", "new": 1}]},
                UnknownModelError,
                r"unknown model id 'zz'",
            ),
            (
                {"events": [{"kind": "ModelChanged", "model": {"id": "n1"}, "attr": 5, "new": 1}]},
                DeserializationError,
                r"event field 'attr' must be a string, got 5",
            ),
            (
                {"events": [{"kind": "ModelChanged", "model": {"id": "n1"}, "attr": "blob", "new": {"id": "zz"}}]},
                UnknownModelError,
                r"unknown model id 'zz'",
            ),
            (
                {"events": [{"kind": "TitleChanged", "title": None}]},
                DeserializationError,
                r"event field 'title' must be a string",
            ),
            (
                {"events": [{"kind": "MessageSent", "msg_type": 3}]},
                DeserializationError,
                r"event field 'msg_type' must be a string",
            ),
            (
                {
                    "events": [
                        {
                            "kind": "ColumnsStreamed",
                            "model": {"id": "s1"},
                            "attr": "data",
                            "data": {"x": [1.0], "y": [1]},
                            "rollover": "3",
                        }
                    ]
                },
                DeserializationError,
                r"invalid rollover '3'",
            ),
            (
                {"events": [{"kind": "ColumnsStreamed", "model": {"id": "s1"}, "attr": "data", "data": [1]}]},
                DeserializationError,
                r"data must be an object of columns",
            ),
            (
                {"events": [{"kind": "ColumnDataChanged", "model": {"id": "s1"}, "attr": "data", "columns": None}]},
                DeserializationError,
                r"columns must be an object of columns",
            ),
            (
                {"events": [{"kind": "ColumnsPatched", "model": {"id": "s1"}, "attr": "data", "patches": []}]},
                DeserializationError,
                r"patches must be an object of columns",
            ),
            (
                {
                    "events": [
                        {"kind": "ColumnsPatched", "model": {"id": "s1"}, "attr": "data", "patches": {"x": [[0]]}}
                    ]
                },
                DeserializationError,
                r"patches of column 'x' must be \[index, value\] pairs",
            ),
            (
                {
                    "events": [
                        {"kind": "ColumnsPatched", "model": {"id": "s1"}, "attr": "data", "patches": {"x": [["0", 1]]}}
                    ]
                },
                DeserializationError,
                r"invalid patch index '0'",
            ),
            (
                {
                    "events": [
                        {
                            "kind": "ColumnsPatched",
                            "model": {"id": "s1"},
                            "attr": "data",
                            "patches": {"x": [[{"type": "slice", "start": "a"}, []]]},
                        }
                    ]
                },
                DeserializationError,
                r"invalid slice",
            ),
            (
                {
                    "events": [
                        {
                            "kind": "ListSpliced",
                            "model": {"id": "n1"},
                            "attr": "refs",
                            "index": "0",
                            "delete": 0,
                            "items": [],
                        }
                    ]
                },
                DeserializationError,
                r"invalid ListSpliced event",
            ),
            (
                {
                    "events": [
                        {
                            "kind": "ListSpliced",
                            "model": {"id": "n1"},
                            "attr": "refs",
                            "index": 0,
                            "delete": 0,
                            "items": {},
                        }
                    ]
                },
                DeserializationError,
                r"invalid ListSpliced event",
            ),
            (
                {"events": [{"kind": "DictItemsSet", "model": {"id": "n1"}, "attr": "table", "items": [1]}]},
                DeserializationError,
                r"DictItemsSet items must be a map",
            ),
            (
                {"events": [{"kind": "DictItemsDeleted", "model": {"id": "n1"}, "attr": "table", "keys": "a"}]},
                DeserializationError,
                r"DictItemsDeleted keys must be a list",
            ),
            ({"events": [], "references": {}}, DeserializationError, r"model definitions must be a list"),
            (
                {"events": [], "references": [{"type": "object", "name": "TstLeaf", "id": "n1"}]},
                DeserializationError,
                r"duplicate model id 'n1'",
            ),
            (
                {"events": [], "references": [{"type": "object", "name": "Nope", "id": "q"}]},
                DeserializationError,
                r"unknown model type 'Nope'",
            ),
            (
                {
                    "events": [],
                    "references": [{"type": "object", "name": "TstLeaf", "id": "q", "attributes": {"text": 1}}],
                },
                DeserializationError,
                r"TstLeaf.text expected a string, got 1",
            ),
            (
                {
                    "events": [],
                    "references": [{"type": "object", "name": "TstLeaf", "id": "q", "attributes": {"nope": 1}}],
                },
                DeserializationError,
                r"TstLeaf has no property 'nope'",
            ),
        ],
    )
    def test_malformed_content_is_refused(self, content: Any, error: type[Exception], message: str) -> None:
        doc, _, _ = setup()
        with pytest.raises(error, match=message):
            doc.decode_patch(content)

    def test_missing_buffer_in_a_patch(self) -> None:
        doc, _, _ = setup()
        event = {
            "kind": "ColumnDataChanged",
            "model": {"id": "s1"},
            "attr": "data",
            "columns": {"x": {"type": "ndarray", "buffer": "7", "dtype": "float64", "shape": [4], "order": "little"}},
        }
        with pytest.raises(DeserializationError, match="missing buffer '7'"):
            doc.decode_patch({"events": [event]}, {})
        with pytest.raises(DeserializationError, match="ndarray too large"):
            doc.decode_patch({"events": [event]}, {"7": b"\0" * 32}, max_array_elements=3)

    def test_too_many_new_models(self) -> None:
        from docsync.document.wire import decode_patch

        doc, _, _ = setup()
        refs = [{"type": "object", "name": "TstLeaf", "id": f"m{i}"} for i in range(5)]
        with pytest.raises(DeserializationError, match=r"too many models: 5 > 4"):
            decode_patch({"events": [], "references": refs}, doc.models, {}, max_new_models=4)

    def test_keep_known_skips_definitions_of_models_held(self) -> None:
        # A correction defines every model its value reaches: a client keeps those it
        # holds (same id and type), builds the others; without keep_known a held id is a duplicate.
        doc, node, _ = setup()
        content = {
            "events": [
                {"kind": "ModelChanged", "model": {"id": "c1"}, "attr": "children", "new": [{"id": "n1"}, {"id": "q"}]}
            ],
            "references": [
                {"type": "object", "name": "TstNode", "id": "n1", "attributes": {"label": "stale"}},
                {"type": "object", "name": "TstLeaf", "id": "q", "attributes": {"text": "back"}},
            ],
        }
        decoded = doc.decode_patch(content, keep_known=True)
        assert set(decoded.new_models) == {"q"}
        doc.apply_patch(decoded)
        assert doc.roots[0].children[0] is node and node.label != "stale"  # type: ignore[attr-defined]
        assert doc.get_model_by_id("q").text == "back"  # type: ignore[union-attr]
        with pytest.raises(DeserializationError, match="duplicate model id 'n1'"):
            doc.decode_patch(content)
        # Another type under a held id is no model this client holds: a duplicate still.
        clash = {"events": [], "references": [{"type": "object", "name": "TstLeaf", "id": "n1"}]}
        with pytest.raises(DeserializationError, match="duplicate model id 'n1'"):
            doc.decode_patch(clash, keep_known=True)

    def test_div_roundtrip_via_patch(self) -> None:
        doc = Document()
        column = Column()
        doc.add_root(column)
        replica = json_roundtrip(doc)
        with recorded(doc) as events:
            column.children.append(Div(text="<b>not html</b>"))
        encoder = Encoder()
        replica.apply_patch(replica.decode_patch(encode_events(events, encoder, doc.models)))
        assert replica.roots[0].children[0].text == "<b>not html</b>"  # type: ignore[attr-defined]
        assert isinstance(replica.roots[0].children[0], Div)


def test_a_root_added_and_removed_while_held_still_carries_its_definition() -> None:
    doc = Document()
    doc.add_root(TstLeaf())
    replica = json_roundtrip(doc)
    with recorded(doc) as events:
        doc.hold()
        transient = TstNode(id="transient")
        doc.add_root(transient)
        doc.remove_root(transient)
        doc.unhold()
    for event in events:
        encoder = Encoder()
        content = encode_events([event], encoder, doc.models)
        replica.apply_patch(replica.decode_patch(content))
    assert_docs_equal(doc, replica)


class TstKeyed(Model):
    pairs = Dict(Tuple(Int(), String()), Float())


def test_tuple_keys_survive_set_and_delete() -> None:
    doc = Document()
    keyed = TstKeyed(pairs={(1, "a"): 1.0, (2, "b"): 2.0})
    doc.add_root(keyed)
    replica = json_roundtrip(doc)
    with recorded(doc) as events:
        keyed.pairs[(3, "c")] = 3.0
        del keyed.pairs[(1, "a")]
    content, _ = encoded(events)
    assert content["events"][1]["keys"] == [[1, "a"]]
    replica.apply_patch(replica.decode_patch(orjson.loads(orjson.dumps(content))))
    assert replica.roots[0].pairs == {(2, "b"): 2.0, (3, "c"): 3.0}  # type: ignore[attr-defined]
