"""``Draws`` draws what ``random.Random`` draws from the same seed: the workload stays the same."""

from __future__ import annotations

import random

from .draws import Draws


def test_draws_match_random() -> None:
    """Every draw the workload makes, interleaved at random, equals random.Random's on the same seed."""
    for seed in range(20):
        ours, theirs = Draws(seed), random.Random(seed)
        steer = random.Random(seed + 1000)
        weights = [30, 36, 42, 48, 58, 62, 67, 73, 77, 82, 86, 88, 90, 94]
        for _ in range(2000):
            n = steer.choice([1, 2, 3, 5, 7, 8, 17, 100, 1 << 40])
            which = steer.randrange(6)
            if which == 0:
                assert ours.randint(0, n - 1) == theirs.randint(0, n - 1)
            elif which == 1:
                assert ours.randint(2, 2 + n) == theirs.randint(2, 2 + n)
            elif which == 2:
                assert ours.randrange(n) == theirs.randrange(n)
            elif which == 3:
                assert ours.choice(range(n)) == theirs.choice(range(n))
            elif which == 4:
                assert ours.pick(range(14), weights) == theirs.choices(range(14), cum_weights=weights)[0]
            elif steer.random() < 0.5:
                assert ours.sample(range(10), 3) == theirs.sample(range(10), 3)
            else:  # a few of a small list (the workload's keys), up to every one of them
                population, k = [f"k{i}" for i in range(n % 22)], steer.randint(0, 5)
                assert ours.sample(population, min(k, len(population))) == theirs.sample(
                    population, min(k, len(population))
                )
        assert ours.random() == theirs.random()
