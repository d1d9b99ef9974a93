"""What the Bokeh dialect's document bound costs per client patch, beside re-serialising the document.

In one process, for a document of a figure and a data source of ``rows`` rows (numpy
or list columns): the first check's build (the whole document measured once), then per
patch the check of a slider move (a number: not measured), a 1 KiB text, a 10-row stream
and a cell patch, each followed by its refresh, against ``Document.to_json()`` (what
measuring the whole document per patch would cost at least). Prints medians and the load.

    python bench/bokeh_footprint.py [--rows 1000,100000,1000000] [--reps 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
from bokeh.document import Document
from bokeh.layouts import column
from bokeh.models import ColumnDataSource, Div, Slider
from bokeh.plotting import figure

from docsync.bokeh.compat import install_lean_models, install_lean_serialization
from docsync.bokeh.footprint import DocumentFootprint


def made(rows: int, lists: bool) -> tuple[Document, ColumnDataSource, Slider, Div]:
    x = np.linspace(0, 1, rows)
    data: dict[str, Any] = {"x": x.tolist() if lists else x, "y": (2 * x).tolist() if lists else 2 * x}
    source = ColumnDataSource(data=data)
    plot = figure()
    plot.line("x", "y", source=source)
    slider, div = Slider(start=0, end=1, value=0.5), Div(text="hello")
    document = Document()
    document.add_root(column(plot, slider, div))
    return document, source, slider, div


def median_ms(func: Callable[[], Any], reps: int) -> float:
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def _checked(footprint: DocumentFootprint, document: Any, events: list[dict[str, Any]], apply: Any) -> None:
    footprint.check(document, [], events)
    apply()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", default="1000,100000,1000000")
    parser.add_argument("--reps", type=int, default=20)
    args = parser.parse_args()
    install_lean_serialization()
    install_lean_models()
    print(f"load before: {os.getloadavg()}")
    for rows in map(int, args.rows.split(",")):
        for lists in (False, True):
            document, source, slider, div = made(rows, lists)
            footprint = DocumentFootprint(1 << 40)
            tracking = [True]
            document.callbacks.on_change(lambda event, f=footprint, on=tracking: on[0] and f.changed(event))
            build = median_ms(lambda f=footprint, d=document: (setattr(f, "built", False), f.refresh(d)), 3)
            ten = {"x": [0.5] * 10, "y": [0.5] * 10}
            cases: dict[str, tuple[list[dict[str, Any]], Callable[[], None]]] = {
                "slider": (
                    [{"kind": "ModelChanged", "model": slider, "attr": "value", "new": 0.25}],
                    lambda s=slider: setattr(s, "value", 0.25),
                ),
                "text 1 KiB": (
                    [{"kind": "ModelChanged", "model": div, "attr": "text", "new": "t" * 1024}],
                    lambda d=div: setattr(d, "text", "t" * 1024),
                ),
                "stream 10": (
                    [{"kind": "ColumnsStreamed", "model": source, "attr": "data", "data": ten}],
                    lambda s=source, t=ten: s.stream(t),
                ),
                "cell patch": (
                    [{"kind": "ColumnsPatched", "model": source, "attr": "data", "patches": {"y": [[0, 9.0]]}}],
                    lambda s=source: s.patch({"y": [(0, 9.0)]}),
                ),
            }
            shown = []
            for name, (events, apply) in cases.items():
                # Alternating: the bound's check before each apply (and its count of the
                # event), then the apply alone without the footprint, as before this bound.
                with_bound, without = [], []
                for _ in range(args.reps):
                    tracking[0] = True
                    checked = partial(_checked, footprint, document, events, apply)
                    with_bound.append(median_ms(checked, 1))
                    tracking[0] = False
                    without.append(median_ms(apply, 1))
                shown.append(f"{name} {statistics.median(with_bound):.3f}/{statistics.median(without):.3f}")
            to_json = median_ms(document.to_json, max(3, args.reps // 5))
            kind = "list" if lists else "numpy"
            print(f"{rows:>9} rows ({kind:5}): build {build:.1f} ms once; with/without the bound, ms per patch:")
            print(f"      {'; '.join(shown)}; whole to_json {to_json:.1f} ms")
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
