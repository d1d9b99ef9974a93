"""A client's message buckets (server/message_rates.py ClientRates), on a clock the test moves."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from docsync.exceptions import RateLimitedError
from docsync.server.message_rates import ClientRates

KEY = "address:10.0.0.1"
REFUSED = "this client sends too many messages: 5 at once, then 2 per second (MAX_PATCHES_PER_SECOND_PER_CLIENT)"
DOCUMENTS_REFUSED = (
    "this client sends too many document requests: 3 at once, then 1 per second "
    "(MAX_DOCUMENT_REQUESTS_PER_SECOND_PER_CLIENT)"
)


class Clock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _settings(rate: float | None = 2.0, documents: float | None = 1.0) -> SimpleNamespace:
    return SimpleNamespace(
        MAX_PATCHES_PER_SECOND_PER_CLIENT=rate,
        MAX_PATCHES_PER_CLIENT_BURST=5,
        MAX_DOCUMENT_REQUESTS_PER_SECOND_PER_CLIENT=documents,
        MAX_DOCUMENT_REQUESTS_PER_CLIENT_BURST=3,
    )


def _taken(rates: ClientRates, clock: Clock, tries: int) -> int:
    """Open a connection, take up to ``tries`` messages on it, close it: how many were taken."""
    rate = rates.join(KEY, _settings())
    assert rate is not None
    taken = 0
    for _ in range(tries):
        if not rate.take_message(clock.now):
            break
        taken += 1
    rates.leave(rate)
    return taken


def test_reconnecting_does_not_refill_the_bucket() -> None:
    clock = Clock()
    rates = ClientRates(clock=clock)
    # Ten connections one after another, each asking for 5: the client's 5 in all.
    assert [_taken(rates, clock, 5) for _ in range(10)] == [5] + [0] * 9
    clock.now += 1.0  # two messages' worth
    assert _taken(rates, clock, 5) == 2


def test_a_clients_connections_share_one_bucket_and_another_client_has_its_own() -> None:
    clock = Clock()
    rates = ClientRates(clock=clock)
    first, second = rates.join(KEY, _settings()), rates.join(KEY, _settings())
    other = rates.join("user:7", _settings())
    assert first is second and first is not None and other is not None
    assert [first.take_message(clock.now) for _ in range(3)] == [True] * 3
    assert [second.take_message(clock.now) for _ in range(3)] == [True, True, False]
    assert other.take_message(clock.now)
    assert str(first.refusal(documents=False)) == REFUSED
    assert first.refusal(documents=False).close_code == 4029


def test_a_new_connection_is_refused_while_a_bucket_is_empty_and_counted() -> None:
    clock = Clock()
    rates = ClientRates(clock=clock)
    rate = rates.join(KEY, _settings())
    assert rate is not None
    rates.check_open(rate)  # full: taken
    assert [rate.take_document_request(clock.now) for _ in range(4)] == [True, True, True, False]
    later = rates.join(KEY, _settings())
    assert later is rate
    with pytest.raises(RateLimitedError) as refused:
        rates.check_open(later)
    assert str(refused.value) == DOCUMENTS_REFUSED
    assert rates.refused == {"MAX_PATCHES_PER_SECOND_PER_CLIENT": 0, "MAX_DOCUMENT_REQUESTS_PER_SECOND_PER_CLIENT": 1}
    clock.now += 1.0  # a request's worth
    rates.check_open(later)


def test_no_client_or_both_rates_off_count_nothing() -> None:
    rates = ClientRates(clock=Clock())
    assert rates.join(None, _settings()) is None
    assert rates.join(KEY, _settings(rate=None, documents=0)) is None
    messages_only = rates.join(KEY, _settings(documents=None))
    assert messages_only is not None and messages_only.documents is None
    assert all(messages_only.take_document_request(0.0) for _ in range(100))


def test_the_table_keeps_only_idle_clients_whose_buckets_are_not_full_again() -> None:
    clock = Clock()
    rates = ClientRates(clock=clock)
    for n in range(1000):
        rate = rates.join(f"address:10.0.{n // 256}.{n % 256}", _settings())
        assert rate is not None and rate.take_message(clock.now)
        rates.leave(rate)
        clock.now += 0.01
    # One message of a bucket of 5 at 2 per second is back 0.5 s later: the clients of
    # the last half second (about 50) are kept, not all 1,000.
    assert len(rates) <= 60


def test_an_attacker_rotating_addresses_cannot_grow_the_idle_table_past_its_bound() -> None:
    clock = Clock()
    rates = ClientRates(max_idle=100, clock=clock)
    for n in range(5000):
        rate = rates.join(f"address:10.{n // 65536}.{n // 256 % 256}.{n % 256}", _settings())
        assert rate is not None
        while rate.take_message(clock.now):
            pass
        rates.leave(rate)
    assert len(rates) == 100


def test_buckets_held_by_an_open_connection_are_never_dropped() -> None:
    clock = Clock()
    rates = ClientRates(max_idle=1, clock=clock)
    held = rates.join(KEY, _settings())
    assert held is not None
    while held.take_message(clock.now):
        pass
    for n in range(50):  # other clients come and go, past the idle bound
        other = rates.join(f"address:10.1.0.{n}", _settings())
        assert other is not None and other.take_message(clock.now)
        rates.leave(other)
    again = rates.join(KEY, _settings())
    assert again is held and not again.take_message(clock.now)
