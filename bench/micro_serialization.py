"""Micro-benchmark: a 1,000,000-row float64 column through encode, frames and decode.

Run ``python bench/micro_serialization.py``; it prints a table. Goals (issue 2):
bytes on the wire within 1% of the raw array bytes, no base64, and encode+frame time
within 2x of a bare ``arr.tobytes()``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from docsync.document import Document, encode_events
from docsync.document.models import ColumnDataSource
from docsync.protocol import PATCH_DOC, Receiver, frame_nbytes, new_message, pull_doc_reply
from docsync.serialization import Encoder

ROWS = 1_000_000


def median_seconds(func: Callable[[], Any], runs: int) -> float:
    """Return the median wall time of ``runs`` calls (after one warm-up call)."""
    func()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def build_document(column: np.ndarray) -> Document:
    doc = Document(title="bench")
    doc.add_root(ColumnDataSource(data={"x": column}))
    return doc


def encode_document(doc: Document) -> list[Any]:
    """Document -> document JSON + buffers -> PULL-DOC-REPLY frames."""
    data, buffers = doc.to_json()
    return pull_doc_reply("1", data, buffers).to_frames()


def decode_document(frames: list[Any]) -> Document:
    """Frames -> Receiver -> Message -> Document."""
    receiver = Receiver()
    message = None
    for frame in frames:
        message = receiver.receive(frame)
    assert message is not None
    return Document.from_json(message.content["doc"], dict(message.buffers))


def encode_stream(source: ColumnDataSource, rows: np.ndarray) -> list[Any]:
    """A ColumnsStreamed event of ``rows`` -> PATCH-DOC frames."""
    doc = source.document
    events: list[Any] = []
    doc.on_change(events.append)
    source.stream({"x": rows}, rollover=ROWS)
    doc.remove_on_change(events.append)
    encoder = Encoder()
    content = encode_events(events, encoder, doc.models)
    return new_message(PATCH_DOC, content, buffers=encoder.buffers).to_frames()


def as_received(frames: list[Any]) -> list[Any]:
    """Binary frames as a websocket library hands them over: bytes of their own."""
    return [bytes(f) if not isinstance(f, str) else f for f in frames]


def row(name: str, value: str, goal: str = "", verdict: str = "") -> str:
    return f"{name:<44} {value:>16}  {goal:<14} {verdict}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=21, help="timed runs per figure (median)")
    args = parser.parse_args()

    column = np.random.default_rng(0).standard_normal(ROWS)
    raw = column.nbytes
    doc = build_document(column)

    frames = encode_document(doc)
    wire = sum(frame_nbytes(f) for f in frames)
    text = "".join(f for f in frames if isinstance(f, str))
    uses_base64 = "base64" in text
    received = as_received(frames)
    copy = decode_document(received)
    assert np.array_equal(copy.roots[0].data["x"], column)  # type: ignore[attr-defined]

    t_tobytes = median_seconds(column.tobytes, args.runs)
    t_encode = median_seconds(lambda: encode_document(doc), args.runs)
    t_decode = median_seconds(lambda: decode_document(received), args.runs)

    source = doc.roots[0]
    assert isinstance(source, ColumnDataSource)
    new_rows = np.arange(ROWS, dtype=np.float64)
    stream_frames = encode_stream(source, new_rows)
    stream_wire = sum(frame_nbytes(f) for f in stream_frames)
    t_stream = median_seconds(lambda: encode_stream(source, new_rows), max(3, args.runs // 4))

    overhead = wire / raw - 1
    ratio = t_encode / t_tobytes
    print(f"docsync micro-benchmark: one ColumnDataSource, {ROWS:,} float64 rows ({raw:,} bytes)")
    print(f"median of {args.runs} runs\n")
    print(row("figure", "value", "goal", "verdict"))
    print("-" * 84)
    print(row("bytes on the wire", f"{wire:,}"))
    print(row("  vs raw array bytes", f"+{overhead:.4%}", "within 1%", "ok" if overhead <= 0.01 else "MISSED"))
    print(row("  base64 used", str(uses_base64), "no", "ok" if not uses_base64 else "MISSED"))
    print(row("frames in the message", str(len(frames))))
    print(row("arr.tobytes()", f"{t_tobytes * 1e3:.3f} ms"))
    print(row("to_json + encode + to_frames", f"{t_encode * 1e3:.3f} ms"))
    print(row("  vs arr.tobytes()", f"{ratio:.3f}x", "within 2x", "ok" if ratio <= 2 else "MISSED"))
    print(row("Receiver + decode + from_json", f"{t_decode * 1e3:.3f} ms"))
    print(row("stream 1M rows (rollover 1M): stream+encode", f"{t_stream * 1e3:.3f} ms"))
    print(row("  PATCH-DOC bytes vs raw rows", f"+{stream_wire / new_rows.nbytes - 1:.4%}"))


if __name__ == "__main__":
    main()
