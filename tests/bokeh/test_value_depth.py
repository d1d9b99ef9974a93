"""A Bokeh app's values nest at most 128 JSON levels as Bokeh writes them back, however the app writes them.

No server here: a Bokeh document with ``compat.install_value_depth_bound`` (the dialect
installs it). Each way an app writes a value (set, built with its model, changed in place,
column data set or updated, rows streamed, cells patched) takes a value at the bound (a
pull of it encodes) and refuses one past it with ValueTooDeepError, the document
unchanged and nothing reported. The count is the one a client's patch is held to:
``value_depth.nests_deeper`` agrees with ``compat.BoundedDeserializer``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import orjson
import pytest

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")

from bokeh.core.property.bases import Property
from bokeh.core.property.descriptors import PropertyDescriptor
from bokeh.core.property.wrappers import PropertyValueColumnData
from bokeh.core.serialization import Serializer
from bokeh.document import Document
from bokeh.models import ColumnDataSource, Div

from docsync.bokeh import compat
from docsync.bokeh.compat import client_values
from docsync.bokeh.value_depth import MAX_VALUE_DEPTH, nests_deeper
from docsync.bokeh.wire import pull_reply
from docsync.exceptions import PatchError, ValueTooDeepError


@pytest.fixture(autouse=True, scope="module")
def _bound() -> Iterator[None]:
    """The bound installed, as the dialect installs it; afterwards Bokeh as it was."""
    installed = (
        Property.prepare_value,
        PropertyDescriptor._notify_mutated,
        PropertyValueColumnData._stream,
        PropertyValueColumnData._patch,
    )
    compat.install_value_depth_bound()
    yield
    Property.prepare_value, PropertyDescriptor._notify_mutated = installed[:2]  # type: ignore[method-assign]
    PropertyValueColumnData._stream, PropertyValueColumnData._patch = installed[2:]  # type: ignore[method-assign]


def lists(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


def objects(items: list[Any]) -> np.ndarray:
    """A 1-d ndarray of objects holding ``items`` as they are."""
    array = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        array[i] = item
    return array


def deserializer_refuses(value: Any, levels: int, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Whether a client's patch holding ``value`` (as Bokeh writes it) is refused at ``levels``."""
    monkeypatch.setattr(client_values, "MAX_VALUE_DEPTH", levels)
    rep = orjson.loads(orjson.dumps(Serializer(deferred=False).encode(value), option=orjson.OPT_PASSTHROUGH_DATACLASS))
    try:
        compat.BoundedDeserializer({}, setter=None, max_inflated=1 << 20)._decode(rep)
    except PatchError as exc:
        assert "nested deeper" in str(exc)
        return True
    return False


def random_value(rng: random.Random, budget: int) -> Any:
    if budget <= 0 or rng.random() < 0.25:
        return rng.choice([1, "s", None, 2.5, float("nan"), np.arange(3.0), b"xy"])
    items = [random_value(rng, budget - 1) for _ in range(rng.randrange(3))]
    kind = rng.randrange(5)
    if kind == 0:
        return items
    if kind == 1:
        return tuple(items)
    if kind == 2:
        return {f"k{i}": item for i, item in enumerate(items)}
    if kind == 3:  # (each item in a dict: Bokeh makes a ragged list of lists no array again)
        return objects([{"v": item} for item in items])
    return {1.5, "a"}


def test_it_counts_as_a_clients_patch_is_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(20261206)
    for _ in range(300):
        value = random_value(rng, 8)
        for levels in range(0, 26, 3):
            assert nests_deeper(value, levels) == deserializer_refuses(value, levels, monkeypatch), (value, levels)


def served() -> tuple[Document, Div, ColumnDataSource, list[Any]]:
    doc = Document()
    div = Div(text="target", tags=[1])
    source = ColumnDataSource(data={"x": [1.0, 2.0], "s": [[1], [2]]})
    doc.add_root(div)
    doc.add_root(source)
    events: list[Any] = []
    doc.on_change(events.append)
    return doc, div, source, events


Write = Callable[[Document, Div, ColumnDataSource, int], Any]

#: Each write leaves its property's value ``levels`` deep (column data: a map, three
#: levels, and a list column one more: its items are four levels down).
WRITES: dict[str, Write] = {
    "a property set": lambda doc, div, src, n: setattr(div, "tags", [lists(n - 1)]),
    "a model built": lambda doc, div, src, n: doc.add_root(Div(tags=[lists(n - 1)])),
    "a list appended to": lambda doc, div, src, n: div.tags.append(lists(n - 1)),
    "a list item replaced": lambda doc, div, src, n: div.tags.__setitem__(0, lists(n - 1)),
    "column data set": lambda doc, div, src, n: setattr(src, "data", {"x": [1.0], "s": [lists(n - 4)]}),
    "a column set": lambda doc, div, src, n: src.data.__setitem__("s", [lists(n - 4), [2]]),
    "columns updated": lambda doc, div, src, n: src.data.update(s=[lists(n - 4), [2]]),
    "rows streamed": lambda doc, div, src, n: src.stream({"x": [3.0], "s": [lists(n - 4)]}),
    "a cell patched": lambda doc, div, src, n: src.patch({"s": [(0, lists(n - 4))]}),
    "a slice patched": lambda doc, div, src, n: src.patch({"s": [(slice(0, 1), [lists(n - 4)])]}),
    # {"type": "ndarray", "array": [...]}: two levels, then the items.
    "an object column": lambda doc, div, src, n: setattr(src, "data", {"s": objects([lists(n - 5)])}),
}


@pytest.mark.parametrize("how", list(WRITES))
def test_a_value_at_the_bound_is_taken_and_one_past_it_refused_with_nothing_changed(how: str) -> None:
    doc, div, source, _ = served()
    WRITES[how](doc, div, source, MAX_VALUE_DEPTH)
    orjson.loads(pull_reply(doc, "r", inline=True).to_frames()[2])  # a pull encodes it, and parses

    doc, div, source, events = served()
    before = pull_reply(doc, "r", inline=True).to_frames()[2]
    with pytest.raises(ValueTooDeepError, match=r"value nested deeper than 128 JSON levels \(as Bokeh writes it\)$"):
        WRITES[how](doc, div, source, MAX_VALUE_DEPTH + 1)
    assert pull_reply(doc, "r", inline=True).to_frames()[2] == before
    assert events == []
