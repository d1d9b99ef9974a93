"""Channels internals docsync works around: its session wrapper's send, per websocket frame."""

from __future__ import annotations

from typing import Any

from channels.sessions import InstanceSessionWrapper

from .versions import Version, checked

__all__ = ["CHECKED", "OWN_RECEIVE_LOOP", "frame_send", "own_receive_loop"]

#: The Channels releases whose ``AsyncConsumer.__call__`` docsync's consumer replaces.
CHECKED: tuple[Version, Version] = ((4, 1), (4, 4))
#: Whether ``DocumentConsumer`` may run its own receive loop instead of Channels' (which
#: waits on the client and the consumer's channel with a new task and an
#: ``asyncio.wait`` per frame, ~10% of the server's time under round trips). The copy
#: relies on ``AsyncConsumer.__call__`` setting nothing a channel-less websocket
#: consumer reads but ``scope``, ``channel_layer`` and ``base_send`` (which ``send``
#: writes to). Another release takes Channels' own loop: correct, slower.
OWN_RECEIVE_LOOP = checked("channels", *CHECKED)


def own_receive_loop() -> bool:
    """Tell whether the consumer may run its own receive loop (``OWN_RECEIVE_LOOP``, read at each call)."""
    return OWN_RECEIVE_LOOP


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
