"""Pongs within a bound: a client that pings and never reads may not grow the server.

daphne (autobahn's ``onPing``) and uvicorn (its sansio websocket's ``handle_ping``)
answer every ping with a pong written straight to the transport, outside the flow
control of what the application sends. A client that sent 125-byte pings and read
nothing grew each server by about what it sent: 150 MB of pings took uvicorn 137 MiB and
daphne 169 MiB more (measured by helper-170), without end. Here, per websocket, the
pongs written while the transport holds more than ``PONG_BACKLOG_BYTES`` unsent are
counted, and past that many bytes of them a ping gets no pong until the transport has
drained below it. A client that reads gets every pong (its transport drains); one that
pings now and then behind a large message (a keep-alive) gets its few pongs too.
"""

from __future__ import annotations

import sys
from typing import Any

from .daphne import buffered_bytes, daphne_protocol
from .versions import checked

__all__ = ["PONG_BACKLOG_BYTES", "bound_pongs"]

#: Bytes of pongs a transport may hold unsent (and bytes unsent beyond which they count).
PONG_BACKLOG_BYTES = 64 * 1024

_SANSIO = "uvicorn.protocols.websockets.websockets_sansio_impl"
#: The uvicorn releases whose sansio ``handle_ping`` was checked to write only the pong
#: ``conn.data_to_send()`` holds, and to be looked up on the protocol for each ping.
_UVICORN_CHECKED = ((0, 52), (0, 56))
#: The autobahn releases whose ``_onPing`` calls ``self.onPing`` for each ping, which sends the pong.
_AUTOBAHN_CHECKED = ((26, 11), (27, 0))


class _Backlog:
    """The pongs written to one transport since it last held at most ``PONG_BACKLOG_BYTES``."""

    __slots__ = ("pending", "transport")

    def __init__(self, transport: Any) -> None:
        self.transport = transport
        self.pending = 0

    def allow(self, nbytes: int, held: int) -> bool:
        """Whether a pong of ``nbytes`` may be written to a transport holding ``held`` bytes unsent."""
        if held <= PONG_BACKLOG_BYTES:
            self.pending = 0  # it drains: the client reads
        elif self.pending + nbytes > PONG_BACKLOG_BYTES:
            return False
        self.pending += nbytes
        return True


# Callable objects with slots, not closures: one small object per websocket where a
# closure took a function, its cells and a backlog object (about 370 bytes, bench/budget.py).
class _UvicornPongs(_Backlog):
    """uvicorn's ``handle_ping`` for one connection: its pongs written within the bound."""

    __slots__ = ("conn", "open")

    def __init__(self, transport: Any, conn: Any, open_state: Any) -> None:
        super().__init__(transport)
        self.conn = conn
        self.open = open_state

    def __call__(self) -> None:
        # Taken whatever happens: websockets holds it otherwise. It is the pongs of every ping
        # of one read at once (websockets queues them as it parses), so they go or are dropped together.
        output = b"".join(self.conn.data_to_send())
        # Only an open connection's pong is held back: a close answered in the same read goes out.
        transport = self.transport
        if self.conn.state is not self.open or self.allow(len(output), transport.get_write_buffer_size()):
            transport.write(output)


class _DaphnePongs(_Backlog):
    """autobahn's ``onPing`` for one connection: its pongs sent within the bound."""

    __slots__ = ("send_pong",)

    def __init__(self, transport: Any, send_pong: Any) -> None:
        super().__init__(transport)
        self.send_pong = send_pong

    def __call__(self, payload: bytes) -> None:
        if self.allow(len(payload or b"") + 2, buffered_bytes(self.transport)):  # a server's frame: 2 bytes of header
            self.send_pong(payload)


def _bound_uvicorn(owner: Any) -> bool:
    transport = getattr(owner, "transport", None)
    conn = getattr(owner, "conn", None)
    if transport is None or conn is None or not hasattr(transport, "get_write_buffer_size"):
        return False
    from websockets.protocol import State

    owner.handle_ping = _UvicornPongs(transport, conn, State.OPEN)  # this connection only; looked up for each ping
    return True


def _bound_daphne(protocol: Any) -> bool:
    transport = getattr(protocol, "transport", None)
    if transport is None or not hasattr(protocol, "sendPong"):
        return False
    # This connection only; autobahn looks it up for each ping.
    protocol.onPing = _DaphnePongs(transport, protocol.sendPong)
    return True


def bound_pongs(send: Any) -> bool:
    """Bound the pongs the ASGI server writes for the websocket behind ``send``; say whether it could.

    ``send`` is the innermost ASGI send (``compat.frame_send``); call it once the
    websocket is accepted. Under another server, or a release not checked, nothing changes.
    """
    owner: Any = getattr(send, "__self__", None)
    if type(owner).__module__ == _SANSIO and getattr(send, "__name__", "") == "send":
        return checked("uvicorn", *_UVICORN_CHECKED) and _bound_uvicorn(owner)
    protocol = daphne_protocol(send)
    if protocol is not None and "autobahn" in sys.modules and checked("autobahn", *_AUTOBAHN_CHECKED):
        return _bound_daphne(protocol)
    return False
