"""What a patch costs that changes a property no client may write, naming the document's root.

A patch attaching models the server holds is bounded before it is applied: what it
attaches is walked, every model each attachment reaches counted and measured
(attachments.py). That ran before the document's checks, so a 224-byte patch changing a
layout's ``children`` (not client-writable) to the column holding every Div walked and
measured the 20,000 models it reaches, three times, to be refused as not writable: 72 ms
of the event loop a patch (0.34 ms now, in-process), and a client may send 200 a second.
A patch with an event its sender may not make (a property not client-writable, the roots
or the title where clients may not change them) is refused by ``apply_events`` whatever
it attaches, so nothing it attaches is walked. Counted here (models whose references are
read), not timed.
"""

from __future__ import annotations

from typing import Any

import pytest

from docsync.document import Document, Model
from docsync.document.models import Column, Div
from docsync.protocol.msgtypes import ERROR
from docsync.sync.encoded_documents import EncodedDocuments
from docsync.sync.sequencer import Sequencer

from .sequencers import send, sequencer_for

DIVS = 5000
PATCHES = 20


def _sequencer(allow_structure: bool) -> Sequencer:
    document = Document()
    inner = Column(children=[Div(text=str(i), id=f"d{i}") for i in range(DIVS)], id="inner")
    document.add_root(Column(children=[inner], id="root"))
    return sequencer_for(document, allow_client_structure=allow_structure, encodings=EncodedDocuments())


@pytest.mark.parametrize(
    "events",
    [
        [{"kind": "ModelChanged", "model": {"id": "root"}, "attr": "children", "new": [{"id": "inner"}]}] * 2,
        [{"kind": "RootAdded", "model": {"id": "inner"}}] * 2,
    ],
    ids=["children", "root added"],
)
def test_what_a_patch_it_may_not_make_attaches_is_not_walked(
    monkeypatch: pytest.MonkeyPatch, events: list[dict[str, Any]]
) -> None:
    sequencer = _sequencer(allow_structure=False)
    read = 0
    real = Model.references

    def counting(self: Model) -> Any:
        nonlocal read
        read += 1
        return real(self)

    monkeypatch.setattr(Model, "references", counting)
    for _ in range(PATCHES):
        answer = send(sequencer, "mallory", events)
        assert answer.msgtype == ERROR and "not" in answer.content["text"], answer.content
    # At most one walk of what the correction reaches (kept while the document is unchanged):
    # 20 patches each walked 3 x 5,000 models before.
    assert read <= DIVS + 10, read
