"""What a session's log holds in memory, beside what PATCH_LOG_BYTES counts.

The log keeps each change encoded (``EncodedEvent.data``, from ``dumpb``). orjson (3.13)
keeps the buffer it wrote into, 4 KiB at least, behind the bytes it returns: 1,000 logged
changes of a label, 266 KiB as the log counts them, held 5 MiB of the process's memory
(1.3 MiB now), and a client's small patches fill every session's log so. ``dumpb`` copies
a short result. A logged event keeps its bytes alone, its dicts dropped (a model's
definition: several Python objects per value), and the log counts what holding an entry
and each key of its events (their tuples, the log's KeyTouches) costs: every shape of
client patch fills a log to at most about twice what it counts. Counted here (bytes
allocated and still held, by tracemalloc), not timed.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest

from bench.log_memory import SHAPES, Board, Patch
from docsync.document import Document, Model
from docsync.document.properties import String
from docsync.protocol import new_message
from docsync.protocol.msgtypes import OK, PATCH_DOC
from docsync.protocol.wire_json import dumpb
from docsync.sync.patch_log import WALKED_EVENTS, PatchLog
from docsync.sync.patches import patch_message
from docsync.sync.sequencer import Sequencer

from .sequencers import patch_outcome, sequencer_for

CHANGES = 1000


class Note(Model):
    """A label a client may write."""

    __type_name__ = "test_log_memory.Note"
    __client_writable__ = frozenset({"label"})
    label = String()


def _held(make: Any) -> int:
    """The bytes ``make()`` allocated that are still held once it returns (what it returns included)."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        kept = make()
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    assert kept is not None
    return sum(stat.size_diff for stat in after.compare_to(before, "filename"))


def test_a_short_encoding_holds_about_its_own_bytes() -> None:
    held = _held(lambda: [dumpb({"kind": "ModelChanged", "attr": "label", "new": str(i)}) for i in range(CHANGES)])
    assert held < 200 * CHANGES, held  # 4,100 bytes each before


def test_a_log_of_small_changes_holds_about_what_it_counts() -> None:
    document = Document()
    document.add_root(Note(id="note"))
    sequencer = sequencer_for(document, allow_client_structure=False, log_entries=CHANGES, max_array_elements=1000)

    def fill() -> Sequencer:
        for k in range(CHANGES):
            event = {"kind": "ModelChanged", "model": {"id": "note"}, "attr": "label", "new": str(k)}
            request = new_message(PATCH_DOC, {"events": [event], "references": []})
            assert sequencer.handle_patch("alice", 0, request).answer.msgtype == OK
        return sequencer

    held = _held(fill)
    assert len(sequencer.log) == CHANGES
    # About 1,300 bytes an entry (its Python objects), 5,200 before; the log counts 270.
    assert held < 2500 * CHANGES, held


def _filled(shape: Callable[[int], Patch], log_bytes: int) -> Sequencer:
    """A sequencer whose log one client's patches of ``shape`` filled past its bound, its KeyTouches made."""
    document = Document()
    document.add_root(Board(id="board"))
    sequencer = sequencer_for(document, log_entries=CHANGES, log_bytes=log_bytes, max_client_models=100_000)
    log = sequencer.log
    k = 0
    while log.first_seq == 1 or k < 2 * (log.seq - log.first_seq + 1):
        events, references = shape(k)
        # Based before more than WALKED_EVENTS logged events: judged against the log's KeyTouches.
        base = max(log.first_seq - 1, log.seq - WALKED_EVENTS - 1)
        assert patch_outcome(sequencer, "alice", events, references, base=base).answer.msgtype == OK
        k += 1
    log._touched()
    return sequencer


def _log_held(sequencer: Sequencer) -> int:
    """The bytes ``sequencer``'s log frees, its entries and indices (not its answers), traced since it was made."""
    log = sequencer.log
    sequencer.log = PatchLog(max_entries=1, max_bytes=1)
    sequencer.log.answers = log.answers  # (bounded apart, by count)
    gc.collect()
    before = tracemalloc.take_snapshot()
    del log
    gc.collect()
    after = tracemalloc.take_snapshot()
    return -sum(stat.size_diff for stat in after.compare_to(before, "filename"))


@pytest.mark.parametrize("shape", list(SHAPES.values()), ids=list(SHAPES))
def test_a_full_log_holds_at_most_twice_what_it_counts(shape: Callable[[int], Patch]) -> None:
    gc.collect()
    tracemalloc.start()  # (from before the log is made: what it frees was traced when allocated)
    try:
        sequencer = _filled(shape, 256 * 1024)
        counted = sequencer.log.nbytes
        assert counted > 200 * 1024 or len(sequencer.log) == CHANGES  # at a bound
        held = _log_held(sequencer)
    finally:
        tracemalloc.stop()
    # Before: 8.8 times for definitions (their dicts), 5 for labels, 43 for new dict keys
    # (KeyTouches, uncounted), 6.3 for spliced numbers (bench/log_memory.py, at 1 MiB).
    assert held < 2 * counted, (held, counted, held / counted)


def test_a_logged_event_keeps_its_bytes_alone_and_reads_as_it_was() -> None:
    document = Document()
    document.add_root(Board(id="board"))
    sequencer = sequencer_for(document, log_entries=CHANGES, max_client_models=100)
    events, references = SHAPES["refs"](0)
    assert patch_outcome(sequencer, "alice", events, references).answer.msgtype == OK
    (event,) = sequencer.log.newest.events  # type: ignore[union-attr]
    body, definitions = event.json, event.references
    assert patch_outcome(sequencer, "alice", *SHAPES["small"](1)).answer.msgtype == OK
    assert event._json is None and event._references is None  # (its dicts dropped: bytes alone)
    assert event.json == body and event.references == definitions
    assert patch_message([event], 1).content == {"events": [body], "references": definitions, "seq": 1}
