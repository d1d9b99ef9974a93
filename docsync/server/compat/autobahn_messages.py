"""autobahn internals: a message's way from autobahn's frame parser to daphne's ``onMessage``, shortened.

Each incoming message passes autobahn's Twisted adapter six times on the way
(``_onMessageBegin`` calls ``onMessageBegin``, and so on), and at its end autobahn fires
its ``message`` event for observers daphne never registers: a Deferred made, resolved
and given an errback per message, about 30 Python calls of the 110 a client's frame
costs daphne. :func:`direct_messages` gives daphne's protocol class the six methods
themselves in place of those trampolines, and an ``onMessageEnd`` that fires the event
only where someone observes it (autobahn's own then). ``_onMessage`` stays as it is:
docsync counts queued bytes through an instance's ``onMessage`` (``compat.daphne``).
"""

from __future__ import annotations

import sys
from typing import Any

from .autobahn_logs import AUTOBAHN_CHECKED
from .versions import checked

__all__ = ["direct_messages"]

#: The adapter's trampolines given the method they call (not ``_onMessage``: see above).
_TRAMPOLINES = (
    "MessageBegin", "MessageFrameBegin", "MessageFrameData", "MessageFrameEnd", "MessageFrame", "MessageEnd",
)  # fmt: skip


def direct_messages() -> bool:
    """Let daphne's websockets hand a message from autobahn's parser to daphne directly, once; say whether they do."""
    module = sys.modules.get("daphne.ws_protocol")
    if module is None:
        return False
    protocol = module.WebSocketProtocol
    if protocol.__dict__.get("docsync_direct_messages", False):
        return True
    if not checked("autobahn", *AUTOBAHN_CHECKED):
        return False
    from autobahn.twisted.websocket import WebSocketAdapterProtocol
    from autobahn.websocket.protocol import WebSocketProtocol

    stock_end = WebSocketProtocol.onMessageEnd
    if getattr(protocol, "onMessageEnd", None) is not stock_end or any(
        getattr(protocol, f"_on{name}", None) is not getattr(WebSocketAdapterProtocol, f"_on{name}", False)
        for name in _TRAMPOLINES
    ):
        return False  # daphne or someone else changed them: left alone

    def onMessageEnd(self: Any) -> None:
        if self._listeners is not None:  # something observes autobahn's events: its own way
            stock_end(self)
            return
        # autobahn's, without firing "message" for no one (a Deferred and its errback).
        if not self.failedByMe:
            payload = b"".join(self.message_data)
            if self.trackedTimings:
                self.trackedTimings.track("onMessage")
            self._onMessage(payload, self.message_is_binary)
        self.message_data = None

    protocol.onMessageEnd = onMessageEnd
    for name in _TRAMPOLINES:
        setattr(protocol, f"_on{name}", getattr(protocol, f"on{name}"))
    protocol.docsync_direct_messages = True
    return True
