"""What judging a small patch costs when it is based before a long log.

A client's patch based back is judged against every change another origin made after its
base (the conflict rule). Each of its events walked every logged event after the base
(``PatchLog.conflicts``; a patch of more than 16 events built a ``ConflictIndex`` of them,
once per patch): a 1.3 KB patch of 16 changes, based before a log of 3,800 small changes
of another client's, made 60,000 comparisons, 23 ms of the event loop (0.25 ms now,
in-process), and 17 changes 3.8 ms; a client may send 200 patches a second, each based as
far back as the log reaches. Based before more than ``WALKED_EVENTS`` logged events, a
patch is judged against ``KeyTouches`` now, which takes in each logged event once. Counted
here (how often a logged event's keys are read), not timed; and the index is checked
against the walk, on random logs.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from docsync.document import Document, Model
from docsync.document.properties import Int, List, String
from docsync.protocol.msgtypes import OK
from docsync.sync.patch_log import PatchLog
from docsync.sync.patches import EncodedEvent

from .sequencers import send, sequencer_for

ENTRIES = 1000
PER_ENTRY = 4
PATCHES = 50


class Board(Model):
    """A label and a list of numbers a client may write."""

    __type_name__ = "test_conflict_walk_cost.Board"
    __client_writable__ = frozenset({"label", "numbers"})
    label = String()
    numbers = List(Int())


def _change(attr: str, new: Any) -> dict[str, Any]:
    return {"kind": "ModelChanged", "model": {"id": "board"}, "attr": attr, "new": new}


@pytest.mark.parametrize("events", [1, 16, 17])
def test_patches_based_before_a_long_log_read_each_logged_event_once(
    monkeypatch: pytest.MonkeyPatch, events: int
) -> None:
    document = Document()
    document.add_root(Board(id="board"))
    sequencer = sequencer_for(document, allow_client_structure=False, log_entries=ENTRIES)
    for k in range(ENTRIES):  # alice's small changes fill the log: 4,000 events
        assert send(sequencer, "alice", [_change("numbers", [k, j]) for j in range(PER_ENTRY)]).msgtype == OK
    reads = 0
    slot = EncodedEvent.__dict__["keys"]

    def read(event: EncodedEvent) -> Any:
        nonlocal reads
        reads += 1
        return slot.__get__(event)

    monkeypatch.setattr(EncodedEvent, "keys", property(read, slot.__set__))
    for _ in range(PATCHES):
        # mallory, based before every logged change, changes the label (no conflict).
        base = sequencer.log.first_seq - 1
        answer = send(sequencer, "mallory", [_change("label", str(i)) for i in range(events)], base=base)
        assert answer.msgtype == OK and answer.content["rejected"] == 0, answer.content
    # Each logged event read about once (3,800 held), and each of mallory's: 50 walks
    # of the log before, 16 of them per patch of 16 events (3,000,000 reads).
    assert reads <= ENTRIES * PER_ENTRY + PATCHES * (events + 4), reads


def test_the_index_answers_as_the_walk() -> None:
    class Event:
        def __init__(self, origin: str | None, keys: tuple[Any, ...], kind: str) -> None:
            self.origin, self.keys, self.json, self.nbytes = origin, keys, {"kind": kind}, 100
            self.kind = kind  # (as EncodedEvent: the log reads its kind without its JSON)

        def compact(self) -> None:
            """As EncodedEvent's (nothing to drop here)."""

    rng = random.Random(7)
    keyspace: list[tuple[Any, ...]] = [("a",), ("a", "x"), ("a", "y"), ("a", "x", 1), ("b", "x"), ("b",), ("roots",)]
    asked = 0
    for _ in range(200):
        log = PatchLog(max_entries=rng.choice([5, 20, 1000]), max_bytes=1 << 20)
        for _ in range(rng.randint(1, 100)):
            origins = ["A", "B", "C", None]
            kinds = ["ListSpliced", "ModelChanged"]
            made = [
                Event(rng.choice(origins), tuple(rng.sample(keyspace, rng.randint(1, 3))), rng.choice(kinds))
                for _ in range(rng.randint(0, 4))
            ]
            log.append(made)  # type: ignore[arg-type]
            if rng.random() < 0.3:
                touches = log._touched()
                for _ in range(10):
                    base = rng.randint(log._lost_through, log.seq)
                    origin = rng.choice(["A", "B", "C", "D"])
                    keys = tuple(rng.sample([*keyspace, ("a", "z"), ("c", "x")], rng.randint(1, 2)))
                    splices = rng.random() < 0.5
                    walked = log.conflicts(keys, base, origin, splices=splices)
                    assert touches.conflicts(keys, base, origin, splices=splices) == walked
                    asked += 1
    assert asked > 10_000
