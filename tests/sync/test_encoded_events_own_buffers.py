"""Encoded events own what they send: no later write, by any path, changes their buffers.

Random edits of a source's columns (new columns from the app, from a received frame,
cells, slices, streams with and without rollover, the app writing into an array it
put in), each encoded as the server's log encodes it (``encode_event``) and as a
client's outbox does. After every step, every buffer encoded so far still holds the
bytes it had when encoded, none can be written through, and none shares memory with an
array that can be written (a column, the app's array). Before events froze their
buffers (they were views of live arrays), this failed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from docsync.document import Document, DocumentEvent, columns
from docsync.document.columns import column_made_here
from docsync.document.models import ColumnDataSource
from docsync.serialization import Buffer, Decoder
from docsync.sync.outbox import Outbox
from docsync.sync.patches import encode_event

ROWS = 8

values = st.floats(-1e6, 1e6, allow_nan=False)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("app column"), st.lists(values, min_size=ROWS, max_size=ROWS)),
        st.tuples(st.just("received column"), st.lists(values, min_size=ROWS, max_size=ROWS)),
        st.tuples(st.just("cell"), st.integers(0, ROWS - 1), values),
        st.tuples(st.just("slice"), st.integers(0, ROWS - 2), values),
        st.tuples(st.just("stream"), st.lists(values, min_size=1, max_size=3), st.sampled_from([None, ROWS])),
        st.tuples(st.just("app writes"), values),
        st.tuples(st.just("app writes the column"), values),
    ),
    min_size=1,
    max_size=25,
)


def _received(column: list[float]) -> np.ndarray:
    """A column as a client's frame brings it: a read-only view over the frame's bytes."""
    frame = np.asarray(column, dtype=np.float64).tobytes()
    description = {"type": "ndarray", "buffer": "0", "dtype": "float64", "shape": [len(column)], "order": "little"}
    array = Decoder(buffers={"0": frame}).decode(description)
    assert isinstance(array, np.ndarray) and not array.flags.writeable
    return array


def _apply(source: ColumnDataSource, step: tuple[Any, ...], apps: list[np.ndarray]) -> None:
    kind, *args = step
    if kind == "app column":
        mine = np.asarray(args[0], dtype=np.float64)
        apps.append(mine)  # the app keeps it
        source.data["y"] = mine
    elif kind == "received column":
        source.data["y"] = _received(args[0])
    elif kind == "cell":
        source.patch({"y": [(args[0], args[1])]})
    elif kind == "slice":
        source.patch({"y": [(slice(args[0], args[0] + 2), np.asarray([args[1], -args[1]]))]})
    elif kind == "stream":
        source.stream({"y": np.asarray(args[0], dtype=np.float64)}, rollover=args[1])
    elif kind == "app writes":  # into every array it put in: its own to change
        for mine in apps:
            mine[:] = args[0]
    elif kind == "app writes the column" and source.data["y"].flags.writeable:
        source.data["y"][0] = args[0]  # what the app may do to the document's column (no event)


def _writable_arrays(source: ColumnDataSource, apps: list[np.ndarray]) -> list[np.ndarray]:
    return [a for a in [*source.data.values(), *apps] if isinstance(a, np.ndarray) and a.flags.writeable]


def _check(held: list[tuple[str, Buffer, bytes]], writable: list[np.ndarray]) -> None:
    for what, buffer, encoded in held:
        assert bytes(buffer) == encoded, f"{what}: changed after it was encoded"
        view = np.frombuffer(buffer, dtype=np.uint8)
        assert not view.flags.writeable, f"{what}: writable ({type(buffer).__name__})"
        shared = [a for a in writable if np.shares_memory(view, a)]
        assert not shared, f"{what}: shares memory with a writable array {shared[0]!r:.60}"


@settings(max_examples=150, deadline=None)
@given(steps=steps)
def test_no_write_reaches_an_encoded_event(steps: list[tuple[Any, ...]]) -> None:
    document = Document()
    source = ColumnDataSource(data={"y": np.zeros(ROWS)})
    document.add_root(source)
    events: list[DocumentEvent] = []
    document.on_change(events.append)
    outbox = Outbox()
    apps: list[np.ndarray] = []
    held: list[tuple[str, Buffer, bytes]] = []
    for number, step in enumerate(steps):
        seen = len(events)
        _apply(source, step, apps)
        for event in events[seen:]:
            logged = encode_event(event, f"s{number}.", document.models)
            waiting = outbox.add(event, base=0, attached=document.models)
            for where, buffers in (("log", logged.buffers), ("outbox", waiting.buffers)):
                held += [(f"step {number} {step[0]}: {where} {i}", b, bytes(b)) for i, b in buffers]
        _check(held, _writable_arrays(source, apps))
    # Every step that sends an array did encode a buffer (what was checked above).
    assert held or not any(kind in ("app column", "received column", "slice", "stream") for kind, *_ in steps)


def test_a_column_made_here_is_patched_in_place_and_any_other_is_copied_first() -> None:
    """The cost side: after its first copy, a column takes later patches without another."""
    source = ColumnDataSource(data={"y": np.zeros(ROWS)})
    given_in = source.data["y"]
    source.patch({"y": [(0, 1.0)]})
    made = source.data["y"]
    assert made is not given_in and column_made_here(made) and not column_made_here(given_in)
    source.patch({"y": [(1, 2.0), (slice(2, 4), [3.0, 4.0])]})
    assert source.data["y"] is made
    assert made.tolist() == [1, 2, 3, 4, 0, 0, 0, 0] and given_in.tolist() == [0] * ROWS
    source.data["y"] = _received([5.0] * ROWS)
    source.patch({"y": [(0, 6.0)]})
    assert column_made_here(source.data["y"]) and source.data["y"].tolist() == [6] + [5] * (ROWS - 1)


def test_the_index_of_columns_made_forgets_the_freed_ones_and_never_takes_another_array_for_one() -> None:
    """Thousands of streamed columns freed one after another: the index stays bounded, and a freed
    column's id, once another array's, does not make that array one to patch in place."""
    source = ColumnDataSource(data={"y": np.zeros(2)})
    for _ in range(5000):  # each stream makes a column and frees the one it replaces
        source.stream({"y": np.ones(1)}, rollover=4)
    assert column_made_here(source.data["y"])
    assert len(columns._MADE) < 3 * columns._SWEEP_AT
    for _ in range(200):  # arrays made elsewhere, many at ids freed columns had: none is taken for one
        assert not any(column_made_here(a) for a in [np.zeros(4) for _ in range(50)])
