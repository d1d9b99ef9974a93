"""Settings of ``test_document_share_promises.py``: the hardening site, a shareable app, an app that grows."""

from __future__ import annotations

from tests.hardening.settings import *  # noqa: F403
from tests.hardening.settings import DOCSYNC as _HARDENING_DOCSYNC

DOCSYNC = {
    **_HARDENING_DOCSYNC,
    # The app's growth reaches its pages in one frame: what the hardening site allows is 64 KiB.
    "MAX_FRAME_BYTES": 1024 * 1024,
    "MAX_MESSAGE_BYTES": 4 * 1024 * 1024,
    "APPS": {
        **_HARDENING_DOCSYNC["APPS"],
        # The hostile app's document, joined by anyone who has its session id.
        "hostile_shared": {"app": "tests.hardening.apps.hostile", "push": "public", "shareable": True},
        # A slider whose callback grows the document (the application's own change).
        "app_grows": "tests.hardening.document_share_apps.app_grows",
    },
}
