"""Two splices of one list made at the same time: where each goes once the other is applied.

A splice replaces ``delete`` items at ``index`` with ``count`` new ones. ``first`` and
``second`` were both made on the same list; ``first`` is the one applied first (the
earlier in the server's order). ``transform(first, second)`` returns ``(first',
second')``: ``first`` as it applies after ``second``, and ``second`` as it applies
after ``first``, so that both orders give the same list. It returns None when the two
really touch the same items, which is a conflict:

- their deleted ranges share an item, or
- one inserts strictly inside the range the other deletes.

Otherwise the indices shift: a splice wholly before the other keeps its index, one
wholly after moves by what the other removed and added. Two insertions at the same
place are ordered by the server's order: ``first``'s items come first. An insertion at
either end of a deleted range is not inside it: at its start it goes before the
replacement, at its end after it. The mirror of splices.js.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Splice", "conflicts", "transform"]


# Not frozen (never changed once made): a frozen dataclass's __init__ sets each field
# through object.__setattr__, and splices are made for every splice judged and shifted.
@dataclass(slots=True, unsafe_hash=True)
class Splice:
    """``delete`` items at ``index`` replaced by ``count`` items (never changed once made)."""

    index: int
    delete: int
    count: int


def conflicts(a: Splice, b: Splice) -> bool:
    """Tell whether two splices made on the same list touch the same items."""
    if a.delete and b.delete:
        return max(a.index, b.index) < min(a.index + a.delete, b.index + b.delete)
    if not a.delete and b.delete:
        return b.index < a.index < b.index + b.delete
    if a.delete and not b.delete:
        return a.index < b.index < a.index + a.delete
    return False


def transform(first: Splice, second: Splice) -> tuple[Splice, Splice] | None:
    """Return ``(first after second, second after first)``, or None if they conflict."""
    if conflicts(first, second):
        return None
    i, d, n = first.index, first.delete, first.count
    j, e, m = second.index, second.delete, second.count
    if d == e == 0 and i == j:  # two insertions at one place: the first applied comes first
        return first, Splice(j + n, e, m)
    if i + d <= j:  # first is wholly before second
        return first, Splice(j - d + n, e, m)
    # second is wholly before first
    return Splice(i - e + m, d, n), second
