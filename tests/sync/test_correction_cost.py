"""What correcting a stale change costs when the property's value is large, and what a reset after it costs.

A change that loses is corrected: the server sends the property's whole value (§13), or
resets its sender when that would be more than ``max_correction_bytes``. To tell which, each
stale change of a list of numbers walked the list for models (none can be there) and
measured it: a 123-byte patch changing a list of 1,000,000 numbers took 86 ms of the event
loop (3.4 ms now, in-process: what is left is the reset's copy of the document), and a
client may repeat it. A value's length bounds its size from below now, and a property that
holds no model is not walked.

A stale change of a list of models had its correction built and measured whole, all the
models the list reaches, to find it too large and reset the sender: a 146-byte patch
splicing a list of 20,000 Divs took 72 ms of the event loop, at every patch (4.6 ms now,
the reset's copy). They are measured up to ``max_correction_bytes`` now, and the size found
is kept while the document is unchanged.

Corrections change nothing in the document, but each made the server forget the document
it had encoded: a stale 171-byte patch changing a label and removing a root (its correction
queued, its sender reset) encoded the whole document again for the reset, every time (1.9
ms for 1,000 Divs; 0.09 ms now). Counted here, not timed.
"""

from __future__ import annotations

from typing import Any

import pytest

from docsync.document import Document, Model
from docsync.document.models import Div
from docsync.document.properties import Instance, Int, List, String
from docsync.protocol.msgtypes import OK
from docsync.sync import patches
from docsync.sync.encoded_documents import EncodedDocuments
from docsync.sync.sequencer import Sequencer

from .sequencers import patch_outcome, sequencer_for

PATCHES = 20
DIVS = 20_000


class Ledger(Model):
    """A list of numbers, a label and a list of Divs a client may write."""

    __type_name__ = "test_correction_cost.Ledger"
    __client_writable__ = frozenset({"numbers", "label", "items"})
    numbers = List(Int())
    label = String()
    items = List(Instance(Div))


def _ledger(document: Document, numbers: int, divs: int = 0) -> Sequencer:
    items = [Div(text=str(i), id=f"d{i}") for i in range(divs)]
    document.add_root(Ledger(numbers=list(range(numbers)), items=items, id="ledger"))
    return sequencer_for(document, max_array_elements=10_000_000, encodings=EncodedDocuments())


def _change(attr: str, new: Any) -> dict[str, Any]:
    return {"kind": "ModelChanged", "model": {"id": "ledger"}, "attr": attr, "new": new}


@pytest.mark.parametrize("numbers", [100_000, 300_000])
def test_a_stale_change_of_a_long_list_of_numbers_is_not_walked(monkeypatch: pytest.MonkeyPatch, numbers: int) -> None:
    sequencer = _ledger(Document(), numbers)
    walked: list[int] = []
    real = List.iter_models

    def counting(self: List, value: Any) -> Any:
        walked.append(len(value))
        return real(self, value)

    measured: list[int] = []
    real_measure = patches.measure

    def counting_measure(value: Any, into: Any) -> None:
        measured.append(len(value) if isinstance(value, list) else 1)
        real_measure(value, into)

    monkeypatch.setattr(List, "iter_models", counting)
    monkeypatch.setattr(patches, "measure", counting_measure)
    for _ in range(PATCHES):
        # Stale (based before the fence): the change loses and is corrected, or its sender reset.
        outcome = patch_outcome(sequencer, "mallory", [_change("numbers", [1])], base=0, fence=1)
        assert outcome.answer.msgtype == OK and outcome.answer.content["rejected"] == 1
    # A list of numbers holds no model: never walked for them (once per patch before).
    assert walked == []
    # 300,000 numbers are more than a correction may take (at least 600,001 bytes): never
    # measured, each sender reset; 100,000 are measured once (each patch measured them before).
    assert sum(measured) == (0 if numbers > sequencer.max_correction_bytes else numbers), sum(measured)


def test_a_stale_change_of_a_list_of_many_models_is_measured_once_and_in_part(monkeypatch: pytest.MonkeyPatch) -> None:
    sequencer = _ledger(Document(), 10, divs=DIVS)
    measured = 0
    real = patches.model_footprint

    def counting(model: Model) -> Any:
        nonlocal measured
        measured += 1
        return real(model)

    monkeypatch.setattr(patches, "model_footprint", counting)
    for _ in range(PATCHES):
        # Stale: the change of ``items`` loses; its correction (20,000 Divs) is too large, its sender reset.
        splice = {
            "kind": "ListSpliced",
            "model": {"id": "ledger"},
            "attr": "items",
            "index": 0,
            "delete": 0,
            "items": [],
        }
        outcome = patch_outcome(sequencer, "mallory", [splice], base=0, fence=1)
        assert outcome.answer.content["rejected"] == 1 and outcome.reset is not None
    # The Divs measured up to max_correction_bytes of them, once (all of them per patch before: 400,000).
    assert measured < DIVS // 2, measured


def test_a_correction_keeps_the_document_encoded_for_the_reset_after_it(monkeypatch: pytest.MonkeyPatch) -> None:
    document = Document()
    sequencer = _ledger(document, 10, divs=1000)
    encodings = 0
    real = Document.to_json

    def counting(self: Document, *args: Any, **kwargs: Any) -> Any:
        nonlocal encodings
        encodings += 1
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Document, "to_json", counting)
    for _ in range(PATCHES):
        # Stale: the label is corrected, the root's removal resets the sender.
        events = [_change("label", "m"), {"kind": "RootRemoved", "model": {"id": "ledger"}}]
        outcome = patch_outcome(sequencer, "mallory", events, base=0, fence=1)
        assert outcome.reset is not None
        assert outcome.changes is not None and outcome.changes.events[0].json["attr"] == "label"
    # Encoded once for all the resets (once per patch before: the correction forgot it).
    assert encodings == 1, encodings
