"""Commands the admin sends to the process that holds a session.

In one process (the default) a command runs here. With ``DOCSYNC["CLUSTER"]`` on, a
command for a session held by another process travels there over the cluster, whose
process runs it with :func:`run_command`. The registry is passed in, never looked up,
so that this module stays below the registry and the cluster.
"""

from __future__ import annotations

import os
from typing import Any, Protocol

from ...exceptions import SessionGone
from ..application_context import ApplicationContext
from ..cluster_link import ClusterLink
from ..persistence.signals import drain_this_process
from ..session import ServerSession
from .live_table import LiveTableWriter
from .processes import own_start
from .session_detail import describe_session

__all__ = ["ENDED_BY_ADMIN", "MAX_NOTICE_CHARS", "SessionHolder", "run_command", "send_command"]

#: What the pages of a session the admin expires are told.
ENDED_BY_ADMIN = "This session was ended by an administrator."
#: Characters of an admin's notice (the admin refuses a longer one; a command cuts it, as a bound).
MAX_NOTICE_CHARS = 500
#: Characters of a model id the admin asks for (a client's ids have at most 128).
MAX_MODEL_ID = 200


def _page_argument(value: Any) -> int:
    """The page of models asked for: a whole number from 1 (anything else: the first)."""
    return value if type(value) is int and value >= 1 else 1


class SessionHolder(Protocol):
    """What the commands need of the registry."""

    process_id: str
    cluster: ClusterLink | None
    live_table: LiveTableWriter

    def find_session(self, session_id: str) -> ServerSession | None:
        """Return the live session ``session_id``, or None."""
        ...

    def get_context(self, path: str) -> ApplicationContext | None:
        """Return the context of the application at ``path``."""
        ...


async def run_command(registry: SessionHolder, command: str, session_id: str, **arguments: Any) -> Any:
    """Run an admin command on a session held by this process (``drain``: on the process itself)."""
    if command == "drain":
        # Whichever process the admin page is served by, the cluster brings it here.
        started = arguments.get("started") or ""
        own = own_start(os.getpid())
        if started and own and started != own:
            # The row is of a process that ran under this one's name before it (a
            # container restarted with the same host name and pid): that one is gone.
            raise ProcessLookupError(
                f"process {registry.process_id} that started then no longer runs: its name is another"
                " process's now, not drained"
            )
        return drain_this_process()
    session = registry.find_session(session_id)
    if session is None:
        raise SessionGone(f"session {session_id[:10]} is not live in this process")
    if command == "describe":
        async with session.lock:  # the rule: the document is read only under its lock
            describe = getattr(session, "describe", None)  # another document kind describes itself
            # A page of the document's models, or one model: never all of them (thousands, maybe).
            page, model = _page_argument(arguments.get("page")), arguments.get("model")
            model = str(model)[:MAX_MODEL_ID] if model is not None else None
            return describe(page, model) if describe is not None else describe_session(session, page, model)
    if command == "expire":
        context = registry.get_context(session.app_path)
        if context is not None:
            # Its pages say why they start again with a new session.
            await context.discard_session(session, told=ENDED_BY_ADMIN)
        if registry.live_table.running:
            # As for keep_alive: a refresh that read the session before it was discarded
            # must not write its row back after the admin deletes it.
            await registry.live_table.write_now()
        return True
    if command == "keep_alive":
        session.keep_alive = bool(arguments.get("on", True))
        if registry.live_table.running:
            # The admin lists what it just changed: a refresh that read the row before
            # the change must not land after it (the write waits for that refresh).
            await registry.live_table.write_now()
        return session.keep_alive
    if command == "notice":
        await session.send_notice(str(arguments["text"])[:MAX_NOTICE_CHARS])
        return True
    raise ValueError(f"unknown command {command!r}")


async def send_command(
    registry: SessionHolder, process_id: str, command: str, session_id: str, **arguments: Any
) -> Any:
    """Run ``command`` on ``session_id`` in the process ``process_id`` that holds it."""
    if process_id == registry.process_id:
        return await run_command(registry, command, session_id, **arguments)
    if registry.cluster is None:
        raise LookupError(f"session is held by process {process_id}, which is not this one")
    return await registry.cluster.command(process_id, command, session_id, **arguments)
