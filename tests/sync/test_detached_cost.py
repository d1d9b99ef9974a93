"""What remembering who detached each model costs, once an application holds thousands that left its document.

A client may put back a model its own change took out (docsync/sync/detached.py). Past
4,096 remembered models the sequencer forgot those no longer held anywhere; when the
application held them all (a client had taken out the root of an application keeping its
5,000 widgets), every later detaching event swept all 5,000 again, and every patch of
anyone scanned them for its sender: a 45 KB patch of 450 Divs added and removed took
1.2 s of the event loop instead of 0.05 s (2.36 million lookups). Counted here, not timed.
"""

from __future__ import annotations

from typing import Any

from docsync.document import Document, Model
from docsync.document.models import Column, Div
from docsync.document.properties import Instance, List
from docsync.protocol import new_message
from docsync.protocol.msgtypes import OK, PATCH_DOC
from docsync.sync.detached import MAX_DETACHED_KEPT

from .sequencers import send, sequencer_for

HELD = 5000


class CountingDocument(Document):
    """A document counting the lookups of models that left it."""

    lookups = 0

    def departed_model(self, model_id: str) -> Model | None:
        CountingDocument.lookups += 1
        return super().departed_model(model_id)


def test_detaching_after_the_application_kept_thousands_costs_what_it_detaches() -> None:
    assert HELD > MAX_DETACHED_KEPT
    document = CountingDocument()
    big = Column(*(Div(text=str(i)) for i in range(HELD)), id="big")  # (held, as the application holds it)
    document.add_root(big)
    sequencer = sequencer_for(document, log_bytes=1 << 24, max_array_elements=1000)
    assert send(sequencer, "mallory", [{"kind": "RootRemoved", "model": {"id": "big"}}]).msgtype == OK
    CountingDocument.lookups = 0
    divs = [f"c{i}" for i in range(450)]
    added = [{"kind": "RootAdded", "model": {"id": i}} for i in divs]
    removed = [{"kind": "RootRemoved", "model": {"id": i}} for i in divs]
    definitions = [{"type": "object", "name": "Div", "id": i, "attributes": {}} for i in divs]
    answer = send(sequencer, "mallory", added + removed, definitions)
    assert answer.msgtype == OK and answer.content["rejected"] == 0, answer.content
    # One sweep of the 5,450 remembered (not one per detaching event: 2,357,386 before).
    assert CountingDocument.lookups <= HELD + 2 * len(divs), CountingDocument.lookups
    # Its own root is still its to put back.
    answer = send(sequencer, "mallory", [{"kind": "RootAdded", "model": {"id": "big"}}])
    assert answer.msgtype == OK and answer.content["rejected"] == 0, answer.content
    assert list(document.roots) == [big]


class Tray(Model):
    """A list of Divs a client may splice."""

    __type_name__ = "test_detached_cost.Tray"
    __client_writable__ = frozenset({"items"})
    items = List(Instance(Div))


def test_a_patch_of_many_splices_after_a_departure_walks_the_log_once() -> None:
    # An event attaching a held model, or a splice, loses if another origin took that model
    # out since its base (PatchLog.departures_since): the log since the base was walked once
    # per such event, 1,000 walks of up to the whole log (1 MiB of changes) for a 1,000-splice
    # patch; the other questions of such a patch use an index built once.
    document = Document()
    divs = [Div(text=str(i), id=f"div-{i}") for i in range(100)]
    document.add_root(Tray(items=divs[:50], id="tray"))
    document.add_root(Div(id="spare"))
    for div in divs[50:]:
        document.add_root(div)
    sequencer = sequencer_for(document, max_array_elements=1000)
    base = sequencer.log.seq
    for n in range(200):  # bob's changes since mallory's base, and his taking a root out
        text = [{"kind": "ModelChanged", "model": {"id": f"div-{n % 100}"}, "attr": "text", "new": f"{n}"}]
        assert sequencer.handle_patch("bob", 0, new_message(PATCH_DOC, {"events": text, "references": []})).answer
    removed = {"events": [{"kind": "RootRemoved", "model": {"id": "spare"}}], "references": []}
    assert sequencer.handle_patch("bob", 0, new_message(PATCH_DOC, removed)).answer.msgtype == OK
    walks = 0
    newest_since = sequencer.log._newest_since

    def counting(seq: int) -> Any:
        nonlocal walks
        walks += 1
        return newest_since(seq)

    sequencer.log._newest_since = counting  # type: ignore[method-assign]
    splices = [
        {"kind": "ListSpliced", "model": {"id": "tray"}, "attr": "items", "index": 0, "delete": 0, "items": []}
    ] * 1000
    answer = sequencer.handle_patch("mallory", 0, new_message(PATCH_DOC, {"events": splices, "base": base}))
    assert answer.answer.msgtype == OK and answer.answer.content["rejected"] == 0, answer.answer.content
    assert walks <= 2, walks  # the index of the log's keys, and the departures (1,001 before)
