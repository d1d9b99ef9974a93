"""Route an admin command to the process that holds the session.

In one process (the default) the command runs here. With ``DOCSYNC["CLUSTER"]`` on,
a command for another process travels over the channel layer to that process.
"""

from __future__ import annotations

from typing import Any

from .commands import run_command
from .registry import get_registry

__all__ = ["send_command"]


async def send_command(process_id: str, command: str, session_id: str, **arguments: Any) -> Any:
    """Run ``command`` on ``session_id`` in the process ``process_id`` holds it in."""
    registry = get_registry()
    if process_id == registry.process_id:
        return await run_command(command, session_id, **arguments)
    relay = getattr(registry, "cluster", None)
    if relay is None:
        raise LookupError(f"session is held by process {process_id}, which is not this one")
    return await relay.command(process_id, command, session_id, **arguments)
