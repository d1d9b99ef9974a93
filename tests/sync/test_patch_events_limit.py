"""One client PATCH-DOC carries at most MAX_PATCH_EVENTS events; clients split longer batches."""

from __future__ import annotations

from docsync.document import Document
from docsync.document.models import MultiChoice
from docsync.protocol import ERROR, OK, PATCH_DOC, new_message
from docsync.sync.outbox import Outbox
from docsync.sync.patches import MAX_PATCH_EVENTS
from docsync.sync.sequencer import Sequencer


def _sequencer() -> tuple[Sequencer, MultiChoice]:
    document = Document()
    choice = MultiChoice(id="choice", options=["a", "b"], value=[])
    document.add_root(choice)
    settings = {"log_entries": 100, "log_bytes": 1 << 20, "max_client_models": 10, "max_array_elements": 1000}
    return Sequencer(document, allow_client_structure=True, **settings), choice


def _splices(count: int) -> list[dict[str, object]]:
    event = {"kind": "ListSpliced", "model": {"id": "choice"}, "attr": "value", "index": 0, "delete": 0}
    return [{**event, "items": ["a"]} for _ in range(count)]


def test_a_patch_of_too_many_events_is_refused_whole() -> None:
    sequencer, choice = _sequencer()
    request = new_message(PATCH_DOC, {"events": _splices(MAX_PATCH_EVENTS + 1), "base": 0})
    outcome = sequencer.handle_patch("c1", 0, request)
    assert outcome.answer.msgtype == ERROR
    assert outcome.answer.content == {
        "text": f"too many events in one patch: {MAX_PATCH_EVENTS + 1} > {MAX_PATCH_EVENTS}",
        "code": "patch-refused",
    }
    assert choice.value == [] and sequencer.log.seq == 0
    # At the limit, the same splices are taken.
    outcome = sequencer.handle_patch("c1", 0, new_message(PATCH_DOC, {"events": _splices(MAX_PATCH_EVENTS), "base": 0}))
    assert outcome.answer.msgtype == OK, outcome.answer.content
    assert choice.value == ["a"] * MAX_PATCH_EVENTS


def test_the_outbox_sends_a_long_batch_as_patches_of_one_base() -> None:
    document = Document()
    choice = MultiChoice(id="choice", options=["a"], value=[])
    document.add_root(choice)
    outbox = Outbox()
    document.on_change(lambda event: outbox.add(event, base=3, attached=document.models))
    for _ in range(MAX_PATCH_EVENTS + 2):
        choice.value.append("a")
    first, second = outbox.take(), outbox.take()
    assert first is not None and second is not None and outbox.take() is None
    assert len(first.content["events"]) == MAX_PATCH_EVENTS and len(second.content["events"]) == 2
    assert first.content["base"] == second.content["base"] == 3
