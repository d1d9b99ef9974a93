"""``plain_copy``: what a Decoder makes of a short list or object of plain values, made without one."""

from __future__ import annotations

from typing import Any

import pytest

from docsync.serialization import Decoder
from docsync.serialization.decoder import plain_copy

VALUES: list[Any] = [
    [], {}, [1, 2.5, "x", None, True], {"a": 1, "b": None, "c": "s"}, [1] * 31, {str(i): i for i in range(31)},
    [1] * 32, {str(i): i for i in range(32)}, [[1]], [{"a": 1}], {"a": [1]}, {"id": "m"}, {"id": "m", "b": 1},
    {"type": "number", "value": "nan"}, {"type": "nonsense"}, 1, "x", None, (1, 2), {1, 2},
]  # fmt: skip


def _resolve(model_id: str) -> Any:
    return ("model", model_id)


@pytest.mark.parametrize("owned", [False, True])
@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_plain_copy_is_what_a_decoder_makes_or_none(value: Any, owned: bool) -> None:
    copied = plain_copy(value)
    if copied is None:
        return
    decoder = Decoder({}, resolve_ref=_resolve, owned=owned)
    decoded = decoder.decode(value)
    assert type(copied) is type(decoded) and copied == decoded and list(copied) == list(decoded)
    assert copied is not value and decoded is not value  # a copy, as the decoder's: the message's stays its own
    assert not decoder.plain_lists  # nothing taken as it is: no plain_lists to carry either


def test_plain_copy_takes_short_plain_containers_only() -> None:
    assert plain_copy([1, None, "x"]) == [1, None, "x"]
    assert plain_copy({"a": 1}) == {"a": 1}
    refused: list[Any] = [[1] * 32, [[1]], {"id": "m"}, {"type": "map", "entries": []}, {"a": {}}, 1, None, (1,)]
    for value in refused:
        assert plain_copy(value) is None
