"""Shared by the document tests: test models, wire round trips, structural equality."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import orjson

from docsync.document import Document, DocumentEvent, Model, encode_events
from docsync.document.models import ColumnDataSource
from docsync.document.properties import (
    Any_,
    ColumnData,
    Dict,
    Float,
    Instance,
    Int,
    List,
    Nullable,
    String,
    Tuple,
)
from docsync.serialization import Buffer, Encoder


class TstNode(Model):
    """A model with one property of each shape the random graphs need."""

    __client_writable__ = frozenset({"value", "label"})
    __client_events__ = frozenset({"poke"})
    ref = Instance("TstNode")
    refs = List(Instance("TstNode"))
    table = Dict(String(), Any_())
    blob = Any_()
    value = Float()
    label = String()
    count = Int()
    data = ColumnData()
    maybe = Nullable(Instance("TstNode"))
    pairs = Dict(Tuple(Int(), String()), Float())

    # Streams and patches of ``data``, exactly as a ColumnDataSource does them.
    stream = ColumnDataSource.stream
    patch = ColumnDataSource.patch


class TstLeaf(Model):
    """A model without references."""

    text = String()


def frozen(frames: list[Any]) -> list[Any]:
    """Copy binary frames to bytes, as a network would: no memory shared with the sender."""
    return [bytes(f) if isinstance(f, bytes | bytearray | memoryview) else f for f in frames]


def own_buffers(buffers: list[tuple[str, Buffer]]) -> dict[str, bytes]:
    """Copy encoded buffers to bytes keyed by id."""
    return {buffer_id: bytes(data) for buffer_id, data in buffers}


def doc_json_bytes(doc: Document) -> bytes:
    """Return the whole document as JSON bytes, arrays inline (base64)."""
    data, buffers = doc.to_json(encoder=Encoder(use_buffers=False))
    assert buffers == []
    return orjson.dumps(data)


def json_roundtrip(doc: Document) -> Document:
    """Document -> JSON text + buffers -> Document, without the protocol layer."""
    data, buffers = doc.to_json()
    text = orjson.dumps(data)
    return Document.from_json(orjson.loads(text), own_buffers(buffers))


def sync_event(source: Document, replica: Document, events: list[DocumentEvent]) -> None:
    """Encode ``events`` as the server would, then decode and apply them to ``replica``."""
    encoder = Encoder()
    content = encode_events(events, encoder, source.models)
    content = orjson.loads(orjson.dumps(content))
    patch = replica.decode_patch(content, own_buffers(encoder.buffers))
    replica.apply_patch(patch)


@contextmanager
def forwarding(source: Document, replica: Document) -> Iterator[None]:
    """Send each event of ``source`` to ``replica`` when it is reported, as a server does."""

    def forward(event: DocumentEvent) -> None:
        sync_event(source, replica, [event])

    source.on_change(forward)
    try:
        yield
    finally:
        source.remove_on_change(forward)


@contextmanager
def recorded(doc: Document) -> Iterator[list[DocumentEvent]]:
    """Collect the events ``doc`` delivers while the block runs."""
    events: list[DocumentEvent] = []
    doc.on_change(events.append)
    try:
        yield events
    finally:
        doc.remove_on_change(events.append)


def _same_value(a: Any, b: Any, path: str) -> None:
    if isinstance(a, Model) or isinstance(b, Model):
        assert isinstance(a, Model) and isinstance(b, Model), f"{path}: {a!r} != {b!r}"
        assert (type(a).__type_name__, a.id) == (type(b).__type_name__, b.id), path
        return
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        assert isinstance(a, np.ndarray) and isinstance(b, np.ndarray), f"{path}: {a!r} vs {b!r}"
        native_a = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("="))
        native_b = np.ascontiguousarray(b, dtype=b.dtype.newbyteorder("="))
        assert native_a.dtype == native_b.dtype, f"{path}: {a.dtype} != {b.dtype}"
        assert native_a.shape == native_b.shape, f"{path}: {a.shape} != {b.shape}"
        assert native_a.tobytes() == native_b.tobytes(), f"{path}: array bytes differ"
        return
    if isinstance(a, float) and isinstance(b, float):
        assert (math.isnan(a) and math.isnan(b)) or a == b, f"{path}: {a!r} != {b!r}"
        return
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        assert len(a) == len(b), f"{path}: length {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same_value(x, y, f"{path}[{i}]")
        return
    if isinstance(a, dict) and isinstance(b, dict):
        assert set(a) == set(b), f"{path}: keys {set(a)!r} != {set(b)!r}"
        for key in a:
            _same_value(a[key], b[key], f"{path}[{key!r}]")
        return
    if isinstance(a, set | frozenset) and isinstance(b, set | frozenset):
        # Sets travel as sets: a frozenset value comes back as a set, like a tuple as a list.
        assert a == b, f"{path}: {a!r} != {b!r}"
        return
    if isinstance(a, bytes | bytearray | memoryview) and isinstance(b, bytes | bytearray | memoryview):
        assert bytes(a) == bytes(b), path
        return
    if isinstance(a, dt.date) or isinstance(b, dt.date):
        assert type(a) is type(b) and a == b, f"{path}: {a!r} != {b!r}"
        return
    assert type(a) is type(b) and a == b, f"{path}: {a!r} != {b!r}"


def assert_same_value(a: Any, b: Any) -> None:
    """Assert structural equality: NaN equals NaN, arrays by dtype, shape and bytes."""
    _same_value(a, b, "value")


def assert_docs_equal(a: Document, b: Document) -> None:
    """Assert that two documents hold the same title, roots and models, structurally."""
    assert a.title == b.title
    assert [r.id for r in a.roots] == [r.id for r in b.roots]
    assert set(a.models) == set(b.models)
    for model_id, model in a.models.items():
        other = b.models[model_id]
        assert type(model).__type_name__ == type(other).__type_name__
        _same_value(
            model.properties_with_values(),
            other.properties_with_values(),
            f"{type(model).__type_name__}({model_id})",
        )
