"""The bound on what one client patch attaches (docsync/sync/attachments.py), in memory.

Each model a patch attaches is defined again, with all it reaches, for every other
connection: a patch may attach at most twice the models of the document and the patch
(or 1,000). A model the client took out in an earlier patch and puts back counts as the
document's: a document of 1,500 models, its root taken out and put back, is one move.
"""

from __future__ import annotations

from docsync.document import Document
from docsync.document import events as ev
from docsync.document.models import Column, Div
from docsync.protocol import new_message
from docsync.protocol.msgtypes import ERROR, OK, PATCH_DOC
from docsync.sync.attachments import MAX_ATTACHED_FLOOR, attached_count, most_attached
from docsync.sync.sequencer import Sequencer


def _session(divs: int) -> tuple[Document, Sequencer, Column]:
    document = Document()
    root = Column(*(Div(text=str(i)) for i in range(divs)), id="root")
    document.add_root(root)
    sequencer = Sequencer(
        document,
        allow_client_structure=True,
        log_entries=100,
        log_bytes=1 << 24,
        max_client_models=100,
        max_array_elements=1000,
    )
    return document, sequencer, root  # (the application holds its root, as an app keeping a view does)


def _patch(*kinds: str, base: int = 0) -> object:
    events = [{"kind": kind, "model": {"id": "root"}} for kind in kinds]
    return new_message(PATCH_DOC, {"events": events, "references": [], "base": base})


def test_the_bound_is_twice_the_models_or_the_floor() -> None:
    assert most_attached(10, 5) == MAX_ATTACHED_FLOOR
    assert most_attached(1500, 0) == 3000
    assert most_attached(1400, 100) == 3000


def test_the_count_stops_past_its_cap() -> None:
    document, _, root = _session(1499)
    assert len(document.models) == 1500
    added = ev.RootAddedEvent(root, None)
    assert attached_count([added], 10_000) == 1500
    assert attached_count([added, added], 10_000) == 3000
    assert attached_count([added] * 100, 2000) == 2001  # (stopped there: it walked 2,001 models, not 150,000)


def test_a_large_root_taken_out_and_put_back_in_a_later_patch_is_one_move() -> None:
    document, sequencer, _held = _session(1499)  # (held, as the application holds its view)
    before = document.to_json()[0]
    out = sequencer.handle_patch("alice", 0, _patch("RootRemoved"))  # type: ignore[arg-type]
    assert out.answer.msgtype == OK, out.answer.content
    assert document.models == {}
    # Named back (its sender's own change took it out): 1,500 models, within 2 x 1,500.
    back = sequencer.handle_patch("alice", 0, _patch("RootAdded"))  # type: ignore[arg-type]
    assert back.answer.msgtype == OK and back.answer.content["rejected"] == 0, back.answer.content
    assert document.to_json()[0] == before


def test_a_root_moved_three_times_in_one_patch_is_refused_whole() -> None:
    document, sequencer, _held = _session(599)
    before = document.to_json()[0]
    seq = sequencer.seq
    moved = sequencer.handle_patch("alice", 0, _patch(*["RootRemoved", "RootAdded"] * 3))  # type: ignore[arg-type]
    assert moved.answer.msgtype == ERROR, moved.answer.content
    assert moved.answer.content["text"].startswith("too many models attached by one patch: more than 1200 ")
    assert document.to_json()[0] == before
    assert moved.reset is not None  # (its roots are put right: the sender is reset)
    assert moved.changes is None or all(not c.events for c in (*moved.changes.earlier, moved.changes))
    # Twice is taken (based on the reset, the sender's fence).
    fence = sequencer.seq
    twice = sequencer.handle_patch("alice", 0, _patch(*["RootRemoved", "RootAdded"] * 2, base=fence))  # type: ignore[arg-type]
    assert twice.answer.msgtype == OK and twice.answer.content["rejected"] == 0, twice.answer.content
    assert document.to_json()[0] == before
    assert sequencer.seq == fence + 3 and fence > seq


def test_bytes_are_counted_each_time_and_each_model_once() -> None:
    from docsync.document.models import ColumnDataSource
    from docsync.sync.attachments import MAX_ATTACHED_BYTES_FLOOR, attached

    document = Document()
    root = Column(ColumnDataSource(data={"x": list(range(200_000))}), id="root")
    document.add_root(root)
    added = ev.RootAddedEvent(root, None)
    once = attached([added], 10_000)
    assert once.count == 3 and not once.too_many_bytes()  # (its source, and the source's selection)
    # Attached at most twice each, what is sent is at most twice the models once: not measured.
    twice = attached([added, added], 10_000)
    assert twice.count == 6 and twice.sent == 0 and not twice.too_many_bytes()
    thrice = attached([added] * 3, 10_000)
    assert thrice.distinct > MAX_ATTACHED_BYTES_FLOOR and thrice.sent == 3 * thrice.distinct
    assert thrice.too_many_bytes()
