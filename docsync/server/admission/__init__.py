"""Who may open or join which session: signed tokens, access rules, and the limits.

- ``tokens``: session ids and the signed tokens a page hands its websocket.
- ``access``: per-application access rules (public, login, staff, permission, callable).
- ``policy``: the one admission path, for websockets that land on the owning process
  and for those a cluster relays to it.
"""

from __future__ import annotations

from .policy import (
    OpenedSession,
    check_grant,
    may_join,
    may_join_elsewhere,
    may_join_stored,
    open_session,
    session_holder,
    shareable,
    user_id_of,
)

__all__ = [
    "OpenedSession",
    "check_grant",
    "may_join",
    "may_join_elsewhere",
    "may_join_stored",
    "open_session",
    "session_holder",
    "shareable",
    "user_id_of",
]
