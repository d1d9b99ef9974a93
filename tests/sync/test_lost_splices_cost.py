"""What a patch of many lost splices costs when the list they splice holds many models.

A splice that deletes and loses (its sender had not seen another client's change of the
list) makes the server ask which models it was to take out: every model the list holds
(``_taken_by``: a model another of its events puts back is then kept out too, §13). Each
lost splice read the whole list again, twice: a 105 KB patch of 1,000 one-item deletions,
based before another client's change of a list of 1,000 Divs, walked 2,000,000 items,
0.44 s of the event loop (10.7 ms now, in-process), and a client may repeat it. The list
is read once per patch now. Counted here, not timed.
"""

from __future__ import annotations

from typing import Any

import pytest

from docsync.document import Document, Model
from docsync.document import events as ev
from docsync.document.models import Div
from docsync.document.properties import Instance, List
from docsync.protocol.msgtypes import OK
from docsync.sync import sequencer as sequencer_module
from docsync.sync.sequencer import Sequencer

from .sequencers import send, sequencer_for

ITEMS = 1000
SPLICES = 1000


class Rack(Model):
    """A list of Divs a client may write."""

    __type_name__ = "test_lost_splices_cost.Rack"
    __client_writable__ = frozenset({"items"})
    items = List(Instance(Div))


def _rack() -> tuple[Document, Sequencer]:
    document = Document()
    document.add_root(Rack(items=[Div(text=str(i), id=f"d{i}") for i in range(ITEMS)], id="rack"))
    sequencer = sequencer_for(document)
    return document, sequencer


def _delete_first() -> dict[str, Any]:
    return {"kind": "ListSpliced", "model": {"id": "rack"}, "attr": "items", "index": 0, "delete": 1, "items": []}


def test_lost_splices_of_one_list_read_it_once(monkeypatch: pytest.MonkeyPatch) -> None:
    document, sequencer = _rack()
    base = sequencer.log.seq
    reversed_items = {"kind": "ModelChanged", "model": {"id": "rack"}, "attr": "items", "new": []}
    reversed_items["new"] = [{"id": f"d{i}"} for i in reversed(range(ITEMS))]
    assert send(sequencer, "alice", [reversed_items]).msgtype == OK
    walked: list[int] = []
    real = sequencer_module.models_in

    def counting(value: Any) -> Any:
        found = list(real(value))
        walked.append(len(found))
        return iter(found)

    monkeypatch.setattr(sequencer_module, "models_in", counting)
    answer = send(sequencer, "mallory", [_delete_first() for _ in range(SPLICES)], base=base)
    assert answer.msgtype == OK and answer.content["rejected"] == SPLICES
    # The list is read at most twice (judging the patch, then what it takes out): 2,000,000 items before.
    assert sum(walked) <= 2 * ITEMS, sum(walked)
    # Every splice lost: the list is as alice left it.
    assert [m.id for m in document.get_model_by_id("rack").items][:2] == [f"d{ITEMS - 1}", f"d{ITEMS - 2}"]  # type: ignore[union-attr]


def test_what_lost_changes_of_a_list_take_out_is_what_each_would_have() -> None:
    # Three lost changes of one list, a whole value and two splices: together they were to
    # take out every model the list held (``_taken_by`` per event, the union as before).
    _, sequencer = _rack()
    left: dict[tuple[str, str], set[str]] = {}
    rack = sequencer.document.get_model_by_id("rack")
    keep = rack.items[:3]  # type: ignore[union-attr]
    first = ev.ModelChangedEvent(rack, "items", rack.items, keep)  # type: ignore[union-attr]
    assert sequencer_module._taken_by(first, left) == {f"d{i}" for i in range(3, ITEMS)}
    second = ev.ModelChangedEvent(rack, "items", rack.items, keep[:1])  # type: ignore[union-attr]
    assert sequencer_module._taken_by(second, left) == {"d1", "d2"}
    splice = ev.ListSplicedEvent(rack, "items", 0, 1, [])
    assert sequencer_module._taken_by(splice, left) == {"d0"}
    assert sequencer_module._taken_by(splice, left) == set()
