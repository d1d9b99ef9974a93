"""Write the documents of the rendering benchmark, for docsync or for Bokeh (run under that side's Python).

``python bench/render_items.py docsync OUT`` / ``bench/.venv-bokeh/bin/python bench/render_items.py bokeh OUT``
writes OUT/<case>.<side>.json: the same data (fixed seeds), the same glyphs, the same
size, built with each library's own figure() API. Arrays travel inline as base64 in
both (Bokeh's json_item has no buffers).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

WIDTH, HEIGHT = 900, 500
CASES = ("line1m", "scatter100k", "stream100k")


def data(case: str) -> dict[str, np.ndarray]:
    """The columns of a case."""
    rng = np.random.default_rng(17)
    if case == "line1m":
        n = 1_000_000
        return {"x": np.arange(n, dtype=np.float64), "y": np.cumsum(rng.normal(0, 1, n))}
    if case == "scatter100k":
        n = 100_000
        x, y = rng.normal(0, 1, n), rng.normal(0, 1, n)
        return {"x": x, "y": y, "c": np.hypot(x, y)}
    n = 100_000
    return {"x": np.arange(n, dtype=np.float64), "y": np.cumsum(rng.normal(0, 1, n))}


def build(side: str, case: str, backend: str) -> Any:
    """Return the plot of ``case`` built with ``side``'s API."""
    if side == "bokeh":
        from bokeh.models import ColumnDataSource
        from bokeh.palettes import Viridis256
        from bokeh.plotting import figure
        from bokeh.transform import linear_cmap
    else:
        from docsync.document.models import ColumnDataSource
        from docsync.plotting import figure, linear_cmap
        from docsync.plotting.palettes import Viridis256
    source = ColumnDataSource(data=data(case), name="source")
    p = figure(width=WIDTH, height=HEIGHT, output_backend=backend, name="plot", tools="pan,wheel_zoom,reset")
    if case == "scatter100k":
        p.scatter("x", "y", source=source, size=4, line_color=None, fill_color=linear_cmap("c", Viridis256, 0, 3))
    else:
        p.line("x", "y", source=source, line_width=1)
    return p


def main(side: str, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for case in CASES:
        for backend in ("canvas", "webgl") if side == "bokeh" else ("canvas",):
            plot = build(side, case, backend)
            if side == "bokeh":
                from bokeh.embed import json_item

                item = json_item(plot)
            else:
                from docsync.document import Document
                from docsync.serialization import Encoder

                doc = Document()
                doc.add_root(plot)
                item, _ = doc.to_json(encoder=Encoder(use_buffers=False))
            (out / f"{case}.{side}-{backend}.json").write_text(json.dumps(item))


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
