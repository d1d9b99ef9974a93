"""The splice transform: both orders give the same list, every intent is kept, conflicts are real."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from docsync.sync.splices import Splice, conflicts, transform


def apply(items: list[Any], splice: Splice, new: list[Any]) -> list[Any]:
    assert len(new) == splice.count
    assert 0 <= splice.index <= len(items) and splice.index + splice.delete <= len(items)
    return items[: splice.index] + new + items[splice.index + splice.delete :]


@st.composite
def two_splices(draw: Any) -> tuple[list[str], Splice, Splice]:
    size = draw(st.integers(0, 8))
    items = [f"x{i}" for i in range(size)]
    made = []
    for _ in range(2):
        index = draw(st.integers(0, size))
        delete = draw(st.integers(0, size - index))
        made.append(Splice(index, delete, draw(st.integers(0, 3))))
    return items, made[0], made[1]


@given(two_splices())
def test_both_orders_give_one_list_keeping_every_intent(case: tuple[list[str], Splice, Splice]) -> None:
    items, first, second = case
    a_new = [f"a{k}" for k in range(first.count)]
    b_new = [f"b{k}" for k in range(second.count)]
    result = transform(first, second)
    deleted_a = set(items[first.index : first.index + first.delete])
    deleted_b = set(items[second.index : second.index + second.delete])

    # An independent statement of a conflict: a shared deleted item, or an insertion
    # between two items the other deletes.
    def inside(splice: Splice, deleted: set[str]) -> bool:
        around = items[splice.index - 1 : splice.index + 1] if 0 < splice.index < len(items) else []
        return splice.delete == 0 and len(around) == 2 and set(around) <= deleted

    assert (result is None) == bool(deleted_a & deleted_b or inside(first, deleted_b) or inside(second, deleted_a))
    assert conflicts(first, second) == conflicts(second, first) == (result is None)
    if result is None:
        return
    first_after, second_after = result
    one = apply(apply(items, first, a_new), second_after, b_new)
    other = apply(apply(items, second, b_new), first_after, a_new)
    assert one == other
    # Every item neither deleted is kept, in order; every new item is there once.
    assert [x for x in one if x in items] == [x for x in items if x not in deleted_a | deleted_b]
    assert sorted(x for x in one if x not in items) == sorted(a_new + b_new)


def test_two_insertions_at_one_place_keep_the_server_order() -> None:
    first, second = Splice(2, 0, 1), Splice(2, 0, 2)
    first_after, second_after = transform(first, second)  # type: ignore[misc]
    assert (first_after, second_after) == (Splice(2, 0, 1), Splice(3, 0, 2))
    items = ["x", "y", "z"]
    assert apply(apply(items, first, ["a"]), second_after, ["b", "c"]) == ["x", "y", "a", "b", "c", "z"]


def test_appends_both_survive() -> None:
    # Two users press "Add" on a board of three notes at the same moment.
    result = transform(Splice(3, 0, 1), Splice(3, 0, 1))
    assert result == (Splice(3, 0, 1), Splice(4, 0, 1))


def test_what_conflicts() -> None:
    assert conflicts(Splice(1, 2, 0), Splice(2, 1, 0))  # both remove item 2
    assert conflicts(Splice(2, 0, 1), Splice(1, 3, 0))  # an insertion inside a removal
    assert not conflicts(Splice(1, 0, 1), Splice(1, 3, 0))  # at its start: before it
    assert not conflicts(Splice(4, 0, 1), Splice(1, 3, 0))  # at its end: after it
    assert not conflicts(Splice(0, 2, 1), Splice(2, 2, 1))  # adjacent ranges
