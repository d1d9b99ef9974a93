"""The client's own bucket (docsync.sync.pacing.Pacer), on a clock the test moves."""

from __future__ import annotations

import pytest

from docsync.sync.pacing import Pacer


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_of_less_than_the_rate_then_the_rate() -> None:
    clock = Clock()
    pacer = Pacer(20, clock)
    # One token less than the server's 20, and a tenth less: 18 at once.
    assert [pacer.take() for _ in range(19)] == [True] * 18 + [False]
    assert pacer.delay() == pytest.approx(1 / 20, abs=1e-5)
    clock.now += pacer.delay()
    assert pacer.ready() and pacer.take() and not pacer.take()
    clock.now += 10.0  # refilled up to the burst, no further
    assert sum(pacer.take() for _ in range(40)) == 18
    pacer.reset()  # a new connection: full again
    assert sum(pacer.take() for _ in range(40)) == 18


def test_small_rates_keep_one_at_once() -> None:
    assert Pacer(1).burst == 1.0 and Pacer(2).burst == 1.0 and Pacer(200).burst == 180.0


@pytest.mark.parametrize("rate", [0, -1, float("nan"), float("inf"), "20"])
def test_a_rate_that_is_not_a_positive_number_is_refused(rate: object) -> None:
    with pytest.raises(ValueError, match="positive number"):
        Pacer(rate)  # type: ignore[arg-type]
