"""Commands the admin sends to the process that holds a session."""

from __future__ import annotations

from typing import Any

from .inspect import describe_session
from .registry import get_registry

__all__ = ["SessionGone", "run_command"]


class SessionGone(Exception):
    """The session is not held by this process (it expired or lives elsewhere)."""


async def run_command(command: str, session_id: str, **arguments: Any) -> Any:
    """Run an admin command on a session held by this process."""
    registry = get_registry()
    session = registry.find_session(session_id)
    if session is None:
        raise SessionGone(f"session {session_id[:10]} is not live in this process")
    if command == "describe":
        async with session.lock:  # the rule: the document is read only under its lock
            describe = getattr(session, "describe", None)  # another document kind describes itself
            return describe() if describe is not None else describe_session(session)
    if command == "expire":
        context = registry.get_context(session.app_path)
        if context is not None:
            await context.discard_session(session)
        return True
    if command == "keep_alive":
        session.keep_alive = bool(arguments.get("on", True))
        return session.keep_alive
    if command == "notice":
        await session.send_notice(str(arguments["text"])[:500])
        return True
    raise ValueError(f"unknown command {command!r}")
