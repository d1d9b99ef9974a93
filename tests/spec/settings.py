"""Settings of the protocol-spec tests: the demo site plus the app the spec client talks to."""

from __future__ import annotations

import os

from project.settings import *  # noqa: F403
from project.settings import DOCSYNC as _DOCSYNC

DOCSYNC = {
    **_DOCSYNC,
    "APPS": {
        **_DOCSYNC["APPS"],
        "spec": {"app": "tests.spec.apps.spec", "shared": False},
        "spec_big": {"app": "tests.spec.apps.spec_big", "shared": False},
        "spec_huge": {"app": "tests.spec.apps.spec_huge", "shared": False},
        "spec_detach": {"app": "tests.spec.apps.spec_detach", "shared": False},
        # Anyone creating a session of it may push a document (README: the "push" rule).
        "spec_push": {"app": "tests.spec.apps.spec", "shared": False, "push": "public"},
    },
    "ADMIN_REFRESH": 0,  # no live-session table (the database holds only Django's sessions)
}
# The wire limits, lowered for one server of test_protocol_spec (§11, §12), from its environment.
for _key in ("MAX_FRAME_BYTES", "MAX_MESSAGE_BYTES"):
    if os.environ.get(f"DOCSYNC_{_key}"):
        DOCSYNC[_key] = int(os.environ[f"DOCSYNC_{_key}"])
