"""encode_event's shortcut for a splice of strings, or dict items of plain values: what the general encoding gives.

The shortcut (no Encoder, no event_json) is taken for most splices (a list of tags)
and dict items (counts, labels) the server records. Every field of the EncodedEvent
must match the general path's, byte for byte, and what the shortcut does not take
(a model, a number the wire writes as a typed value, a key read as a type or a
reference, a lone surrogate) goes the general way, with its refusals.
"""

from __future__ import annotations

from typing import Any

import pytest

from docsync.document import events as ev
from docsync.document.models import Slider
from docsync.sync import patches
from docsync.sync.patches import EncodedEvent, encode_event

from .general_encoding import general_encoding


def _fields(encoded: EncodedEvent) -> tuple[Any, ...]:
    # (The JSON's value types too: 1 and 1.0, True and 1 compare equal.)
    types = [type(v) for v in encoded.json.get("items", ())] if encoded.json["kind"] == "ListSpliced" else []
    if encoded.json["kind"] == "DictItemsSet":
        types = [type(v) for v in encoded.json["items"].values()]
    return (*(getattr(encoded, name) for name in EncodedEvent.__slots__), types)  # type: ignore[attr-defined]


SPLICED: list[list[Any]] = [
    [],
    ["a"],
    ["a", "b", "é€😀", 'a"b\\c\n', ""],
    ["x"] * 40,
    ["\ud800"],
    ["a", 1],
    [1.5],
    [None],
]
ITEMS: list[dict[Any, Any]] = [
    {},
    {"a": 1},
    {"a": 1, "b": -0.0, "c": True, "d": None, "e": "é", "f": 2**63 - 1, "g": -(2**63), "h": 1e300},
    {"id": 1},
    {"id": 1, "b": 2},
    {"type": "x"},
    {"a": float("nan")},
    {"a": float("inf")},
    {"a": [1, 2]},
    {"a": {"b": 1}},
    {1: "a"},
    {"a": "\ud800"},
    {"\ud800": 1},
]


@pytest.mark.parametrize("items", SPLICED)
@pytest.mark.parametrize("setter", ["client-1", None, object()])
def test_a_splice_encodes_as_the_general_path(items: list[Any], setter: Any) -> None:
    event = ev.ListSplicedEvent(Slider(), "tags", 0, 1, items, setter)
    assert _fields(encode_event(event, "1.0.", {})) == _fields(general_encoding(event))


@pytest.mark.parametrize("items", ITEMS)
@pytest.mark.parametrize("setter", ["client-1", None])
def test_dict_items_encode_as_the_general_path(items: dict[Any, Any], setter: Any) -> None:
    event = ev.DictItemsSetEvent(Slider(), "tags", items, setter)
    assert _fields(encode_event(event, "1.0.", {})) == _fields(general_encoding(event))


@pytest.mark.parametrize("value", [2**64, -(2**63) - 1])
def test_an_int_past_64_bits_is_refused_as_before(value: int) -> None:
    for event in (
        ev.DictItemsSetEvent(Slider(), "tags", {"a": value}),
        ev.ListSplicedEvent(Slider(), "tags", 0, 0, [value]),
    ):
        with pytest.raises(Exception, match="64 bits"):
            encode_event(event, "1.0.", {})


def test_strings_and_plain_items_take_no_encoder(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_encoder(**_: Any) -> Any:
        raise AssertionError("an Encoder was made")

    monkeypatch.setattr(patches, "Encoder", no_encoder)
    model = Slider()
    spliced = encode_event(ev.ListSplicedEvent(model, "tags", 0, 0, ["a", "b"], "c"), "1.0.", {})
    assert (
        spliced.data
        == b'{"kind":"ListSpliced","model":{"id":"%b"},"attr":"tags","index":0,"delete":0,"items":["a","b"]}'
        % model.id.encode()
    )
    assert encode_event(ev.DictItemsSetEvent(model, "tags", {"a": 1, "b": "x"}, "c"), "1.0.", {}).keys == (
        (model.id, "tags", "a"),
        (model.id, "tags", "b"),
    )
