"""What the server core needs of the cluster: a Protocol, so that the core never imports it.

The cluster package (``server/cluster/``) implements it; the registry holds one once the
process has joined (``DOCSYNC["CLUSTER"]``), else None.
"""

from __future__ import annotations

from typing import Any, Protocol

from ..conf import docsync_settings

__all__ = ["ClusterLink", "redis_url"]


class ClusterLink(Protocol):
    """This process's membership of the cluster, as the core uses it."""

    async def broadcast(self, app_path: str, msg_type: str, msg_data: Any) -> None:
        """Send a message to every session of ``app_path`` in every process."""

    async def command(self, process_id: str, command: str, session_id: str, **arguments: Any) -> Any:
        """Run an admin command in process ``process_id`` and return its result."""

    async def announce_holder(self, session_id: str, holder: str) -> None:
        """Say whom session ``session_id``, just made in this process, belongs to (JSON of its owner)."""

    async def forget_holder(self, session_id: str) -> None:
        """Say that session ``session_id``, ended in this process, is no longer held (pages join it no more)."""

    async def session_holder(self, session_id: str) -> str | None:
        """Whom session ``session_id`` belongs to while a live process holds it, else None."""

    async def stop(self) -> None:
        """Leave the cluster."""

    def relay_figures(self) -> tuple[int, int, int]:
        """Relayed websockets this process holds, those it owns the sessions of, and messages it held back."""


def redis_url(layer: Any) -> str:
    """The cluster's Redis: ``DOCSYNC["REDIS_URL"]``, else the channel layer's first host."""
    configured = docsync_settings().REDIS_URL
    if configured:
        return str(configured)
    host = layer.hosts[0]
    return str(host["address"] if isinstance(host, dict) else host)
