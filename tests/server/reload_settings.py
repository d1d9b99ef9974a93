"""Settings of the reload test: a script app and a directory app whose files the test edits."""

from __future__ import annotations

import os

from tests.server.settings import *  # noqa: F403
from tests.server.settings import DOCSYNC as _DOCSYNC

DOCSYNC = {
    **_DOCSYNC,
    "APPS": {"script": os.environ["DOCSYNC_RELOAD_SCRIPT"], "folder": os.environ["DOCSYNC_RELOAD_DIR"]},
}
