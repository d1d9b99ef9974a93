"""Sessions whose application failed to make them: backed off, then not made again.

A client whose session could not be made reconnects (with its own backoff), and each
attempt would run the failing code again, with a traceback in the log each time. Per
session id, the next attempt waits 1, 2, 4 then 8 s (``DOCSYNC["SESSION_RETRY_BACKOFF"]``;
refused meanwhile without running anything); after the fifth failure that session is not
made again.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

from ..exceptions import ApplicationError, ApplicationStoppedError

__all__ = ["BACKOFF", "FailedSessions"]

#: The default of ``SESSION_RETRY_BACKOFF``: seconds before a session may be tried again
#: after its 1st, 2nd, … failure; once every wait is used up, the session is not made again.
BACKOFF = (1.0, 2.0, 4.0, 8.0)


class FailedSessions:
    """The session ids of one application that failed lately, bounded in number."""

    def __init__(
        self, backoff: Sequence[float] = BACKOFF, *, keep: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._backoff = tuple(float(wait) for wait in backoff)
        self._failures: OrderedDict[str, tuple[int, float]] = OrderedDict()  # id -> (count, not before)
        self._keep = keep
        self._clock = clock

    def refusal(self, session_id: str) -> ApplicationError | None:
        """Return why ``session_id`` may not be made now (backing off, or stopped), or None."""
        failure = self._failures.get(session_id)
        if failure is None:
            return None
        count, not_before = failure
        if count > len(self._backoff):
            return ApplicationStoppedError(
                f"the application failed to make this session {count} times and is not tried again for it"
            )
        wait = not_before - self._clock()
        if wait > 0:
            # Said as what happens next: "tried again in 0.4 s" read as a retry already made.
            return ApplicationError(
                f"application error: the application failed to make this session {count} "
                f"time{'s' if count > 1 else ''}; it is tried again in {wait:.1f} s"
            )
        return None

    def failed(self, session_id: str) -> None:
        """Record that making ``session_id`` failed once more."""
        count = self._failures.pop(session_id, (0, 0.0))[0] + 1
        wait = self._backoff[count - 1] if count <= len(self._backoff) else 0.0
        self._failures[session_id] = (count, self._clock() + wait)
        while len(self._failures) > self._keep:
            self._failures.popitem(last=False)

    def succeeded(self, session_id: str) -> None:
        """Forget ``session_id``'s failures (it was made)."""
        self._failures.pop(session_id, None)
