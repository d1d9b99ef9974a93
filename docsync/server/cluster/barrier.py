"""A refusal on a relayed websocket, held until its owner has answered every message sent before it.

A local socket's session answers each message before the next frame is read, so a
refused frame's ERROR and close come after every earlier answer. A relayed socket's
messages are answered by the owner, later: closed at once, the socket lost the answers
still on their way (an OK to a patch that was applied). So the relaying process sends
the owner a SERVER-INFO-REQ of its own after the client's messages and closes when its
reply comes back, which the owner sends after every earlier answer (a connection's
messages are handled and answered in order). The reply itself is not written.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from ...protocol import Message
from ...protocol.msgtypes import SERVER_INFO_REQ

__all__ = ["RefusalBarrier"]


class RefusalBarrier:
    """A refusal (close code, reason, detail) waiting for the owner's reply to ``request``."""

    __slots__ = ("code", "detail", "reason", "request")

    def __init__(self, code: int, reason: str, detail: str | None) -> None:
        self.code = code
        self.reason = reason
        self.detail = detail
        # A msgid no client can have chosen: the owner answers the client's own requests too.
        self.request = Message({"msgid": f"relay-barrier-{secrets.token_hex(12)}", "msgtype": SERVER_INFO_REQ})

    def through(self, frames: list[Any]) -> tuple[list[Any], bool]:
        """Split the owner's ``frames`` (whole messages): those to write, and whether the reply was among them.

        What follows the reply is written too: the owner's other messages (a change, the
        close it asked for) still come in order.
        """
        msgid = self.request.msgid
        kept: list[Any] = []
        answered = False
        start = 0
        while start < len(frames):
            header_frame = frames[start]
            header = json.loads(header_frame if isinstance(header_frame, str | bytes) else bytes(header_frame))
            end = start + 3 + 2 * int(header.get("num_buffers") or 0)
            if not answered and header.get("reqid") == msgid:
                answered = True
            else:
                kept += frames[start:end]
            start = end
        return kept, answered
