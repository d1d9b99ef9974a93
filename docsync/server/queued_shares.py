"""Bytes a process holds for one client's outgoing messages, under ``MAX_QUEUED_BYTES_PER_CLIENT``.

Each connection's outbox is bounded by ``MAX_QUEUED_BYTES`` (outbox.py), but one client
may hold ``MAX_CONNECTIONS_PER_CLIENT`` sockets: one that reads none of them, each sent
a large document, had the process hold hundreds of times the bound. A
:class:`QueuedShare` counts what every connection of one client (server/clients.py's
key, as ``MAX_CONNECTIONS_PER_CLIENT`` counts it, where the socket is held) holds:
queued in its outbox, being written, and written but still held by the ASGI server's
transport. Each outbox adds and takes away its own bytes, inline. A message that would
take its client past the share closes the client's connection holding the most bytes
(4009, as a slow reader): the silent one, not an honest tab of the same address (a NAT,
an IPv6 /64) that reads, and that the message was for. The walk over the client's
connections (at most ``MAX_CONNECTIONS_PER_CLIENT``) is taken only then.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["QueuedShare", "QueuedShares", "ShareHolder"]


class ShareHolder(Protocol):
    """One connection's bytes counted against its client's share (its outbox)."""

    @property
    def pending_bytes(self) -> int:
        """Bytes it holds: queued, being written, and held by the transport."""

    def give_way(self, size: int) -> None:
        """Stop and close its connection, giving its bytes back, so a message of ``size`` bytes fits."""


class QueuedShare:
    """One client's bytes held for its connections' outgoing messages, and its cap."""

    __slots__ = ("cap", "connections", "held", "holders", "key")

    def __init__(self, key: str, cap: int) -> None:
        self.key = key
        self.cap = cap
        #: Bytes queued, being written, or held by the transport, all its connections together.
        self.held = 0
        self.connections = 0
        #: Its connections' outboxes, walked only when a message would pass the cap.
        self.holders: set[ShareHolder] = set()

    def biggest_holders(self, than: ShareHolder) -> list[ShareHolder]:
        """Return the holders holding more than ``than``, the biggest first (it wins ties)."""
        least = than.pending_bytes
        bigger = [holder for holder in self.holders if holder is not than and holder.pending_bytes > least]
        bigger.sort(key=lambda holder: holder.pending_bytes, reverse=True)
        return bigger


class QueuedShares:
    """The share of each client with a connection on this process."""

    def __init__(self) -> None:
        self.by_client: dict[str, QueuedShare] = {}
        #: Connections closed (4009) because a message would have taken their client past its share.
        self.refused = 0

    def join(self, key: str | None, cap: int | None, holder: ShareHolder) -> QueuedShare | None:
        """Count ``holder``, one more connection of ``key``, against ``cap``; return its share (None: not counted)."""
        if key is None or cap is None:
            return None
        share = self.by_client.get(key)
        if share is None:
            share = self.by_client[key] = QueuedShare(key, cap)
        share.cap = cap
        share.connections += 1
        share.holders.add(holder)
        return share

    def leave(self, share: QueuedShare, holder: ShareHolder) -> None:
        """Stop counting ``holder``, one connection of ``share``'s client (it has given its bytes back)."""
        share.holders.discard(holder)
        share.connections -= 1
        if share.connections <= 0 and self.by_client.get(share.key) is share:
            del self.by_client[share.key]  # a client gone leaves nothing behind
