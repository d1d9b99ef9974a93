"""Settings of the server tests: the demo site plus applications made to misbehave.

Environment variables (read by ``project.settings``) shorten the session lifetime for
the expiry tests; ``DOCSYNC_TICK_LOG`` names the file the ticker app writes to.
"""

from __future__ import annotations

from pathlib import Path

from project.settings import *  # noqa: F403
from project.settings import ALLOWED_HOSTS as _ALLOWED_HOSTS
from project.settings import DOCSYNC as _DOCSYNC

APP_FILES = Path(__file__).resolve().parent / "app_files"

TEST_APPS = {
    "syntax_error": str(APP_FILES / "syntax_error.py"),
    "modify_fails": "tests.apps_shared.modify_fails",
    "callback_fails": "tests.apps_shared.callback_fails",
    "request_echo": "tests.server.apps_for_tests.request_echo",
    "ticker": "tests.server.apps_for_tests.ticker",
    "orm_slow": "tests.server.apps_for_tests.orm_slow",
    "counted": "tests.server.apps_for_tests.counted",
    "broadcaster": "tests.server.apps_for_tests.broadcaster",
    "io_waiter": "tests.server.apps_for_tests.io_waiter",
    "script": str(APP_FILES / "script_app.py"),
    "json_doc": str(APP_FILES / "doc.json"),
    "dir_app": str(APP_FILES / "dir_app"),
}

# Frames are capped lower than the default so that the oversized-frame test sends less,
# yet above bench_big's 8,000,000-byte columns: the server sends no frame over this limit
# either (its clients are told to accept no more).
MAX_FRAME_BYTES = 8 * 1024 * 1024

DOCSYNC = {**_DOCSYNC, "APPS": {**_DOCSYNC["APPS"], **TEST_APPS}, "MAX_FRAME_BYTES": MAX_FRAME_BYTES}

# django.test.Client sends "testserver" as its host.
ALLOWED_HOSTS = [*_ALLOWED_HOSTS, "testserver"]
