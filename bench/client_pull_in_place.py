"""What a client's pull costs when it keeps the models it holds, against building them all anew.

    PYTHONPATH=. python bench/client_pull_in_place.py --out /tmp/x.json [--models 5000] [--rows 1000000] [--rounds 5]

A server document of ``--models`` sliders in a column and a data source of ``--rows``
floats (one binary buffer) is pulled, in process, into a client document that already
holds it (a resync, a reset, the pull after a change too large to send) three ways,
alternately, ``--rounds`` times so that the machine's load hits each alike:

- ``replace``: ``Document.replace_with_json``, what the client did before (every model built anew);
- ``in_place``: ``Document.update_from_json`` with every value the same (nothing reported);
- ``in_place_changed``: the same, every slider's value and the column changed.

Printed and written: the median milliseconds of each, and their ratio to ``replace``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from docsync.document import Document
from docsync.document.models import Column, ColumnDataSource, Slider


def _server(models: int, rows: int, shift: float) -> Document:
    document = Document(title="bench")
    sliders = [Slider(id=f"s{i}", start=0, end=100, value=(i + shift) % 100) for i in range(models)]
    document.add_root(Column(*sliders, id="column"))
    document.add_root(ColumnDataSource(id="source", data={"x": np.arange(rows, dtype=float) + shift}))
    return document


def _wire(document: Document) -> tuple[Any, dict[str, bytes]]:
    data, buffers = document.to_json()
    return json.loads(json.dumps(data)), {buffer_id: bytes(buffer) for buffer_id, buffer in buffers}


def _timed(pull: Any, client: Document, wire: tuple[Any, dict[str, bytes]]) -> float:
    started = time.perf_counter()
    pull(client, *wire)
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--models", type=int, default=5_000)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    same = _wire(_server(args.models, args.rows, 0.0))
    changed = _wire(_server(args.models, args.rows, 1.0))
    cases = {
        "replace": (lambda doc, data, buffers: doc.replace_with_json(data, buffers), same),
        "in_place": (lambda doc, data, buffers: doc.update_from_json(data, buffers), same),
        "in_place_changed": (lambda doc, data, buffers: doc.update_from_json(data, buffers), changed),
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.rounds):
        for name, (pull, wire) in cases.items():
            client = Document()
            client.update_from_json(*same)  # the client holds the document already
            times[name].append(_timed(pull, client, wire))
    medians = {name: statistics.median(values) for name, values in times.items()}
    result = {
        "models": args.models,
        "rows": args.rows,
        "rounds": args.rounds,
        "median_ms": medians,
        "ratio_to_replace": {name: medians[name] / medians["replace"] for name in medians},
        "runs_ms": times,
    }
    for name, value in medians.items():
        print(f"{name:>17}: {value:8.1f} ms  ({value / medians['replace']:.2f}x replace)")
    Path(args.out).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
