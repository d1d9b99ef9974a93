from __future__ import annotations

import gc

import pytest

from docsync.serialization.lines import PAUSE_GC_FROM, copy_lines, item_types


@pytest.mark.parametrize("count", [3, PAUSE_GC_FROM])
@pytest.mark.parametrize("enabled", [True, False])
def test_copies_each_line_and_leaves_the_collector_as_it_was(count: int, enabled: bool) -> None:
    lines = [[i, 1.5, "a"] for i in range(count)]
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        copied = copy_lines(lines)
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
    assert copied == lines and copied is not lines
    assert all(new is not old for new, old in zip(copied, lines, strict=True))


def test_item_types_are_those_of_every_line() -> None:
    assert item_types([[1, 2], [], ["a", None]]) == {int, str, type(None)}
    assert item_types(([1.5],)) == {float}
    assert item_types([]) == set()
