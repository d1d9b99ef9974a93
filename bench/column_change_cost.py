"""What a client's small change of a large list column costs the server, in process.

    python bench/column_change_cost.py [--rows 500000] [--changes 30] [--baseline /path/to/other/checkout]

A session's ``Sequencer`` holds a ColumnDataSource whose ``x`` column a client grew to
``--rows`` ints (a list: what a client's JSON makes); the client then sends one-cell
ColumnsPatched and one-row ColumnsStreamed PATCH-DOCs. Printed: milliseconds of
``handle_patch`` per change (receive, check, apply, log, answer: the time the event loop
is held), the mean of ``--changes``. ``--baseline`` runs the same in another checkout,
alternating three times, so machine load hits both alike.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def measure(rows: int, changes: int) -> tuple[float, float]:
    """Return the milliseconds per one-cell patch and per one-row stream on a column of ``rows`` items."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    import django

    django.setup()
    from docsync.conf import docsync_settings
    from docsync.document import Document
    from docsync.document.models import ColumnDataSource
    from docsync.limits import document_limits
    from docsync.protocol import new_message
    from docsync.protocol.msgtypes import PATCH_DOC
    from docsync.sync.sequencer import Sequencer

    settings = docsync_settings()
    document = Document(max_upload_bytes=settings.MAX_UPLOAD_BYTES)
    document.add_root(ColumnDataSource(id="src", data={"x": [0]}))
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

    def send(event: dict[str, Any]) -> None:
        events = [{"model": {"id": "src"}, "attr": "data", **event}]
        message = new_message(PATCH_DOC, {"events": events, "base": sequencer.seq})
        answer = sequencer.handle_patch("client", 0, message).answer
        if answer.content.get("rejected", 1) != 0:
            raise SystemExit(f"the change was refused: {answer.content}")

    send({"kind": "ModelChanged", "new": {"x": list(range(rows))}})

    def timed(make: Any) -> float:
        for i in range(3):
            send(make(i))  # the first changes measure the column
        started = time.perf_counter()
        for i in range(changes):
            send(make(i))
        return (time.perf_counter() - started) / changes * 1e3

    cell = timed(lambda i: {"kind": "ColumnsPatched", "patches": {"x": [[i, -i]]}})
    row = timed(lambda i: {"kind": "ColumnsStreamed", "data": {"x": [i]}, "rollover": None})
    return cell, row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--changes", type=int, default=30)
    parser.add_argument("--baseline", type=Path, help="another checkout to measure alternately")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # a child run: print the figures only
    args = parser.parse_args()
    if args.one:
        print(*measure(args.rows, args.changes))
        return
    checkouts = [("this", ROOT)] + ([("baseline", args.baseline.resolve())] if args.baseline else [])
    print(f"{args.rows:,}-row list column, {args.changes} changes each, ms of the event loop per change")
    for _ in range(3 if args.baseline else 1):
        for name, checkout in checkouts:
            command = [sys.executable, str(Path(__file__).resolve()), "--one", "--rows", str(args.rows)]
            command += ["--changes", str(args.changes)]
            output = subprocess.run(
                command, cwd=checkout, env=dict(os.environ, PYTHONPATH=str(checkout)), capture_output=True, text=True
            )
            if output.returncode != 0:
                raise SystemExit(output.stderr[-2000:])
            cell, row = map(float, output.stdout.split())
            load = Path("/proc/loadavg").read_text().split()[0]
            print(f"{name:<9} load {load:<5} one-cell patch {cell:7.2f} ms   one-row stream {row:7.2f} ms")


if __name__ == "__main__":
    main()
