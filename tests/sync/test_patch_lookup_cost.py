"""Two lookups of a patch's own events that grew with the square of its size.

Strays: a patch defining a model that none of its accepted events attaches has its events
on that model lose (strays.py); each accepted event was then compared with every stray,
by identity: a 79 KB patch of 1,000 changes of one such Div made 500,000 comparisons
(15 ms of the event loop; 5.5 ms now, in-process), and a client may repeat it.

A whole value, based back: what a patch's change of a list of models takes out
(``_taken_out``) looked each model the list held up in the new value, a list: 3,000 Divs
sent back in another order were 4,500,000 comparisons (a 50 KB patch, 51 ms; 15.5 ms now).

Both are counted here, not timed.
"""

from __future__ import annotations

from typing import Any

import pytest

from docsync.document import Document, Model
from docsync.document.models import Div
from docsync.document.properties import Instance, List, String
from docsync.protocol.msgtypes import OK
from docsync.sync import sequencer as sequencer_module
from docsync.sync.sequencer import Sequencer

from .sequencers import send, sequencer_for

EVENTS = 1000
ITEMS = 3000


class Crate(Model):
    """A list of Divs and a label a client may write."""

    __type_name__ = "test_patch_lookup_cost.Crate"
    __client_writable__ = frozenset({"items", "label"})
    items = List(Instance(Div))
    label = String()


class CountedId(str):
    """A model id counting how often it is compared (a lookup in a set compares none of those held)."""

    compared = 0

    def __eq__(self, other: object) -> bool:
        CountedId.compared += 1
        return str.__eq__(self, other)

    __hash__ = str.__hash__


class CountedList(list[Any]):
    """A list counting how often it is walked."""

    walks = 0

    def __iter__(self) -> Any:
        CountedList.walks += 1
        return super().__iter__()


def _crate(items: int) -> tuple[Document, Sequencer]:
    document = Document()
    document.add_root(Crate(items=[Div(text="", id=CountedId(f"d{i}")) for i in range(items)], id="crate"))
    sequencer = sequencer_for(document)
    return document, sequencer


def test_events_on_a_model_nothing_attaches_are_told_apart_once(monkeypatch: pytest.MonkeyPatch) -> None:
    _, sequencer = _crate(1)
    real = sequencer_module.stray_events
    monkeypatch.setattr(sequencer_module, "stray_events", lambda *args: CountedList(real(*args)))
    definition = {"type": "object", "name": "Div", "id": "n1", "attributes": {}}
    events = [{"kind": "ModelChanged", "model": {"id": "n1"}, "attr": "text", "new": str(i)} for i in range(EVENTS)]
    answer = send(sequencer, "mallory", events, [definition])
    assert answer.msgtype == OK and answer.content["rejected"] == EVENTS
    # The strays are walked a few times per patch, not once per accepted event (1,000 before).
    assert CountedList.walks <= 5, CountedList.walks


def test_a_whole_list_of_models_sent_back_based_back_is_looked_up_in_a_set() -> None:
    document, sequencer = _crate(ITEMS)
    base = sequencer.log.seq
    assert (
        send(
            sequencer,
            "alice",
            [{"kind": "ModelChanged", "model": {"id": "crate"}, "attr": "label", "new": "a"}],
        ).msgtype
        == OK
    )
    new = [{"id": f"d{i}"} for i in reversed(range(ITEMS))]
    event = {"kind": "ModelChanged", "model": {"id": "crate"}, "attr": "items", "new": new}
    CountedId.compared = 0
    assert send(sequencer, "mallory", [event], base=base).msgtype == OK
    # Each held id compared with a few others at most (4,500,000 comparisons before).
    assert CountedId.compared <= 10 * ITEMS, CountedId.compared
    assert [m.id for m in document.get_model_by_id("crate").items][:2] == [f"d{ITEMS - 1}", f"d{ITEMS - 2}"]  # type: ignore[union-attr]
