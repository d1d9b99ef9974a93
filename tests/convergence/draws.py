"""A ``random.Random`` whose common draws take one Python call instead of three or four.

The workload draws a few dozen integers per step (which client, which action, how many
messages arrive); through ``randint`` -> ``randrange`` -> ``_randbelow`` each is three
calls, and a weighted pick through ``choices`` builds a list. ``Draws`` does the same
arithmetic on the same bits of the same generator (CPython's ``_randbelow_with_getrandbits``
and ``choices``), so a seed gives the very same draws as ``random.Random``: the workload
stays the same workload (``test_draws_match_random`` compares them).
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Sequence
from typing import Any, TypeVar

__all__ = ["Draws"]

T = TypeVar("T")
#: The populations ``Draws.sample`` draws from itself (those it tells apart without an ABC check).
_SMALL_POPULATIONS = (list, tuple, range)


class Draws(random.Random):
    """``random.Random`` with the workload's draws in one call each (the same values for a seed)."""

    def below(self, n: int) -> int:
        """A random int in [0, n) for n > 0, as ``Random._randbelow`` draws it."""
        getrandbits = self.getrandbits
        k = n.bit_length()
        r = getrandbits(k)
        while r >= n:
            r = getrandbits(k)
        return r

    def randint(self, a: int, b: int) -> int:
        """``Random.randint`` in one call (for a <= b)."""
        n = b - a + 1
        if n <= 0:
            return super().randint(a, b)  # (raises as it does)
        getrandbits = self.getrandbits
        k = n.bit_length()
        r = getrandbits(k)
        while r >= n:
            r = getrandbits(k)
        return a + r

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:  # type: ignore[override]
        """``Random.randrange`` in one call for ``randrange(n)``."""
        if stop is not None or step != 1 or type(start) is not int or start <= 0:
            return super().randrange(start, stop, step)
        getrandbits = self.getrandbits
        k = start.bit_length()
        r = getrandbits(k)
        while r >= start:
            r = getrandbits(k)
        return r

    def choice(self, seq: Sequence[T]) -> T:
        """``Random.choice`` in one call."""
        n = len(seq)
        if not n:
            raise IndexError("Cannot choose from an empty sequence")
        getrandbits = self.getrandbits
        k = n.bit_length()
        r = getrandbits(k)
        while r >= n:
            r = getrandbits(k)
        return seq[r]

    def sample(self, population: Any, k: int, *, counts: Any = None) -> list[Any]:
        """``Random.sample``: for a few items of a small list, tuple or range, without its ABC check.

        Its pool way (``k`` of at most 5 from at most 21 items), the same draws in the same order.
        """
        if counts is not None or not 0 <= k <= 5 or type(population) not in _SMALL_POPULATIONS or len(population) > 21:
            return super().sample(population, k, counts=counts)
        n = len(population)
        pool = list(population)
        result = []
        getrandbits = self.getrandbits
        for i in range(k):
            m = n - i
            b = m.bit_length()
            j = getrandbits(b)
            while j >= m:
                j = getrandbits(b)
            result.append(pool[j])
            pool[j] = pool[m - 1]  # the item not chosen moves into the vacancy
        return result

    def pick(self, population: Sequence[T], cum_weights: Sequence[Any]) -> T:
        """``choices(population, cum_weights=cum_weights)[0]``, without the list."""
        return population[bisect(cum_weights, self.random() * (cum_weights[-1] + 0.0), 0, len(population) - 1)]
