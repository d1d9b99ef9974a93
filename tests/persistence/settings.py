"""Settings of the persistence tests: the demo site and the board app.

The demo site reads ``DOCSYNC_PERSISTENCE`` (the store: ``database``, ``redis``);
snapshots are taken every 0.2 s unless ``DOCSYNC_SNAPSHOT_INTERVAL`` says otherwise;
``DOCSYNC_MAX_SNAPSHOT_BYTES``, ``DOCSYNC_SNAPSHOT_TAIL`` and ``DOCSYNC_SNAPSHOT_LIFETIME`` set those settings;
``DOCSYNC_TEST_SQLITE_TIMEOUT`` the seconds SQLite waits for another writer (20 s otherwise).
"""

from __future__ import annotations

import os

from project.settings import *  # noqa: F403
from project.settings import DOCSYNC as _DOCSYNC

DOCSYNC = {
    **_DOCSYNC,
    "APPS": {
        **_DOCSYNC["APPS"],
        "board": "tests.persistence.apps",
        "board_unsaved": {"app": "tests.persistence.apps.board", "persist": False},
        "board_slow": "tests.persistence.apps.slow_board",
        "board_shareable": {"app": "tests.persistence.apps.board", "shareable": True},
        "board_arguments": "tests.persistence.apps.by_arguments",
        # One room for everyone: any visitor's change may make its callback replace the named plot.
        "board_redraw": {"app": "tests.persistence.apps.redraw", "shared": True},
        # A slider's callback gives the name of the application's Div "a" to its unnamed Div.
        "board_renamed": "tests.persistence.apps.renamed",
        # A room whose visitors may change its structure (allow_client_structure=True).
        "board_open_room": {"app": "tests.persistence.apps.open_board", "shared": True},
    },
    "SNAPSHOT_INTERVAL": float(os.environ.get("DOCSYNC_SNAPSHOT_INTERVAL", "0.2")),
    "SNAPSHOT_LIFETIME": float(os.environ.get("DOCSYNC_SNAPSHOT_LIFETIME", "600")),
    "MAX_SNAPSHOT_BYTES": int(os.environ.get("DOCSYNC_MAX_SNAPSHOT_BYTES", str(64 << 20))),
    "SNAPSHOT_TAIL": int(os.environ.get("DOCSYNC_SNAPSHOT_TAIL", "100")),
    "SQLITE_WAL": os.environ.get("DOCSYNC_STORE_SQLITE_WAL", "1") == "1",
}

if os.environ.get("DOCSYNC_TEST_SQLITE_TIMEOUT") and DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # A test that holds the database (another writer) waits this long for the site's
    # SQLite connection to give up, not the site's 20 s.
    _timeout = float(os.environ["DOCSYNC_TEST_SQLITE_TIMEOUT"])
    _default = DATABASES["default"]  # noqa: F405
    DATABASES = {"default": {**_default, "OPTIONS": {**_default["OPTIONS"], "timeout": _timeout}}}
