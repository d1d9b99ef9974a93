"""QueuedShares: one share per client with connections on the process, gone with its last one."""

from __future__ import annotations

from docsync.server.queued_shares import QueuedShares


def test_a_clients_connections_count_against_one_share() -> None:
    shares = QueuedShares()
    first = shares.join("address:10.0.0.1", 100)
    second = shares.join("address:10.0.0.1", 100)
    other = shares.join("address:10.0.0.2", 100)
    assert first is second and first is not other and first is not None
    assert (first.connections, first.cap) == (2, 100)


def test_a_share_is_forgotten_with_its_clients_last_connection() -> None:
    shares = QueuedShares()
    share = shares.join("user:7", 100)
    assert share is not None
    shares.join("user:7", 100)
    shares.leave(share)
    assert "user:7" in shares.by_client
    shares.leave(share)
    assert shares.by_client == {}


def test_nothing_is_counted_without_a_client_or_a_cap() -> None:
    shares = QueuedShares()
    assert shares.join(None, 100) is None
    assert shares.join("address:10.0.0.1", None) is None
    assert shares.by_client == {}
