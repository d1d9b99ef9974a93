"""Settings of the persistence tests: the demo site, the board app, persistence from the environment.

``DOCSYNC_PERSISTENCE`` names the store (``database``, ``redis``); ``DOCSYNC_SNAPSHOT_INTERVAL``
the seconds between snapshots.
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
    },
    "PERSISTENCE": os.environ.get("DOCSYNC_PERSISTENCE") or None,
    "SNAPSHOT_INTERVAL": float(os.environ.get("DOCSYNC_SNAPSHOT_INTERVAL", "0.2")),
    "SNAPSHOT_LIFETIME": 600.0,
}
