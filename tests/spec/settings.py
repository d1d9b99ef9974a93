"""Settings of the protocol-spec tests: the demo site plus the app the spec client talks to."""

from __future__ import annotations

from project.settings import *  # noqa: F403
from project.settings import DOCSYNC as _DOCSYNC

DOCSYNC = {
    **_DOCSYNC,
    "APPS": {
        **_DOCSYNC["APPS"],
        "spec": {"app": "tests.spec.apps.spec", "shared": False},
        "spec_big": {"app": "tests.spec.apps.spec_big", "shared": False},
        "spec_huge": {"app": "tests.spec.apps.spec_huge", "shared": False},
    },
    "ADMIN_REFRESH": 0,  # no live-session table (the database holds only Django's sessions)
}
