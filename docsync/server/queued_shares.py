"""Bytes a process holds for one client's outgoing messages, under ``MAX_QUEUED_BYTES_PER_CLIENT``.

Each connection's outbox is bounded by ``MAX_QUEUED_BYTES`` (outbox.py), but one client
may hold ``MAX_CONNECTIONS_PER_CLIENT`` sockets: one that reads none of them, each sent
a large document, had the process hold hundreds of times the bound. A
:class:`QueuedShare` counts what every connection of one client (server/clients.py's
key, as ``MAX_CONNECTIONS_PER_CLIENT`` counts it, where the socket is held) holds:
queued in its outbox, being written, and written but still held by the ASGI server's
transport. Each outbox adds and takes away its own bytes, inline; a message that would
take its client past the share closes its connection (4009, as a slow reader).
"""

from __future__ import annotations

__all__ = ["QueuedShare", "QueuedShares"]


class QueuedShare:
    """One client's bytes held for its connections' outgoing messages, and its cap."""

    __slots__ = ("cap", "connections", "held", "key")

    def __init__(self, key: str, cap: int) -> None:
        self.key = key
        self.cap = cap
        #: Bytes queued, being written, or held by the transport, all its connections together.
        self.held = 0
        self.connections = 0


class QueuedShares:
    """The share of each client with a connection on this process."""

    def __init__(self) -> None:
        self.by_client: dict[str, QueuedShare] = {}
        #: Connections closed (4009) because a message would have taken their client past its share.
        self.refused = 0

    def join(self, key: str | None, cap: int | None) -> QueuedShare | None:
        """Count one more connection of ``key`` against ``cap``; return its share (None: not counted)."""
        if key is None or cap is None:
            return None
        share = self.by_client.get(key)
        if share is None:
            share = self.by_client[key] = QueuedShare(key, cap)
        share.cap = cap
        share.connections += 1
        return share

    def leave(self, share: QueuedShare) -> None:
        """Stop counting one connection of ``share``'s client (its outbox has given its bytes back)."""
        share.connections -= 1
        if share.connections <= 0 and self.by_client.get(share.key) is share:
            del self.by_client[share.key]  # a client gone leaves nothing behind
