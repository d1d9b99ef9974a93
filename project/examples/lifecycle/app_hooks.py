"""Lifecycle hooks of the lifecycle app: each appends a line to a log file.

The file is ``$DOCSYNC_HOOK_LOG`` when set (the tests read it), else nothing is written.
"""

import logging
import os

logger = logging.getLogger("docsync.examples.lifecycle")


def _record(step, detail=""):
    logger.info("lifecycle hook: %s %s", step, detail)
    path = os.environ.get("DOCSYNC_HOOK_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as log:
            log.write(f"{step} {detail}".rstrip() + "\n")


def on_server_loaded(server_context):
    _record("on_server_loaded", server_context.app_path)


def on_server_unloaded(server_context):
    _record("on_server_unloaded", server_context.app_path)


def on_session_created(session_context):
    _record("on_session_created", session_context.id)


def on_session_destroyed(session_context):
    _record("on_session_destroyed", session_context.id)
