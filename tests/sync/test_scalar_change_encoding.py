"""encode_event's shortcut for a ModelChanged to a scalar gives what the general encoding gives.

The shortcut (no Encoder, no references walked) is taken for most changes a client
makes: a slider's value. Every field of the EncodedEvent must match the general path's,
byte for byte, including the values the wire cannot carry (a lone surrogate).
"""

from __future__ import annotations

from typing import Any

import pytest

from docsync.document import ModelChangedEvent
from docsync.document.models import Slider, TextInput
from docsync.document.wire import event_json
from docsync.serialization import Encoder
from docsync.sync.outbox import Outbox
from docsync.sync.patches import encode_event

from .general_encoding import general_encoding


@pytest.mark.parametrize(
    "value",
    [0, -1, 2**63 - 1, -(2**63), 2**64 - 1, 1.5, -0.0, 1e300, True, False, None, "", "é€😀", 'a"b\\c\n', "\ud800"],
)
@pytest.mark.parametrize("setter", ["client-1", None, object()])
def test_scalar_change_encodes_as_the_general_path(value: Any, setter: Any) -> None:
    model: Any = TextInput() if isinstance(value, str) or value is None else Slider(start=0, end=10)
    attr = "value"
    event = ModelChangedEvent(model, attr, None, value, setter)
    assert encode_event(event, "1.0.", {model.id: model}) == general_encoding(event)


@pytest.mark.parametrize("value", [2**64, -(2**63) - 1, float("nan"), float("inf"), float("-inf")])
def test_values_outside_the_shortcut_take_the_general_path(value: Any) -> None:
    model = Slider(start=0, end=10)
    event = ModelChangedEvent(model, "value", None, value, "client-1")
    if isinstance(value, int):
        with pytest.raises(Exception, match="64 bits"):
            encode_event(event, "1.0.", {model.id: model})
    else:
        encoded = encode_event(event, "1.0.", {model.id: model})
        expected = "nan" if value != value else ("+inf" if value > 0 else "-inf")
        assert encoded.json["new"] == {"type": "number", "value": expected}


@pytest.mark.parametrize(
    "value",
    [0, 2**63 - 1, -(2**63), 1.5, -0.0, True, None, "", "é", "\ud800", 2**64, float("nan"), float("-inf"), [1.5]],
)
def test_outbox_entry_of_a_scalar_is_the_general_one(value: Any) -> None:
    model: Any = TextInput() if isinstance(value, str) or value is None else Slider(start=0, end=10)
    event = ModelChangedEvent(model, "value", None, value, "client-1")
    outbox = Outbox()
    earlier = outbox.add(ModelChangedEvent(model, "value", None, 0.5), base=3, attached={model.id: model})
    try:
        expected: Any = event_json(event, Encoder(buffer_prefix="c2."))
    except Exception as exc:  # the general path's refusal is the shortcut's too
        with pytest.raises(type(exc), match="64 bits"):
            outbox.add(event, base=3, attached={model.id: model})
        assert outbox.entries == (earlier,)
        return
    entry = outbox.add(event, base=3, attached={model.id: model})
    assert (entry.json, entry.key, entry.references, entry.buffers, entry.base) == (
        expected,
        (model.id, "value"),
        [],
        [],
        3,
    )
    assert outbox.entries == (entry,)  # the earlier value of the property is superseded
