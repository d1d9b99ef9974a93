"""Broadcast: a message to every session of an application, in every process."""

from __future__ import annotations

from typing import Any

from ..registry import SessionRegistry
from .wire import BROADCAST

__all__ = ["app_group", "broadcast", "on_broadcast"]


def app_group(app_path: str) -> str:
    """The channel-layer group reaching every process serving ``app_path``."""
    return f"docsync-app-{app_path}"[:90]


async def broadcast(layer: Any, app_path: str, msg_type: str, msg_data: Any) -> None:
    """Send a message to every session of ``app_path`` in every process."""
    message = {"type": BROADCAST, "app": app_path, "msg_type": msg_type, "msg_data": msg_data}
    await layer.group_send(app_group(app_path), message)


def on_broadcast(registry: SessionRegistry, message: dict[str, Any]) -> None:
    """Queue a broadcast for this process's sessions of its app (the listener waits for no lock)."""
    context = registry.get_context(message["app"])
    if context is not None:
        context.broadcast(message["msg_type"], message.get("msg_data"))
