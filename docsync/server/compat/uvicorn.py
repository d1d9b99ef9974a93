"""uvicorn internals docsync relies on: which websocket implementations copy a payload, and their size limit."""

from __future__ import annotations

from typing import Any

__all__ = ["incoming_limit", "takes_views"]

#: ASGI servers whose websocket send copies a binary frame's payload before it returns,
#: so they take a memoryview safely (tests/server/test_uvicorn.py pulls 16 MB through one).
_SERVERS_TAKING_VIEWS = (
    "uvicorn.protocols.websockets.websockets_impl",
    "uvicorn.protocols.websockets.websockets_sansio_impl",
    "uvicorn.protocols.websockets.wsproto_impl",
)


def takes_views(send: Any) -> bool:
    """Tell whether ``send`` (the innermost ASGI send) accepts memoryviews as binary payloads.

    ASGI says bytes, so a buffer is copied into bytes at this boundary. Servers known to
    copy the payload into their frame anyway are handed the view, saving one copy of
    every array (a third of the server's time in a 16 MB pull).
    """
    owner = getattr(send, "__self__", None)
    return type(owner).__module__ in _SERVERS_TAKING_VIEWS


def incoming_limit(send: Any) -> int | None:
    """Return uvicorn's ``--ws-max-size`` for the websocket behind ``send``, or None under another server.

    uvicorn applies it to incoming messages only; docsync cannot raise it per
    connection, so a limit below ``MAX_FRAME_BYTES`` is reported (see the consumer).
    """
    owner = getattr(send, "__self__", None)
    config = getattr(owner, "config", None)
    if not type(owner).__module__.startswith("uvicorn.protocols.websockets.") or config is None:
        return None
    return int(config.ws_max_size)
