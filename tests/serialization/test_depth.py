"""``nests_deeper`` says of a Python value what the Decoder says of it once encoded: too deep or not."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import numpy as np
import orjson
import pytest

from docsync.exceptions import DeserializationError
from docsync.serialization import MAX_VALUE_DEPTH, Decoder, Encoder, nests_deeper


class Ref:
    """A stand-in model: written as a reference ``{"id": ...}``."""

    __docsync_ref__ = True

    def __init__(self, model_id: str) -> None:
        self.id = model_id


def decoder_refuses(value: Any, levels: int) -> bool:
    """Whether a Decoder of ``max_depth=levels`` refuses ``value`` (as the Encoder writes it) for its depth."""
    encoder = Encoder()
    text = orjson.dumps(encoder.encode(value))
    buffers = {buffer_id: bytes(data) for buffer_id, data in encoder.buffers}
    decoder = Decoder(buffers, resolve_ref=Ref, max_depth=levels)
    try:
        decoder.decode(orjson.loads(text))
    except DeserializationError as exc:
        assert "nested deeper" in str(exc), exc
        return True
    return False


def nested(count: int, leaf: Any, wrap: Any) -> Any:
    value = leaf
    for _ in range(count):
        value = wrap(value)
    return value


def hashable(value: Any) -> Any:
    """``value`` as a key or set entry can hold it (lists as tuples, sets as frozensets)."""
    if isinstance(value, list | tuple):
        return tuple(hashable(item) for item in value)
    if isinstance(value, set | frozenset):
        return frozenset(hashable(item) for item in value)
    if isinstance(value, dict | np.ndarray):
        return (1, 2)  # (cannot be a key: as deep as a short tuple)
    return value


_WRAPS = {
    "list": lambda v: [v],
    "tuple": lambda v: (1, v),
    "object": lambda v: {"a": v, "b": 1},
    "map by a type key": lambda v: {"type": v},
    "map by its one id key": lambda v: {"id": v},
    "map by an int key": lambda v: {1: v},
    "map by a tuple key": lambda v: {(1, 2): v},
    "map's key": lambda v: {(1, hashable(v)): 1},
    "set": lambda v: {hashable(v), 3},
}
_LEAVES = [
    1,
    "s",
    None,
    True,
    2.5,
    float("nan"),
    float("-inf"),
    np.float64("nan"),
    np.int64(3),
    np.arange(3.0),
    b"xy",
    dt.datetime(2026, 12, 6, 12),
    dt.date(2026, 12, 6),
    dt.time(12),
    Ref("m1"),
    [],
    {},
    [1.0, float("nan")],
    [[1, 2], [3, float("nan")]],
    [np.arange(2)],
    {"x": np.arange(2), "y": [1.0, 2.0]},
]


@pytest.mark.parametrize("wrap", list(_WRAPS))
@pytest.mark.parametrize("leaf", range(len(_LEAVES)))
def test_it_agrees_with_the_decoder_around_the_bound(wrap: str, leaf: int) -> None:
    value = nested(5, _LEAVES[leaf], _WRAPS[wrap])
    for levels in range(0, 20):
        assert nests_deeper(value, levels) == decoder_refuses(value, levels), (wrap, _LEAVES[leaf], levels)


def random_value(rng: random.Random, budget: int) -> Any:
    """A random value of every kind the Encoder writes, ``budget`` levels at most."""
    if budget <= 0 or rng.random() < 0.2:
        return rng.choice(_LEAVES[:15])
    kind = rng.randrange(7)
    items = [random_value(rng, budget - 1) for _ in range(rng.randrange(4))]
    if kind == 0:
        return items
    if kind == 1:
        return tuple(items)
    if kind == 2:
        return {f"k{i}": item for i, item in enumerate(items)}
    if kind == 3:
        return {i: item for i, item in enumerate(items)}
    if kind == 4:
        return {"id": items[0]} if items else {"id": 1}
    if kind == 5:
        return [[1.0, 2.0]] * 40 + items  # lines: the walk's bulk pass
    return {(1, 2), "a", frozenset({1})}


def test_it_agrees_with_the_decoder_on_random_values() -> None:
    rng = random.Random(20261206)
    for _ in range(400):
        value = random_value(rng, 12)
        for levels in range(0, 16):
            assert nests_deeper(value, levels) == decoder_refuses(value, levels), (value, levels)


@pytest.mark.parametrize("wrap", ["list", "object", "map by an int key", "set"])
def test_the_bound_is_the_decoders_default(wrap: str) -> None:
    deepest = next(
        nested(count, 1, _WRAPS[wrap]) for count in range(200) if nests_deeper(nested(count + 1, 1, _WRAPS[wrap]))
    )
    assert not nests_deeper(deepest) and Decoder().decode(orjson.loads(orjson.dumps(Encoder().encode(deepest))))
    assert nests_deeper(_WRAPS[wrap](deepest)) and decoder_refuses(_WRAPS[wrap](deepest), MAX_VALUE_DEPTH)


def test_at_counts_the_levels_above_the_value() -> None:
    value = nested(63, 1, _WRAPS["list"])
    assert not nests_deeper(value) and not nests_deeper(value, at=1)
    assert nests_deeper(value, at=2)


def test_a_cycle_is_too_deep_not_endless() -> None:
    loop: list[Any] = []
    loop.append(loop)
    assert nests_deeper(loop)
