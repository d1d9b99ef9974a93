"""A client's message buckets (server/message_rates.py ClientRates), on a clock the test moves."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from docsync.exceptions import RateLimitedError
from docsync.server.message_rates import (
    DOCUMENT_REQUESTS_LIMIT,
    FRAMES_LIMIT,
    MESSAGES_LIMIT,
    VALUES_LIMIT,
    ClientRates,
)

KEY = "address:10.0.0.1"
REFUSED = "this client sends too many messages: 5 at once, then 2 per second (MAX_PATCHES_PER_SECOND_PER_CLIENT)"
DOCUMENTS_REFUSED = (
    "this client sends too many document requests: 3 at once, then 1 per second "
    "(MAX_DOCUMENT_REQUESTS_PER_SECOND_PER_CLIENT)"
)
VALUES_REFUSED = (
    "this client sends too many JSON values: 2200000 at once, then 500000 per second (MAX_VALUES_PER_SECOND_PER_CLIENT)"
)


class Clock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _settings(
    rate: float | None = 2.0, documents: float | None = 1.0, values: float | None = None, frames: float | None = None
) -> SimpleNamespace:
    return SimpleNamespace(
        MAX_PATCHES_PER_SECOND_PER_CLIENT=rate,
        MAX_PATCHES_PER_CLIENT_BURST=5,
        MAX_DOCUMENT_REQUESTS_PER_SECOND_PER_CLIENT=documents,
        MAX_DOCUMENT_REQUESTS_PER_CLIENT_BURST=3,
        MAX_VALUES_PER_SECOND_PER_CLIENT=values,
        MAX_VALUES_PER_CLIENT_BURST=2_200_000,
        MAX_WEBSOCKET_FRAMES_PER_SECOND_PER_CLIENT=frames,
        MAX_WEBSOCKET_FRAMES_PER_CLIENT_BURST=1_000,
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
    assert str(first.refusal(MESSAGES_LIMIT)) == REFUSED
    assert first.refusal(MESSAGES_LIMIT).close_code == 4029


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
    assert rates.refused == {MESSAGES_LIMIT: 0, DOCUMENT_REQUESTS_LIMIT: 1, VALUES_LIMIT: 0, FRAMES_LIMIT: 0}
    clock.now += 1.0  # a request's worth
    rates.check_open(later)


def test_no_client_or_both_rates_off_count_nothing() -> None:
    rates = ClientRates(clock=Clock())
    assert rates.join(None, _settings()) is None
    assert rates.join(KEY, _settings(rate=None, documents=0)) is None
    assert rates.join(KEY, _settings(rate=None, documents=0, values=0)) is None
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


def _zeros(count: int) -> str:
    """A content frame of ``count`` values (as MAX_FRAME_VALUES counts them: its separators)."""
    return '{"new":[' + ",".join(["0"] * count) + "]}"


def test_a_clients_frames_take_their_values_from_its_bucket() -> None:
    clock = Clock()
    rates = ClientRates(clock=clock)
    first, second = rates.join(KEY, _settings(values=500_000.0)), rates.join(KEY, _settings(values=500_000.0))
    assert first is second and first is not None and first.values is not None
    frame = _zeros(1_100_000)  # 1,099,999 commas and its one colon: MAX_FRAME_VALUES' 1,100,000
    assert first.take_values(frame, clock.now)  # two at once, from either socket
    assert second.take_values(frame, clock.now)
    assert first.values.level(clock.now) == 0.0
    assert first.take_values("{}", clock.now)  # no separator: nothing to take
    assert not first.take_values('{"a":0}', clock.now)  # one value more is refused, and none taken
    assert str(first.refusal(VALUES_LIMIT)) == VALUES_REFUSED
    assert first.refusal(VALUES_LIMIT).close_code == 4029
    clock.now += 2.0  # a million values' worth: not yet a maximal frame's
    assert not first.take_values(frame, clock.now)
    clock.now += 0.2
    assert first.take_values(frame, clock.now)
    # Another client has its own bucket.
    other = rates.join("user:7", _settings(values=500_000.0))
    assert other is not None and other.take_values(frame, clock.now)


def test_commas_and_colons_inside_strings_never_refuse_a_frame() -> None:
    clock = Clock()
    rates = ClientRates(clock=clock)
    rate = rates.join(KEY, _settings(values=1.0))
    assert rate is not None and rate.values is not None
    # 3,000,001 commas and colons, more than the bucket holds: counted exactly, one value.
    text = '{"value":"' + "a,b:" * 1_500_000 + '"}'
    assert rate.take_values(text, clock.now) and rate.take_values(text, clock.now)
    assert rate.values.level(clock.now) == 2_200_000 - 2
    # Fewer than it holds are taken as counted in C (strings' commas too, the cheap count)...
    csv = '{"value":"' + "," * 1_000_000 + '"}'
    assert rate.take_values(csv, clock.now) and rate.take_values(csv, clock.now)
    assert rate.values.level(clock.now) == 2_200_000 - 2 - 2 * 1_000_001
    # ... and once they are more, exactly again: such a frame is never refused.
    assert rate.take_values(csv, clock.now)
    assert rate.values.level(clock.now) == 2_200_000 - 2 - 2 * 1_000_001 - 1


def test_a_new_connection_is_refused_while_the_values_bucket_is_empty() -> None:
    clock = Clock()
    rates = ClientRates(clock=clock)
    rate = rates.join(KEY, _settings(rate=None, documents=None, values=1.0))
    assert rate is not None and rate.messages is None and rate.documents is None
    assert rate.take_values(_zeros(1_100_000), clock.now) and rate.take_values(_zeros(1_100_000), clock.now)
    with pytest.raises(RateLimitedError) as refused:
        rates.check_open(rate)
    assert str(refused.value) == (
        "this client sends too many JSON values: 2200000 at once, then 1 per second (MAX_VALUES_PER_SECOND_PER_CLIENT)"
    )
    assert rates.refused[VALUES_LIMIT] == 1
    clock.now += 1.0  # a value's worth
    rates.check_open(rate)


def test_a_new_connection_waits_until_the_bucket_holds_the_frame_it_last_refused() -> None:
    # Reconnecting and sending a refused frame again at once cost its count each time, for nothing.
    clock = Clock()
    rates = ClientRates(clock=clock)
    rate = rates.join(KEY, _settings(rate=None, documents=None, values=500_000.0))
    assert rate is not None and rate.values is not None
    frame = _zeros(1_100_000)
    assert rate.take_values(frame, clock.now) and rate.take_values(frame, clock.now)
    assert not rate.take_values(frame, clock.now)
    clock.now += 2.0  # a million values back: not yet the frame's 1,100,000
    with pytest.raises(RateLimitedError):
        rates.check_open(rate)
    clock.now += 0.2
    rates.check_open(rate)
    assert rate.take_values(frame, clock.now)
    clock.now += 0.01
    assert rate.take_values('{"a":0}', clock.now)  # taken: one value is needed again
    rates.check_open(rate)


def test_a_clients_websocket_frames_are_charged_into_debt_and_a_new_connection_waits_until_it_is_paid() -> None:
    # The frames of a read were parsed before they could be refused: a refusal that took
    # nothing left the bucket full, and the client reconnected and was served at once.
    clock = Clock()
    rates = ClientRates(clock=clock)
    rate = rates.join(KEY, _settings(rate=None, documents=None, frames=100.0))
    assert rate is not None and rate.frames is not None and rate.values is None
    assert rate.take_frames(600, clock.now) and rate.take_frames(400, clock.now)  # the burst, 1,000
    assert not rate.take_frames(3_000, clock.now)  # past it: charged all the same
    assert rate.frames.level(clock.now) == -3_000
    with pytest.raises(RateLimitedError) as refused:
        rates.check_open(rate)
    assert str(refused.value) == (
        "this client sends too many websocket frames: 1000 at once, then 100 per second "
        "(MAX_WEBSOCKET_FRAMES_PER_SECOND_PER_CLIENT)"
    )
    assert rates.refused[FRAMES_LIMIT] == 1
    clock.now += 30.0  # 3,000 back: the debt paid, not yet a frame
    with pytest.raises(RateLimitedError):
        rates.check_open(rate)
    clock.now += 0.02
    rates.check_open(rate)
    assert rate.take_frames(1, clock.now)
    # Turned off, nothing is counted; its buckets full again, the client is forgotten.
    assert rates.join("address:10.0.0.2", _settings(rate=None, documents=None, frames=None)) is None
    clock.now += 100.0
    rates.leave(rate)
    assert len(rates) == 0
