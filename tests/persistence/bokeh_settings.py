"""Settings of the Bokeh persistence tests: the Bokeh gallery's site, the sliders app with persistence off, a
directory app with ``on_session_restored``, an app that writes dates, one built from its request, and the
dependent selects in a session a browser may write code into. ``DOCSYNC_TEST_SQLITE_TIMEOUT``: the seconds
SQLite waits for another writer (20 s otherwise)."""

from __future__ import annotations

import os
from pathlib import Path

from tests.bokeh.settings import *  # noqa: F403
from tests.bokeh.settings import DOCSYNC as _DOCSYNC
from tests.bokeh.settings import GALLERY

DOCSYNC = {
    **_DOCSYNC,
    "APPS": {
        **_DOCSYNC["APPS"],
        "bk_sliders_unsaved": {"app": str(GALLERY / "sliders.py"), "kind": "bokeh", "persist": False},
        # One session per room: any visitor may change its structure, as in Bokeh.
        "bk_sliders_room": {"app": str(GALLERY / "sliders.py"), "kind": "bokeh", "shared": True},
        "bk_restored": {"app": str(Path(__file__).resolve().parent / "bokeh_restored"), "kind": "bokeh"},
        "bk_dates": {"app": str(Path(__file__).resolve().parent / "bokeh_dates.py"), "kind": "bokeh"},
        "bk_arguments": {"app": str(Path(__file__).resolve().parent / "bokeh_arguments.py"), "kind": "bokeh"},
        # A slider's callback gives the name of the app's input "a" to its unnamed input.
        "bk_renamed": {"app": str(Path(__file__).resolve().parent / "bokeh_renamed.py"), "kind": "bokeh"},
        # Not shareable: a browser may write code into its own session (client_html), never the app's.
        "bk_dependent_selects_own": {"app": str(GALLERY / "dependent_selects.py"), "kind": "bokeh"},
    },
    "SNAPSHOT_INTERVAL": float(os.environ.get("DOCSYNC_SNAPSHOT_INTERVAL", "0.2")),
    "SNAPSHOT_LIFETIME": float(os.environ.get("DOCSYNC_SNAPSHOT_LIFETIME", "600")),
    "MAX_SNAPSHOT_BYTES": int(os.environ.get("DOCSYNC_MAX_SNAPSHOT_BYTES", str(64 << 20))),
}

if os.environ.get("DOCSYNC_TEST_SQLITE_TIMEOUT") and DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # A test that holds the database (another writer) waits this long for the site's
    # SQLite connection to give up, not the site's 20 s.
    _timeout = float(os.environ["DOCSYNC_TEST_SQLITE_TIMEOUT"])
    _default = DATABASES["default"]  # noqa: F405
    DATABASES = {"default": {**_default, "OPTIONS": {**_default["OPTIONS"], "timeout": _timeout}}}
