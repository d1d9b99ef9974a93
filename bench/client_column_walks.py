"""What a client's new list column of 1M floats costs the server, in process: time, memory and passes.

    python bench/client_column_walks.py --out /tmp/x.json [--rows 1000000] [--messages 5] [--baseline CHECKOUT]
    python bench/client_column_walks.py --profile [--rows 1000000]

A session's ``Sequencer`` holds a ColumnDataSource; each message is a PATCH-DOC whose
ModelChanged sets its ``data`` to ``{"x": <rows floats>}`` as a JSON list (not a binary
buffer), read from its JSON text as the server's receiver reads it. Printed per checkout:
the milliseconds of ``handle_patch`` (decode, check, apply, encode for the log and the
broadcast; the median of ``--messages``), and the figures that do not depend on the
machine's load: the tracemalloc peak of one message (bytes allocated at the peak, the
message itself not counted) in lists of ``rows`` pointers (8 bytes each), also less what
orjson allocates to write the column once (it reserves ~166 bytes an item), and the whole-column passes
counted by hooks: type scans (``set(map(type, column))``), float sums (the encoder's
finiteness check) and JSON encodings of the column. ``--baseline`` measures another
checkout too, alternately, three rounds, so that the machine's load hits both alike.
``--profile`` prints the cProfile of one message.
"""

from __future__ import annotations

import argparse
import builtins
import json
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]


def _sequencer() -> Any:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    import django

    django.setup()
    from docsync.conf import docsync_settings
    from docsync.document import Document
    from docsync.document.models import ColumnDataSource
    from docsync.limits import document_limits
    from docsync.sync.sequencer import Sequencer

    settings = docsync_settings()
    document = Document(max_upload_bytes=settings.MAX_UPLOAD_BYTES)
    document.add_root(ColumnDataSource(id="src", data={"x": [0.0]}))
    sequencer = Sequencer(
        document,
        allow_client_structure=True,
        log_entries=settings.PATCH_LOG_SIZE,
        log_bytes=settings.PATCH_LOG_BYTES,
        max_client_models=settings.MAX_CLIENT_MODELS,
        max_array_elements=settings.MAX_ARRAY_ELEMENTS,
        limits=document_limits(settings),
    )
    sequencer.restart()
    return sequencer


def _message(rows: int, i: int) -> Any:
    """A PATCH-DOC setting the column to ``rows`` floats, read from JSON text as a server reads it."""
    from docsync.protocol import Message
    from docsync.protocol.msgtypes import PATCH_DOC
    from docsync.protocol.wire_json import dumpb, loads

    column = [k * 0.5 + 0.1 + i for k in range(rows)]
    event = {"kind": "ModelChanged", "model": {"id": "src"}, "attr": "data", "new": {"x": column}}
    content = loads(dumpb({"events": [event], "references": []}))
    return Message({"msgid": f"m{i}", "msgtype": PATCH_DOC}, {}, content, [])


def _send(sequencer: Any, message: Any) -> None:
    answer = sequencer.handle_patch("client", 0, message).answer
    if answer.content.get("rejected", 1) != 0:
        raise SystemExit(f"the change was refused: {answer.content}")


class _Passes:
    """Counts whole-column passes over lists of ``rows`` items, by hooks on the modules' names."""

    def __init__(self, rows: int) -> None:
        import docsync.document.footprint as footprint
        import docsync.document.properties as properties
        import docsync.serialization.decoder as decoder
        import docsync.serialization.encoder as encoder

        self.type_scans = self.sums = self.encodings = 0
        real_map, real_sum, real_orjson = builtins.map, builtins.sum, footprint.orjson

        def big(value: Any) -> bool:
            return isinstance(value, list) and len(value) >= rows

        def counted_map(func: Any, *iterables: Any) -> Any:
            self.type_scans += func is type and any(map(big, iterables))
            return real_map(func, *iterables)

        def counted_sum(iterable: Any, *args: Any) -> Any:
            self.sums += big(iterable)
            return real_sum(iterable, *args)

        def counted_dumps(value: Any, *args: Any) -> bytes:
            self.encodings += big(value)
            return real_orjson.dumps(value, *args)

        def counted_dumpb(value: Any) -> bytes:
            self.encodings += 1  # (the log's encoding of the event: the one event is the column's)
            return real_dumpb(value)

        class _Orjson:
            JSONEncodeError = real_orjson.JSONEncodeError
            dumps = staticmethod(counted_dumps)

        import docsync.sync.patches as patches

        real_dumpb = patches.dumpb
        for module in (decoder, encoder, properties):
            module.map = counted_map  # type: ignore[attr-defined]
        encoder.sum = counted_sum  # type: ignore[attr-defined]
        footprint.orjson = _Orjson  # type: ignore[assignment]
        patches.dumpb = counted_dumpb


def _peak(work: Any, *args: Any) -> int:
    """The bytes tracemalloc sees allocated at the peak of ``work(*args)``."""
    tracemalloc.start()
    try:
        work(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def measure(rows: int, messages: int) -> dict[str, Any]:
    """Time, peak and passes of a client's new column of ``rows`` floats, in this checkout."""
    sequencer = _sequencer()
    _send(sequencer, _message(rows, -1))  # the first change measures the document
    times = []
    for i in range(messages):
        message = _message(rows, i)
        started = time.perf_counter()
        _send(sequencer, message)
        times.append((time.perf_counter() - started) * 1e3)
    message = _message(rows, messages)
    peak = _peak(_send, sequencer, message)
    # What orjson allocates to write the column alone (it reserves far more than the text):
    # the peak holds one such text (the footprint's, then the log's), besides the lists.
    text = _peak(orjson.dumps, message.content["events"][0]["new"]["x"])
    passes = _Passes(rows)
    _send(sequencer, _message(rows, messages + 1))
    return {
        "ms": statistics.median(times),
        "peak_lists": round(peak / (8 * rows), 2),
        "peak_lists_besides_text": round((peak - text) / (8 * rows), 2),
        "type_scans": passes.type_scans,
        "sums": passes.sums,
        "encodings": passes.encodings,
    }


def profile(rows: int) -> None:
    import cProfile
    import pstats

    sequencer = _sequencer()
    _send(sequencer, _message(rows, -1))
    message = _message(rows, 0)
    profiler = cProfile.Profile()
    profiler.runcall(_send, sequencer, message)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--messages", type=int, default=5)
    parser.add_argument("--baseline", type=Path, help="another checkout to measure alternately")
    parser.add_argument("--out", type=Path, help="write the figures here as JSON")
    parser.add_argument("--profile", action="store_true", help="print the cProfile of one message")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # a child run: print the figures only
    args = parser.parse_args()
    if args.profile:
        profile(args.rows)
        return
    if args.one:
        print(json.dumps(measure(args.rows, args.messages)))
        return
    checkouts = [("this", ROOT)] + ([("baseline", args.baseline.resolve())] if args.baseline else [])
    print(f"a client's new list column of {args.rows:,} floats, median of {args.messages} messages")
    results: list[dict[str, Any]] = []
    for _ in range(3 if args.baseline else 1):
        for name, checkout in checkouts:
            command = [sys.executable, str(Path(__file__).resolve()), "--one", "--rows", str(args.rows)]
            command += ["--messages", str(args.messages)]
            output = subprocess.run(
                command, cwd=checkout, env=dict(os.environ, PYTHONPATH=str(checkout)), capture_output=True, text=True
            )
            if output.returncode != 0:
                raise SystemExit(output.stderr[-2000:])
            figures = json.loads(output.stdout.splitlines()[-1])
            figures.update(checkout=name, load=float(Path("/proc/loadavg").read_text().split()[0]))
            results.append(figures)
            print(
                f"{name:<9} load {figures['load']:<5} handle_patch {figures['ms']:6.1f} ms   peak"
                f" {figures['peak_lists']:5.2f} lists ({figures['peak_lists_besides_text']:4.2f} besides orjson's"
                f" text)   type scans {figures['type_scans']}   sums {figures['sums']}"
                f"   JSON encodings {figures['encodings']}"
            )
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
