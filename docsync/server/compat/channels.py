"""Channels internals docsync works around: its session wrapper's send, per websocket frame."""

from __future__ import annotations

from typing import Any

from channels.sessions import InstanceSessionWrapper

__all__ = ["frame_send"]


def frame_send(send: Any) -> Any:
    """The ASGI send under Channels' session wrappers, for websocket frames.

    A session wrapper reads its (lazy) session on every message to decide whether to
    save it, which only HTTP responses ever do; per frame that read was ~5% of the
    server's time under round trips. Frames skip it; accept and close still pass it.
    """
    wrapper = getattr(send, "__self__", None)
    if isinstance(wrapper, InstanceSessionWrapper) and callable(getattr(wrapper, "real_send", None)):
        return frame_send(wrapper.real_send)
    return send
