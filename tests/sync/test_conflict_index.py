"""A patch of many events is judged against an index of the log's keys: the same answers, not a walk per event.

``PatchLog.conflicts`` walks every event after ``base`` for each event of a patch: a
client's patch of 1,000 events based before 3,000 others on the same model made
3,000,000 comparisons (0.8 s on the event loop, every session of the process waiting),
as often as the client sent it. ``ConflictIndex`` answers each in a few set lookups.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from docsync.document import Document
from docsync.document.models import Column, Selection
from docsync.protocol import OK, PATCH_DOC, new_message
from docsync.sync import patch_log
from docsync.sync.patch_log import PatchLog
from docsync.sync.patches import EncodedEvent
from docsync.sync.sequencer import Sequencer


def _random_key(rnd: random.Random) -> tuple[Any, ...]:
    return tuple(rnd.choice(["m1", "m2", "a", "b", 0, 1]) for _ in range(rnd.randint(1, 4)))


@pytest.mark.parametrize("seed", range(20))
def test_the_index_answers_as_the_walk(seed: int) -> None:
    rnd = random.Random(seed)
    log = PatchLog(max_entries=1000, max_bytes=1 << 30)
    for _ in range(rnd.randint(0, 30)):
        events = []
        for _ in range(rnd.randint(0, 4)):
            kind = rnd.choice(["ModelChanged", "ListSpliced", "ColumnsPatched"])
            keys = tuple(_random_key(rnd) for _ in range(rnd.randint(0, 3)))
            events.append(EncodedEvent(rnd.choice(["me", "you", None]), {"kind": kind}, [], [], keys, 10))
        log.append(events)
    for _ in range(200):
        base, splices = rnd.randint(-1, log.seq), rnd.random() < 0.5
        keys = tuple(_random_key(rnd) for _ in range(rnd.randint(0, 3)))
        index = log.conflict_index(base, "me")
        assert index.conflicts(keys, splices=splices) == log.conflicts(keys, base, "me", splices=splices)


def test_a_long_patch_based_far_back_makes_no_comparison_per_logged_event(monkeypatch: pytest.MonkeyPatch) -> None:
    document = Document()
    document.add_root(Column(Selection(id="sel")))
    # (4 MiB: the log holds four patches of 1,000 events, about 0.6 MB each as it counts them.)
    settings: dict[str, Any] = {"log_entries": 1000, "log_bytes": 1 << 22, "max_client_models": 100}
    sequencer = Sequencer(document, allow_client_structure=True, max_array_elements=1000, **settings)

    def patch(origin: str, attr: str, base: int) -> Any:
        events = [{"kind": "ModelChanged", "model": {"id": "sel"}, "attr": attr, "new": [i]} for i in range(1000)]
        outcome = sequencer.handle_patch(origin, 0, new_message(PATCH_DOC, {"events": events, "base": base}))
        sequencer.flush()
        return outcome

    for _ in range(3):
        patch("other", "indices", sequencer.log.seq)
    compared = 0
    real = patch_log.keys_overlap

    def counted(a: Any, b: Any) -> bool:
        nonlocal compared
        compared += 1
        return bool(real(a, b))

    monkeypatch.setattr(patch_log, "keys_overlap", counted)
    outcome = patch("mine", "line_indices", sequencer.log.first_seq - 1)
    assert outcome.answer.msgtype == OK and outcome.answer.content["rejected"] == 0
    assert compared == 0  # was 3,000 per event: 3,000,000
    # And a change that does overlap still loses: the index knows the other origin's keys.
    outcome = patch("mine", "indices", sequencer.log.first_seq - 1)
    assert outcome.answer.content["rejected"] == 1000
