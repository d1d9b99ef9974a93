"""Settings of the Bokeh persistence tests: the Bokeh gallery's site, and the sliders app with persistence off."""

from __future__ import annotations

import os

from tests.bokeh.settings import *  # noqa: F403
from tests.bokeh.settings import DOCSYNC as _DOCSYNC
from tests.bokeh.settings import GALLERY

DOCSYNC = {
    **_DOCSYNC,
    "APPS": {
        **_DOCSYNC["APPS"],
        "bk_sliders_unsaved": {"app": str(GALLERY / "sliders.py"), "kind": "bokeh", "persist": False},
    },
    "SNAPSHOT_INTERVAL": float(os.environ.get("DOCSYNC_SNAPSHOT_INTERVAL", "0.2")),
    "SNAPSHOT_LIFETIME": 600.0,
}
