"""Random documents and random edits survive the wire unchanged."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import itertools
import os
import sys
from typing import Any

import numpy as np
import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from docsync.document import Document, DocumentEvent, encode_events
from docsync.protocol import PATCH_DOC, Receiver, new_message, pull_doc_reply
from docsync.serialization import ALLOWED_DTYPES, Encoder

from .helpers import TstLeaf, TstNode, assert_docs_equal, frozen

# Bounded so that the suite stays fast; DOCSYNC_EXAMPLES=2000 searches harder.
SETTINGS = settings(
    max_examples=int(os.environ.get("DOCSYNC_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Lone surrogates cannot be encoded as UTF-8, so they cannot be in a text frame.
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
FLOATS = st.floats(allow_nan=True, allow_infinity=True)
INTS = st.integers(min_value=-(2**63), max_value=2**63 - 1)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    INTS,
    FLOATS,
    TEXT,
    st.binary(max_size=16),
    st.dates(),
    st.datetimes(timezones=st.one_of(st.none(), st.just(dt.UTC))),
)
KEYS = st.one_of(TEXT, INTS, st.tuples(INTS, TEXT), st.just("type"), st.just("id"))
DTYPES = [np.dtype(name) for name in sorted(ALLOWED_DTYPES)]
SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)

# Strategies are built once, at import: building them per draw costs more than drawing.
NATIVE_ARRAYS = st.one_of([hnp.arrays(dtype, SHAPES) for dtype in DTYPES])
ARRAYS = st.one_of(
    NATIVE_ARRAYS,
    st.one_of([hnp.arrays(dtype.newbyteorder(">"), SHAPES) for dtype in DTYPES if dtype.itemsize > 1]),
)


class Slot:
    """Stands for a model in a drawn value until the value is given models to use."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index


def _values(arrays: st.SearchStrategy[np.ndarray]) -> st.SearchStrategy[Any]:
    return st.recursive(
        st.one_of(SCALARS, arrays, st.builds(Slot, st.integers(0, 7))),
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.dictionaries(TEXT, inner, max_size=3),
            st.dictionaries(KEYS, inner, max_size=2),
            st.frozensets(st.one_of(INTS, TEXT), max_size=3),
        ),
        max_leaves=5,
    )


VALUES = _values(ARRAYS)
NATIVE_VALUES = _values(NATIVE_ARRAYS)


def filled(value: Any, models: list[Any]) -> Any:
    """Replace every Slot in ``value`` by one of ``models``."""
    if isinstance(value, Slot):
        return models[value.index % len(models)]
    if isinstance(value, list):
        return [filled(item, models) for item in value]
    if isinstance(value, dict):
        return {key: filled(item, models) for key, item in value.items()}
    return value


CELLS = st.one_of(FLOATS, TEXT, st.none(), INTS)
COLUMN = {
    length: st.one_of(
        st.one_of([hnp.arrays(dtype, length) for dtype in DTYPES]),
        st.lists(CELLS, min_size=length, max_size=length),
    )
    for length in range(5)
}
PAIRS = st.dictionaries(st.tuples(INTS, TEXT), FLOATS, max_size=3)
COLUMN_DATA = st.one_of([st.dictionaries(TEXT, column, max_size=3) for column in COLUMN.values()])


@functools.cache
def rows_of(dtype: np.dtype[Any] | None, count: int) -> st.SearchStrategy[Any]:
    """Rows that may join a column of ``dtype`` (None: a list column)."""
    if dtype is None:
        return st.lists(CELLS, min_size=count, max_size=count)
    return hnp.arrays(dtype, count)


@st.composite
def documents(draw: st.DrawFn) -> Document:
    """A random graph of TstNodes with cycles, random values, random roots."""
    count = draw(st.integers(1, 5))
    nodes = [TstNode(id=f"n{i}") for i in range(count)]
    leaves = [TstLeaf(id=f"l{i}", text="leaf") for i in range(2)]
    index = st.integers(0, count - 1)
    for node in nodes:
        if draw(st.booleans()):
            node.ref = nodes[draw(index)]
        node.refs = [nodes[i] for i in draw(st.lists(index, max_size=4))]
        node.maybe = draw(st.one_of(st.none(), index.map(nodes.__getitem__)))
        node.table = filled(draw(st.dictionaries(TEXT, VALUES, max_size=2)), nodes)
        node.blob = filled(draw(VALUES), [*nodes, *leaves])
        node.value = draw(FLOATS)
        node.label = draw(TEXT)
        node.count = draw(INTS)
        node.data = draw(COLUMN_DATA)
        node.pairs = draw(PAIRS)
    doc = Document(title=draw(TEXT))
    for i in draw(st.lists(index, min_size=1, max_size=3, unique=True)):
        doc.add_root(nodes[i])
    return doc


def through_frames(doc: Document) -> Document:
    data, buffers = doc.to_json()
    receiver = Receiver()
    message = None
    for frame in frozen(pull_doc_reply("1", data, buffers).to_frames()):
        message = receiver.receive(frame)
    assert message is not None
    return Document.from_json(message.content["doc"], dict(message.buffers))


@SETTINGS
@given(documents())
def test_random_documents_survive_frames(doc: Document) -> None:
    assert_docs_equal(doc, through_frames(doc))


@SETTINGS
@given(documents())
def test_random_documents_survive_json_text_in_base64(doc: Document) -> None:
    data, buffers = doc.to_json(encoder=Encoder(use_buffers=False))
    assert buffers == []
    assert_docs_equal(doc, Document.from_json(orjson.loads(orjson.dumps(data))))


@SETTINGS
@given(st.one_of(ARRAYS, hnp.arrays(st.sampled_from(DTYPES), hnp.array_shapes(min_dims=4, max_dims=8, max_side=2))))
def test_random_arrays_survive_frames(array: np.ndarray) -> None:
    doc = Document()
    doc.add_root(TstNode(id="holder", blob=array))
    copy = through_frames(doc)
    assert_docs_equal(doc, copy)
    received = copy.get_model_by_id("holder").blob  # type: ignore[union-attr]
    assert received.dtype.isnative and received.dtype.name == array.dtype.name


# -- random edits --------------------------------------------------------------------


def canonical(doc: Document) -> bytes:
    """Document JSON with every attribute (defaults too), arrays inline, models by id.

    Defaults are included because setting a property to the value it already has
    stores it without an event: the receiver may hold it implicitly instead.
    """
    encoder = Encoder(use_buffers=False)
    models = [
        {"type": type(m).__type_name__, "id": m.id, "attributes": encoder.encode(m.properties_with_values())}
        for m in sorted(doc.models.values(), key=lambda m: m.id)
    ]
    data = {"title": doc.title, "roots": [r.id for r in doc.roots], "models": models}

    def walk(value: Any) -> Any:
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            out = {k: walk(v) for k, v in value.items()}
            if out.get("type") == "ndarray" and out["order"] != sys.byteorder:
                # A foreign byte order arrives converted to the native one.
                dtype = np.dtype(out["dtype"]).newbyteorder(">" if out["order"] == "big" else "<")
                native = np.frombuffer(base64.b64decode(out["base64"]), dtype=dtype).astype(dtype.newbyteorder("="))
                out["base64"] = base64.b64encode(native.tobytes()).decode()
                out["order"] = sys.byteorder
            if out.get("type") == "set":
                out["entries"] = sorted(out["entries"], key=orjson.dumps)
            return out
        return value

    return orjson.dumps(walk(data))


class Editor:
    """Applies drawn edits to a live document, choosing targets among its models."""

    def __init__(self, doc: Document, draw: st.DrawFn) -> None:
        self.doc = doc
        self.draw = draw
        self.fresh = itertools.count()

    def nodes(self) -> list[TstNode]:
        return sorted((m for m in self.doc.models.values() if isinstance(m, TstNode)), key=lambda m: m.id)

    def candidates(self) -> list[TstNode]:
        """Models an edit may refer to: those of the document, or a new one."""
        return [*self.nodes(), TstNode(id=f"new{next(self.fresh)}", label="fresh")]

    def pick(self, items: list[Any]) -> Any:
        return items[self.draw(st.integers(0, len(items) - 1))]

    def some_node(self) -> TstNode:
        node: TstNode = self.pick(self.candidates())
        return node

    def value(self) -> Any:
        return filled(self.draw(VALUES), self.candidates())

    def edit(self) -> None:
        nodes = self.nodes()
        if not nodes:
            self.doc.add_root(self.some_node())
            return
        node = self.pick(nodes)
        ACTIONS[self.pick(ACTION_NAMES)](self, node)


def _list_edit(ed: Editor, node: TstNode) -> None:
    refs = node.refs
    kind = ed.pick(["append", "insert", "pop", "set", "del", "extend", "clear", "reverse"])
    if kind == "append":
        refs.append(ed.some_node())
    elif kind == "insert":
        refs.insert(ed.draw(st.integers(-3, 6)), ed.some_node())
    elif kind == "extend":
        refs.extend([ed.some_node() for _ in range(ed.draw(st.integers(0, 3)))])
    elif kind == "clear":
        refs.clear()
    elif kind == "reverse":
        refs.reverse()
    elif refs:
        i = ed.draw(st.integers(0, len(refs) - 1))
        if kind == "pop":
            refs.pop(i)
        elif kind == "set":
            refs[i] = ed.some_node()
        else:
            del refs[i : i + ed.draw(st.integers(0, 2))]


def _dict_edit(ed: Editor, node: TstNode) -> None:
    table = node.table
    kind = ed.pick(["set", "update", "del", "clear"])
    if kind == "set":
        table[ed.draw(TEXT)] = ed.value()
    elif kind == "update":
        table.update({ed.draw(TEXT): ed.value() for _ in range(ed.draw(st.integers(0, 2)))})
    elif kind == "clear":
        table.clear()
    elif table:
        del table[ed.pick(sorted(table))]


def _pairs_edit(ed: Editor, node: TstNode) -> None:
    pairs = node.pairs
    if pairs and ed.draw(st.booleans()):
        del pairs[ed.pick(sorted(pairs))]
    else:
        pairs.update(ed.draw(PAIRS))


def _rows(ed: Editor, column: Any, count: int) -> Any:
    return ed.draw(rows_of(column.dtype if isinstance(column, np.ndarray) else None, count))


def _column_edit(ed: Editor, node: TstNode) -> None:
    data = node.data
    kind = ed.pick(["replace", "column", "drop", "stream", "patch"])
    lengths = {len(c) for c in data.values()}
    if kind == "replace" or not data or len(lengths) != 1:
        node.data = ed.draw(COLUMN_DATA)
    elif kind == "column":
        length = lengths.pop()
        data[ed.draw(TEXT)] = ed.draw(COLUMN[length] if length in COLUMN else rows_of(None, length))
    elif kind == "drop":
        del data[ed.pick(sorted(data))]
    elif kind == "stream":
        count = ed.draw(st.integers(0, 3))
        rows = {name: _rows(ed, column, count) for name, column in data.items()}
        node.stream(rows, ed.draw(st.one_of(st.none(), st.integers(0, 8))))
    else:
        length = lengths.pop()
        if length == 0:
            return
        name = ed.pick(sorted(data))
        column = data[name]
        start = ed.draw(st.integers(0, length - 1))
        stop = ed.draw(st.integers(start, length))
        patches = [(start, _rows(ed, column, 1)[0]), (slice(start, stop), _rows(ed, column, stop - start))]
        node.patch({name: patches})


ACTIONS = {
    "value": lambda ed, n: setattr(n, "value", ed.draw(FLOATS)),
    "label": lambda ed, n: setattr(n, "label", ed.draw(TEXT)),
    "count": lambda ed, n: setattr(n, "count", ed.draw(INTS)),
    "ref": lambda ed, n: setattr(n, "ref", ed.some_node()),
    "maybe": lambda ed, n: setattr(n, "maybe", ed.some_node() if ed.draw(st.booleans()) else None),
    "blob": lambda ed, n: setattr(n, "blob", ed.value()),
    "refs": _list_edit,
    "refs_whole": lambda ed, n: setattr(n, "refs", [ed.some_node() for _ in range(ed.draw(st.integers(0, 3)))]),
    "table": _dict_edit,
    "pairs": _pairs_edit,
    "columns": _column_edit,
    "add_root": lambda ed, n: ed.doc.add_root(ed.some_node()),
    "remove_root": lambda ed, n: ed.doc.remove_root(ed.doc.roots[0]) if ed.doc.roots else None,
    "title": lambda ed, n: setattr(ed.doc, "title", ed.draw(TEXT)),
}
ACTION_NAMES = sorted(ACTIONS)


def send(source: Document, replica: Document, events: list[DocumentEvent]) -> None:
    """Encode as the server does, frame, receive, decode and apply to the replica."""
    encoder = Encoder()
    content = encode_events(events, encoder, source.models)
    receiver = Receiver()
    message = None
    for frame in frozen(new_message(PATCH_DOC, content, buffers=encoder.buffers).to_frames()):
        message = receiver.receive(frame)
    assert message is not None
    replica.apply_patch(replica.decode_patch(message.content, dict(message.buffers), setter="server"), setter="server")


@SETTINGS
@given(st.data())
def test_random_edits_reach_a_replica_one_event_at_a_time(data: st.DataObject) -> None:
    source = data.draw(documents())
    replica = through_frames(source)
    editor = Editor(source, data.draw)
    use_hold = data.draw(st.booleans())

    def forward(event: DocumentEvent) -> None:
        send(source, replica, [event])  # encoded when delivered, as the server does

    source.on_change(forward)
    for _ in range(data.draw(st.integers(1, 10))):
        if use_hold and data.draw(st.booleans()):
            source.hold()
            for _ in range(data.draw(st.integers(1, 4))):
                editor.edit()
            source.unhold()
        else:
            editor.edit()
    assert_docs_equal(source, replica)
    assert canonical(source) == canonical(replica)
