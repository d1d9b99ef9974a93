"""Hooks of the restored app: ``on_session_restored`` writes a line and marks the document."""

from __future__ import annotations

import os
from typing import Any


def on_session_restored(session_context: Any) -> Any:
    with open(os.environ["DOCSYNC_HOOK_LOG"], "a") as log:
        log.write(f"restored {session_context.id}\n")

    def mark(document: Any) -> None:
        document.get_model_by_name("status").text = f"restored with count {document.get_model_by_name('count').value}"

    return session_context.with_locked_document(mark)
