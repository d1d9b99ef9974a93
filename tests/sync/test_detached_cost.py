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
from docsync.protocol import new_message
from docsync.protocol.msgtypes import OK, PATCH_DOC
from docsync.sync.detached import MAX_DETACHED_KEPT
from docsync.sync.sequencer import Sequencer

HELD = 5000


class CountingDocument(Document):
    """A document counting the lookups of models that left it."""

    lookups = 0

    def departed_model(self, model_id: str) -> Model | None:
        CountingDocument.lookups += 1
        return super().departed_model(model_id)


def _send(sequencer: Sequencer, events: list[dict[str, Any]], references: list[dict[str, Any]] | None = None) -> Any:
    content = {"events": events, "references": references or []}
    return sequencer.handle_patch("mallory", 0, new_message(PATCH_DOC, content)).answer


def test_detaching_after_the_application_kept_thousands_costs_what_it_detaches() -> None:
    assert HELD > MAX_DETACHED_KEPT
    document = CountingDocument()
    big = Column(*(Div(text=str(i)) for i in range(HELD)), id="big")  # (held, as the application holds it)
    document.add_root(big)
    sequencer = Sequencer(
        document,
        allow_client_structure=True,
        log_entries=1000,
        log_bytes=1 << 24,
        max_client_models=1000,
        max_array_elements=1000,
    )
    assert _send(sequencer, [{"kind": "RootRemoved", "model": {"id": "big"}}]).msgtype == OK
    CountingDocument.lookups = 0
    divs = [f"c{i}" for i in range(450)]
    added = [{"kind": "RootAdded", "model": {"id": i}} for i in divs]
    removed = [{"kind": "RootRemoved", "model": {"id": i}} for i in divs]
    definitions = [{"type": "object", "name": "Div", "id": i, "attributes": {}} for i in divs]
    answer = _send(sequencer, added + removed, definitions)
    assert answer.msgtype == OK and answer.content["rejected"] == 0, answer.content
    # One sweep of the 5,450 remembered (not one per detaching event: 2,357,386 before).
    assert CountingDocument.lookups <= HELD + 2 * len(divs), CountingDocument.lookups
    # Its own root is still its to put back.
    answer = _send(sequencer, [{"kind": "RootAdded", "model": {"id": "big"}}])
    assert answer.msgtype == OK and answer.content["rejected"] == 0, answer.content
    assert list(document.roots) == [big]
