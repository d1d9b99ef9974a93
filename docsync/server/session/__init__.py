"""A session: its document, its lock, its order of changes, and the messages it answers.

- ``session``: :class:`ServerSession`, the document and its lock, the connections
  attached, callbacks, and the conflict rule.
- ``patch_log``: the bounded per-session order of changes (conflicts, resume, answers).
- ``patches``: the one place where document events become PATCH-DOC content and back.
- ``resume``: RESUME-REQ, answered with what a client missed or the whole document.
- ``dispatch``: one complete client message to its session (local or relayed).
"""

from __future__ import annotations

from .dispatch import dispatch
from .session import Connection, ServerSession

__all__ = ["Connection", "ServerSession", "dispatch"]
