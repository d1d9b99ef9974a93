"""What a page is told when the server did something on its behalf (notices)."""

from __future__ import annotations

import traceback
from collections.abc import Sequence

__all__ = ["KEPT_NOTICES", "NOTICE", "callback_error_detail", "callback_error_text"]

#: The message type of notices, shown in the page: a failed callback's ``{"text": ...,
#: "kind": "error"}`` (and ``"detail"``, a traceback, while Django's DEBUG is on); the
#: admin's ``{"text": ...}``, with no kind (docs/protocol.md).
NOTICE = "docsync.notice"
#: The admin's notices a session keeps, newest last, for its detail page ("Messages sent").
KEPT_NOTICES = 100


def callback_error_text(errors: Sequence[BaseException], debug: bool) -> str:
    """Say that user callbacks failed; what they raised only when ``debug`` (Django's DEBUG) is on."""
    what = "A callback failed" if len(errors) == 1 else f"{len(errors)} callbacks failed"
    if not debug:
        return f"Something went wrong on the server ({what.lower()}); the server log has the details."
    detail = "; ".join(f"{type(exc).__name__}: {exc}"[:200] for exc in errors[:3])
    return f"{what} on the server: {detail}"


def callback_error_detail(errors: Sequence[BaseException], debug: bool) -> str | None:
    """Return the tracebacks of the first failed callbacks while ``debug`` is on, else None."""
    if not debug or not errors:
        return None
    # The page said "ValueError: bad value 3" and nothing of where; the first three, as the text names.
    return "\n".join("".join(traceback.format_exception(exc)) for exc in errors[:3])[:20_000]
