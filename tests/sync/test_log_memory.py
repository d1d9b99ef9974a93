"""What a session's log of small changes holds in memory, beside what PATCH_LOG_BYTES counts.

The log keeps each change encoded (``EncodedEvent.data``, from ``dumpb``). orjson (3.13)
keeps the buffer it wrote into, 4 KiB at least, behind the bytes it returns: 1,000 logged
changes of a label, 266 KiB as the log counts them, held 5 MiB of the process's memory
(1.3 MiB now), and a client's small patches fill every session's log so. ``dumpb`` copies
a short result. Counted here (bytes allocated and still held, by tracemalloc), not timed.
"""

from __future__ import annotations

import gc
import tracemalloc
from typing import Any

from docsync.document import Document, Model
from docsync.document.properties import String
from docsync.protocol import new_message
from docsync.protocol.msgtypes import OK, PATCH_DOC
from docsync.protocol.wire_json import dumpb
from docsync.sync.sequencer import Sequencer

from .sequencers import sequencer_for

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
