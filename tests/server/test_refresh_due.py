"""When the snapshot writer next looks for held sessions whose snapshot's expiry is due (``due_for_refresh``).

A restored session's state is recorded (``made``) before the session is held: its
``on_session_restored`` hook is awaited first. A round in that window did not see it
and put the next look a quarter lifetime ahead, so a session restored late in its
snapshot's life could expire in the store while held (helper-144's review).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from django.test import override_settings

from docsync.server.persistence.keeper import SavedState, SnapshotKeeper

LIFETIME = 800.0  # due a quarter of it after it was written: 200 s


def _keeper() -> tuple[SnapshotKeeper, dict[str, Any]]:
    sessions: dict[str, Any] = {}
    context = SimpleNamespace(kind="docsync", options={}, sessions=sessions)
    return SnapshotKeeper(SimpleNamespace(contexts=[context], process_id="test:1"), store=None), sessions  # type: ignore[arg-type]


def _session(session_id: str) -> Any:
    return SimpleNamespace(id=session_id, destroyed=False, store_lost=None)


@override_settings(DOCSYNC={"APPS": {}, "SNAPSHOT_LIFETIME": LIFETIME})
def test_a_restored_session_not_yet_held_is_looked_at_once_it_is() -> None:
    keeper, sessions = _keeper()
    now = 10_000.0
    sessions["idle"] = _session("idle")
    keeper.states["idle"] = SavedState([], saved_at=now - 10)  # due in 190 s
    # Restored from a snapshot written 150 s ago (due in 50 s), its hook still running.
    keeper.states["restored"] = SavedState([], saved_at=now - 150)
    assert keeper.due_for_refresh(now) == []
    assert keeper.next_refresh == now + 50  # before: now + 190, the idle one's
    sessions["restored"] = _session("restored")  # the hook returned: held
    assert keeper.due_for_refresh(now + 49) == []
    assert keeper.due_for_refresh(now + 50) == ["restored"]


@override_settings(DOCSYNC={"APPS": {}, "SNAPSHOT_LIFETIME": LIFETIME})
def test_held_sessions_alone_set_the_next_look() -> None:
    keeper, sessions = _keeper()
    now = 10_000.0
    for name, age in (("a", 10.0), ("b", 120.0)):
        sessions[name] = _session(name)
        keeper.states[name] = SavedState([], saved_at=now - age)
    keeper.states["new"] = SavedState([])  # its first snapshot is being written: not counted
    assert keeper.due_for_refresh(now) == []
    assert keeper.next_refresh == now + 80
    assert keeper.due_for_refresh(now + 79) == []  # nothing looked at before then
    assert keeper.due_for_refresh(now + 80) == ["b"]
