"""bench/budget.py's split by layer: a dict key table CPython recycled is charged to the dict holding it."""

from __future__ import annotations

import gc
import json
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import budget  # noqa: E402  (bench/ is not a package)
import traced_server  # noqa: E402

pytestmark = pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="dict internals read for CPython 3.11 only")


def _lend(count: int) -> None:
    """Make and drop small dicts: their key tables go to CPython's free list."""
    made = [{"kind": "a", "id": str(i)} for i in range(count)]
    del made


def _borrow(count: int) -> list[dict[str, Any]]:
    """Small dicts made after ``_lend``'s were dropped: kept, as a connection keeps its own."""
    return [{"bytes_in": i, "bytes_out": 0} for i in range(count)]


def test_a_recycled_key_table_is_reported_with_its_dict_traceback() -> None:
    gc.collect()  # empties the free lists: what follows is lent by _lend
    tracemalloc.start(4)
    try:
        _lend(40)
        kept = _borrow(40)
        tables = traced_server.recycled_tables()
    finally:
        tracemalloc.stop()
    assert tables is not None
    lent = [
        (table, mine, size)
        for table, mine, size in tables
        if table[0][0] == __file__ and table[0][1] == _lend.__code__.co_firstlineno + 2
    ]
    borrowed = sum(size for _, mine, size in lent if mine[0] == (__file__, _borrow.__code__.co_firstlineno + 2))
    # The 40 kept dicts took tables _lend made, 120 bytes each (the free list holds up to
    # 80); not always every one: another thread of the test process (pytest-xdist's) may
    # take one in between.
    assert 30 * 120 <= borrowed <= 40 * 120, lent
    assert len(kept) == 40


def test_split_by_layer_charges_a_recycled_table_to_its_dict(tmp_path: Path) -> None:
    pull = (("/x/docsync/document/wire.py", 34),)
    stats = (("/x/docsync/server/connection/consumer.py", 220),)
    tracemalloc.Snapshot([], 1).dump(str(tmp_path / "1.snapshot"))
    # 10 tables alive at the second snapshot, all made for a pull's reply; 6 of them are
    # now a connection's stats dicts.
    traces = [(0, 120, pull, 1)] * 10
    tracemalloc.Snapshot(traces, 1).dump(str(tmp_path / "2.snapshot"))
    (tmp_path / "2.tables.json").write_text(json.dumps([[pull, stats, 6 * 120]]))
    split = budget.split_by_layer(tmp_path / "1.snapshot", tmp_path / "2.snapshot", 2)
    assert split == {"docsync document": 4 * 120 / 2, "docsync server": 6 * 120 / 2}
    # Without the tables (an older traced server, another CPython): as allocated.
    (tmp_path / "2.tables.json").unlink()
    assert budget.split_by_layer(tmp_path / "1.snapshot", tmp_path / "2.snapshot", 2) == {"docsync document": 600.0}
