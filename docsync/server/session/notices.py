"""What a page is told when the server did something on its behalf (notices)."""

from __future__ import annotations

import traceback
from collections import deque
from collections.abc import Iterator, Sequence

__all__ = ["KEPT_NOTICES", "NOTICE", "KeptNotices", "callback_error_detail", "callback_error_text"]

#: The message type of notices, shown in the page: a failed callback's ``{"text": ...,
#: "kind": "error"}`` (and ``"detail"``, a traceback, while Django's DEBUG is on); the
#: admin's ``{"text": ...}``, with no kind (docs/protocol.md).
NOTICE = "docsync.notice"
#: The admin's notices a session keeps, newest last, for its detail page ("Messages sent").
KEPT_NOTICES = 100


class KeptNotices:
    """The admin's last ``KEPT_NOTICES`` notices to one session, oldest first.

    Nothing is held until the first: nearly every session gets none, and a deque of
    ``KEPT_NOTICES`` made with each session was 760 of its bytes (bench/budget.py).
    """

    __slots__ = ("_kept",)

    def __init__(self) -> None:
        self._kept: deque[str] | None = None

    def append(self, text: str) -> None:
        """Keep ``text``, forgetting the oldest past ``KEPT_NOTICES``."""
        if self._kept is None:
            self._kept = deque(maxlen=KEPT_NOTICES)
        self._kept.append(text)

    def __iter__(self) -> Iterator[str]:
        return iter(self._kept or ())

    def __len__(self) -> int:
        return 0 if self._kept is None else len(self._kept)


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
