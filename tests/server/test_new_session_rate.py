"""The new-session token buckets (server/clients.py NewSessionRate), on a clock the test moves."""

from __future__ import annotations

import pytest

from docsync.exceptions import RateLimitedError
from docsync.server.clients import NewSessionRate

REFUSED = "this client makes sessions too fast: 3 at once, then 2 per second (NEW_SESSIONS_PER_CLIENT_PER_SECOND)"


class Clock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_client_makes_its_burst_then_one_per_refill() -> None:
    clock = Clock()
    rate = NewSessionRate(clock=clock)
    for _ in range(3):
        rate.take("address:10.0.0.1", 3, 2.0)
    with pytest.raises(RateLimitedError) as refused:
        rate.take("address:10.0.0.1", 3, 2.0)
    assert (str(refused.value), refused.value.close_code, rate.refused) == (REFUSED, 4029, 1)
    rate.take("address:10.0.0.2", 3, 2.0)  # another client has its own bucket
    clock.now += 0.5  # one session's worth
    rate.take("address:10.0.0.1", 3, 2.0)
    with pytest.raises(RateLimitedError):
        rate.take("address:10.0.0.1", 3, 2.0)
    assert rate.refused == 2


def test_no_client_or_a_rate_of_zero_or_none_counts_nothing() -> None:
    rate = NewSessionRate(clock=Clock())
    for _ in range(10):
        rate.take(None, 1, 2.0)
        rate.take("address:10.0.0.1", 1, 0)
        rate.take("address:10.0.0.1", 1, None)
    assert (len(rate), rate.refused) == (0, 0)


def test_the_table_keeps_only_buckets_not_yet_full_again() -> None:
    clock = Clock()
    rate = NewSessionRate(clock=clock)
    for n in range(1000):
        rate.take(f"address:10.0.{n // 256}.{n % 256}", 3, 2.0)
        clock.now += 0.01
    # A bucket of 3 at 2 per second is full again 0.5 s after its one session: the
    # clients of the last half second (about 50) are kept, not all 1,000.
    assert len(rate) <= 60


def test_an_attacker_rotating_addresses_cannot_grow_the_table_past_its_bound() -> None:
    clock = Clock()
    rate = NewSessionRate(max_clients=100, clock=clock)
    for n in range(10_000):  # none refilled: the clock stands still
        rate.take(f"address:2001:db8:{n:x}::/64", 60, 2.0)
    assert len(rate) == 100
    # The most recent clients are the ones kept: one of them is still counted.
    for _ in range(59):
        rate.take("address:2001:db8:270f::/64", 60, 2.0)
    with pytest.raises(RateLimitedError):
        rate.take("address:2001:db8:270f::/64", 60, 2.0)
