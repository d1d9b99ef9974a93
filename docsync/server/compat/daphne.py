"""daphne internals: let it close websockets with the codes and reasons docsync sends.

daphne turns an application's ``websocket.close`` into autobahn's ``sendClose``, which
accepts only 1000 and 3000-4999 and raises for anything else; it also drops the
reason. A refusal with 1002/1008/1009/1011 would end in a traceback and a bare 1011.
ASGI lets the application choose any close code, so daphne's reply handler is wrapped
to send every code RFC 6455 lets an endpoint send, with its reason. Other servers
(uvicorn) send them already and are left alone.

daphne also drops an empty ``websocket.send`` (it tests the payload's truth), so the
payload frame of an empty buffer (an empty array) never left and the client's frame
sequence broke. The same wrapper sends empty frames.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["SENDABLE_CLOSE_CODES", "allow_protocol_close_codes"]

#: Codes an endpoint may put in a close frame (RFC 6455 section 7.4 and the IANA registry).
SENDABLE_CLOSE_CODES = frozenset({1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014}) | frozenset(
    range(3000, 5000)
)
_MAX_REASON_BYTES = 123  # a control frame's payload is at most 125 bytes, 2 for the code


def _reason_bytes(reason: Any) -> bytes | None:
    if not isinstance(reason, str) or not reason:
        return None
    return reason.encode("utf-8")[:_MAX_REASON_BYTES].decode("utf-8", "ignore").encode("utf-8")


def allow_protocol_close_codes() -> None:
    """Wrap daphne's reply handler, once, if this process runs daphne."""
    module = sys.modules.get("daphne.ws_protocol")
    if module is None:
        return
    protocol = module.WebSocketProtocol
    original = protocol.handle_reply
    if getattr(original, "docsync_close_codes", False):
        return

    def handle_reply(self: Any, message: dict[str, Any]) -> None:
        if message.get("type") == "websocket.close" and self.state == self.STATE_OPEN:
            code = message.get("code") or 1000
            if code in SENDABLE_CLOSE_CODES:
                self.sendCloseFrame(code=code, reasonUtf8=_reason_bytes(message.get("reason")), isReply=False)
                return
        if message.get("type") == "websocket.send" and self.state == self.STATE_OPEN:
            data, text = message.get("bytes"), message.get("text")
            if data is not None and text is None and len(data) == 0:
                self.sendMessage(b"", True)
                return
            if text == "" and data is None:
                self.sendMessage(b"", False)
                return
        original(self, message)

    handle_reply.docsync_close_codes = True  # type: ignore[attr-defined]
    protocol.handle_reply = handle_reply
