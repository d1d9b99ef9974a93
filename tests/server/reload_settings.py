"""Settings of the reload test: a script app and a directory app whose files the test edits."""

from __future__ import annotations

import logging
import os

from tests.server.settings import *  # noqa: F403
from tests.server.settings import DOCSYNC as _DOCSYNC
from tests.server.settings import LOGGING as _LOGGING

_SCRIPT = os.environ["DOCSYNC_RELOAD_SCRIPT"]
_FOLDER = os.environ["DOCSYNC_RELOAD_DIR"]

DOCSYNC = {**_DOCSYNC, "APPS": {"script": _SCRIPT, "folder": _FOLDER}}


class AppFilesOnly(logging.Filter):
    """Pass the reloader's debug records about the apps' files, not the thousands about modules."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        return record.levelno == logging.DEBUG and any(str(arg).startswith((_SCRIPT, _FOLDER)) for arg in args)


# The test edits a file only once the serving process's reloader has recorded its mtime
# ("File ... first seen with mtime ..."): an edit made before that first look is taken
# for the file's first state, and no restart follows.
LOGGING = {
    **_LOGGING,
    "formatters": {**_LOGGING.get("formatters", {}), "timed": {"format": "%(asctime)s %(message)s"}},
    "filters": {**_LOGGING.get("filters", {}), "app_files": {"()": AppFilesOnly}},
    "handlers": {
        **_LOGGING["handlers"],
        "app_files": {
            "class": "logging.StreamHandler",
            "filters": ["app_files"],
            "formatter": "timed",
            "level": "DEBUG",
        },
    },
    "loggers": {
        **_LOGGING["loggers"],
        "django.utils.autoreload": {"handlers": ["app_files"], "level": "DEBUG"},
    },
}
