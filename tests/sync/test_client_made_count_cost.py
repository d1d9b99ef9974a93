"""What a patch defining a model costs once clients made as many as a session allows.

Each patch that defines a model asks how many models clients made the document holds
(``MAX_CLIENT_MODELS`` bounds them), and each count walked every one of them, to forget
those that left: with 1,000 made, a 214-byte patch defining one more (refused: too many)
took 0.24 ms of the event loop, ten times a label's change (0.03 ms now, in-process).
The count is kept while the document is unchanged. Counted here, not timed.
"""

from __future__ import annotations

import weakref
from typing import Any

from docsync.document import Document, Model
from docsync.document.models import Div
from docsync.document.properties import Instance, List
from docsync.protocol.msgtypes import ERROR, OK
from docsync.sync.sequencer import Sequencer

from .sequencers import send, sequencer_for

MADE = 1000
PATCHES = 50


class Shelf(Model):
    """A list of Divs a client may write."""

    __type_name__ = "test_client_made_count_cost.Shelf"
    __client_writable__ = frozenset({"items"})
    items = List(Instance(Div))


class CountedWeakValues(weakref.WeakValueDictionary):  # type: ignore[type-arg]
    """A weak dict counting how often it is walked."""

    walks = 0

    def items(self) -> Any:
        CountedWeakValues.walks += 1
        return super().items()


def _define(sequencer: Sequencer, ids: list[str]) -> Any:
    definitions = [{"type": "object", "name": "Div", "id": i, "attributes": {}} for i in ids]
    splice = {"kind": "ListSpliced", "model": {"id": "shelf"}, "attr": "items", "index": 0, "delete": 0}
    splice["items"] = [{"id": i} for i in ids]
    return send(sequencer, "mallory", [splice], definitions)


def test_the_models_clients_made_are_counted_once_per_change_of_the_document() -> None:
    document = Document()
    document.add_root(Shelf(id="shelf"))
    sequencer = sequencer_for(document, max_client_models=MADE, max_array_elements=1000)
    for k in range(MADE // 100):
        assert _define(sequencer, [f"m{k}.{i}" for i in range(100)]).msgtype == OK
    made = sequencer.client_made
    made._models = CountedWeakValues(made._models)  # type: ignore[arg-type]
    for k in range(PATCHES):
        answer = _define(sequencer, [f"x{k}"])
        assert answer.msgtype == ERROR and "too many models" in answer.content["text"]
    assert sequencer.client_models == MADE
    # Walked once (the document did not change): once per patch before (50, of 1,000 models each).
    assert CountedWeakValues.walks <= 2, CountedWeakValues.walks
