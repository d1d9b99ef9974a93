"""The live-session table's writes: the compiled statements leave the rows the ORM's writes leave."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.db.models.signals import pre_delete

from docsync.models import LiveSession
from docsync.server.admin_support import live_table
from docsync.server.admin_support.processes import own_start

NOW = dt.datetime(2026, 12, 4, 21, 0, 0, 123456, tzinfo=dt.UTC)


def _row(session_id: str, **changes: Any) -> dict[str, Any]:
    row = {
        "snapshot_saved": None,
        "snapshot_bytes": 0,
        "session_id": session_id,
        "app": "bench",
        "user": "",
        "process": "p1",
        "process_started": own_start(os.getpid()),  # as the writer's rows: this process's
        "created": NOW,
        "last_activity": NOW,
        "connections": 1,
        "models_count": 5,
        "keep_alive": False,
        "messages_in": 1,
        "messages_out": 2,
        "bytes_in": 30,
        "bytes_out": 4000,
    }
    return {**row, **changes}


def _table() -> list[tuple[Any, ...]]:
    fields = [f.name for f in LiveSession._meta.concrete_fields if f.name != "reported"]
    return list(LiveSession.objects.order_by("session_id").values_list(*fields))


def _rounds(write: Any) -> list[list[tuple[Any, ...]]]:
    """The table after each of a few refreshes (rows new, changed, gone, another process's gone stale)."""
    LiveSession.objects.all().delete()
    now = dt.datetime.now(tz=dt.UTC)
    LiveSession.objects.create(**_row("stale", process="p2"), reported=now - dt.timedelta(seconds=60))
    LiveSession.objects.create(**_row("alive", process="p3"), reported=now)
    tables = []
    write("p1", [_row("a"), _row("b", user="alice", snapshot_saved=NOW, snapshot_bytes=512)], [], 15.0)
    tables.append(_table())
    write("p1", [_row("a", connections=0, messages_in=7, keep_alive=True)], ["b"], 15.0)
    tables.append(_table())
    write("p1", [], ["a", "never-written"], 15.0)
    tables.append(_table())
    return tables


@pytest.fixture
def table(database: str) -> Iterator[None]:
    yield
    LiveSession.objects.all().delete()


def test_the_compiled_statements_are_used_on_sqlite(table: None) -> None:
    assert live_table._statements("default") is not None


def test_compiled_writes_leave_the_rows_the_orm_leaves(table: None, monkeypatch: pytest.MonkeyPatch) -> None:
    compiled = _rounds(live_table._write)
    assert LiveSession.objects.filter(session_id="alive").exists()  # another process's fresh row stays
    monkeypatch.setattr(live_table, "_statements", lambda alias: None)  # the ORM's path
    assert compiled == _rounds(live_table._write)
    assert [row[0] for row in compiled[0]] == ["a", "alive", "b"]  # "stale" deleted
    assert [(row[0], row[7]) for row in compiled[1]] == [("a", 0), ("alive", 1)]  # connections


def test_every_row_of_the_process_is_marked_fresh(table: None) -> None:
    before = dt.datetime.now(tz=dt.UTC)
    LiveSession.objects.create(**_row("old"), reported=before - dt.timedelta(seconds=10))
    LiveSession.objects.create(**_row("other", process="p2"), reported=before - dt.timedelta(seconds=10))
    # A dead process that had this one's pid (a container started again): not this one's.
    earlier = _row("predecessor", process_started="1")
    LiveSession.objects.create(**earlier, reported=before - dt.timedelta(seconds=10))
    held = live_table._write("p1", [], [], 15.0)
    assert LiveSession.objects.get(session_id="old").reported >= before  # written now
    assert LiveSession.objects.get(session_id="other").reported < before  # another process's: left alone
    assert LiveSession.objects.get(session_id="predecessor").reported < before  # its silence shows
    assert held == 1


def test_a_site_listening_to_deletes_gets_them_through_the_orm(table: None) -> None:
    deleted: list[str] = []

    def listener(sender: Any, instance: LiveSession, **kwargs: Any) -> None:
        deleted.append(instance.session_id)

    pre_delete.connect(listener, sender=LiveSession)
    try:
        assert live_table._statements("default") is None
        live_table._write("p1", [_row("x")], [], 15.0)
        live_table._write("p1", [], ["x"], 15.0)
    finally:
        pre_delete.disconnect(listener, sender=LiveSession)
    assert deleted == ["x"]
