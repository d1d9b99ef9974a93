"""Lifecycle hooks of the lifecycle app: counts kept on the server context, as Bokeh apps keep them."""

from __future__ import annotations

from typing import Any


def on_server_loaded(server_context: Any) -> None:
    server_context.sessions_made = 0
    server_context.sessions_ended = 0


def on_session_created(session_context: Any) -> None:
    session_context.server_context.sessions_made += 1


def on_session_destroyed(session_context: Any) -> None:
    session_context.server_context.sessions_ended += 1
