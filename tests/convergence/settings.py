"""Settings of the convergence tests: the demo site plus shared apps made to be edited.

The patch log is short (in entries, not bytes) so that resumes and stale patches fall
off its end within a test; the session lifetime is short so that expiry takes a second.
"""

from __future__ import annotations

from project.settings import *  # noqa: F403
from project.settings import DOCSYNC as _DOCSYNC

#: Entries kept in each session's patch log (the reference model counts them too).
PATCH_LOG_SIZE = 100

DOCSYNC = {
    **_DOCSYNC,
    "APPS": {
        **_DOCSYNC["APPS"],
        "convergence": {"app": "tests.convergence.apps.convergence_app", "shared": True},
        "convergence_stream": {"app": "tests.convergence.apps.stream_app", "shared": True},
        "convergence_big": {"app": "tests.convergence.apps.big_app", "shared": True},
    },
    "PATCH_LOG_SIZE": PATCH_LOG_SIZE,
    # Bounded by entries only, so that the reference model knows exactly what is held.
    "PATCH_LOG_BYTES": 1 << 30,
    # The random test sends bursts far above a browser's rate.
    "MAX_PATCHES_PER_SECOND": 1_000_000,
    # And all of the test client's sockets together, pulls and resumes too (one address).
    "MAX_PATCHES_PER_SECOND_PER_CLIENT": None,
    "MAX_DOCUMENT_REQUESTS_PER_SECOND_PER_CLIENT": None,
    # And the JSON values they send (the big app's columns, back to back).
    "MAX_VALUES_PER_SECOND_PER_CLIENT": None,
    # And the websocket frames (messages of many buffers, back to back).
    "MAX_WEBSOCKET_FRAMES_PER_SECOND_PER_CLIENT": None,
    # Each run opens 2-4 sessions from the one test client; a fast machine runs past the
    # default burst of 200 within a module (or a benchmark of 90 s) and would be refused.
    "NEW_SESSIONS_PER_CLIENT_PER_SECOND": 0,
    "UNUSED_SESSION_LIFETIME": 1.0,
    "CHECK_UNUSED_SESSIONS": 0.2,
}
