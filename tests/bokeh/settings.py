"""Settings of the Bokeh tests: the demo site plus Bokeh's own examples, served unchanged."""

from __future__ import annotations

from pathlib import Path

from project.settings import *  # noqa: F403
from project.settings import DOCSYNC as _DOCSYNC

EXAMPLES = Path(__file__).resolve().parent / "examples"
#: app path -> the example (a script or a directory), as ``bokeh serve`` would take it.
BOKEH_EXAMPLES = {
    "bk_sliders": "sliders.py",
    "bk_crossfilter": "crossfilter",
    "bk_selection_histogram": "selection_histogram.py",
    "bk_export_csv": "export_csv",
    "bk_ohlc": "ohlc",
    "bk_gapminder": "gapminder",
}

ROOT_URLCONF = "tests.bokeh.urls"
DOCSYNC = {
    **_DOCSYNC,
    "APPS": {
        **_DOCSYNC["APPS"],
        **{path: {"app": str(EXAMPLES / name), "kind": "bokeh"} for path, name in BOKEH_EXAMPLES.items()},
        "bk_function": {"app": "tests.bokeh.apps:modify_doc", "kind": "bokeh"},
    },
}
