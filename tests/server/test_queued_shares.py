"""QueuedShares: one share per client with connections on the process, gone with its last one."""

from __future__ import annotations

from docsync.server.queued_shares import QueuedShares


class Holder:
    """A connection's outbox, as the share sees it."""

    def __init__(self, pending_bytes: int = 0) -> None:
        self.pending_bytes = pending_bytes
        self.gave_way: list[int] = []

    def give_way(self, size: int) -> None:
        self.gave_way.append(size)


def test_a_clients_connections_count_against_one_share() -> None:
    shares = QueuedShares()
    first = shares.join("address:10.0.0.1", 100, Holder())
    second = shares.join("address:10.0.0.1", 100, Holder())
    other = shares.join("address:10.0.0.2", 100, Holder())
    assert first is second and first is not other and first is not None
    assert (first.connections, first.cap) == (2, 100)


def test_a_share_is_forgotten_with_its_clients_last_connection() -> None:
    shares = QueuedShares()
    first, second = Holder(), Holder()
    share = shares.join("user:7", 100, first)
    assert share is not None
    shares.join("user:7", 100, second)
    shares.leave(share, first)
    assert "user:7" in shares.by_client and share.holders == {second}
    shares.leave(share, second)
    assert shares.by_client == {} and not share.holders


def test_nothing_is_counted_without_a_client_or_a_cap() -> None:
    shares = QueuedShares()
    assert shares.join(None, 100, Holder()) is None
    assert shares.join("address:10.0.0.1", None, Holder()) is None
    assert shares.by_client == {}


def test_the_holders_bigger_than_one_are_walked_biggest_first() -> None:
    shares = QueuedShares()
    holders = [Holder(n) for n in (300, 900, 100, 600)]
    for holder in holders:
        share = shares.join("address:10.0.0.1", 1000, holder)
    assert share is not None
    assert share.biggest_holders(holders[2]) == [holders[1], holders[3], holders[0]]
    assert share.biggest_holders(holders[1]) == []  # it holds the most itself
    assert share.biggest_holders(Holder(600)) == [holders[1]]  # a tie is not bigger
