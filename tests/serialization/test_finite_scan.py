"""A long list of floats is found finite in one C-level sum, not a call of ``math.isfinite`` per item.

Counted, not timed; the answer stays exact: a NaN or an infinity anywhere still gets
its typed value, and finite floats whose sum overflows are still copied as they are.
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import pytest

import docsync.serialization.encoder as encoder
from docsync.serialization import Encoder


class _Calls:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.isfinite = 0

        def isfinite(value: Any) -> bool:
            self.isfinite += 1
            return math.isfinite(value)

        monkeypatch.setattr(encoder, "math", SimpleNamespace(isfinite=isfinite, isnan=math.isnan, isinf=math.isinf))


def test_finite_floats_are_copied_without_a_call_per_item(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _Calls(monkeypatch)
    column = [i * 0.5 for i in range(5000)] + [3, True]
    encoded = Encoder().encode(column)
    assert encoded == column and encoded is not column
    assert calls.isfinite <= 1


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("where", [0, 2500, 4999])
def test_a_nonfinite_float_anywhere_is_still_typed(bad: float, where: int) -> None:
    column = [i * 0.5 for i in range(5000)]
    column[where] = bad
    encoded = Encoder().encode(column)
    assert encoded[where] == Encoder().encode(bad)
    assert encoded[:where] == column[:where]


def test_finite_floats_whose_sum_overflows_are_copied() -> None:
    column = [1.7e308] * 100 + [-1.7e308] * 100
    assert not math.isfinite(sum(column))
    assert Encoder().encode(column) == column
