"""A session: its document, its lock, its order of changes, and the messages it answers.

- ``session``: :class:`ServerSession`, the document and its lock, the connections
  attached, callbacks: the I/O adapter of the session's ``docsync.sync.Sequencer``
  (the order of changes, the conflict rule, corrections, resets, resume; sans I/O).
- ``dispatch``: one complete client message to its session (local or relayed).
"""

from __future__ import annotations

from .dispatch import dispatch
from .session import Connection, ServerSession

__all__ = ["Connection", "ServerSession", "dispatch"]
