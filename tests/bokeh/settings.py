"""Settings of the Bokeh tests: the demo site plus docsync's own Bokeh gallery (tests/bokeh/gallery/)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from project.settings import *  # noqa: F403
from project.settings import DOCSYNC as _DOCSYNC

GALLERY = Path(__file__).resolve().parent / "gallery"
#: app path -> the app (a script or a directory), as ``bokeh serve`` would take it.
BOKEH_GALLERY = {
    "bk_sliders": "sliders.py",
    "bk_crossfilter": "crossfilter.py",
    "bk_selection_histogram": "selection_histogram.py",
    "bk_stocks": "stocks",
    "bk_movies": "movies",
    "bk_export_csv": "export_csv",
    "bk_ohlc": "ohlc",
    "bk_weather": "weather",
    "bk_gapminder": "gapminder",
    "bk_lifecycle": "lifecycle",
    "bk_request_info": "request_info.py",
    "bk_custom_js": "custom_js.py",
    "bk_table_editing": "table_editing.py",
    "bk_dependent_selects": "dependent_selects.py",
    "bk_pickers": "pickers.py",
    "bk_column_edits": "column_edits.py",
}
#: The movies app's SQLite file (the tests write it with gallery/movies/database.py).
MOVIES_DATABASE = os.environ.get("DOCSYNC_BOKEH_MOVIES_DB", str(Path(tempfile.gettempdir()) / "docsync-movies.sqlite3"))

ROOT_URLCONF = "tests.bokeh.urls"
DOCSYNC = {
    **_DOCSYNC,
    "APPS": {
        **_DOCSYNC["APPS"],
        **{path: {"app": str(GALLERY / name), "kind": "bokeh"} for path, name in BOKEH_GALLERY.items()},
        "bk_function": {"app": "tests.bokeh.gallery.functions:modify_doc", "kind": "bokeh"},
    },
}
DOCSYNC["APPS"]["bk_movies"]["argv"] = [MOVIES_DATABASE]
# Shareable: their browsers' CustomJS-computed columns and table edits pass the check of
# what browsers may write where other users see the session (docsync/bokeh/client_html.py).
DOCSYNC["APPS"]["bk_custom_js"]["shareable"] = True
DOCSYNC["APPS"]["bk_table_editing"]["shareable"] = True
DOCSYNC["APPS"]["bk_dependent_selects"]["shareable"] = True
