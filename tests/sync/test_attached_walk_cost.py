"""What a patch taking a model out costs when it is based before a large logged value.

A client's patch based back that takes a model out asks the log which properties another
origin attached that model to since its base (``PatchLog.attached_since``: the server
corrects them, protocol.md §9). Each such patch walked every logged value anew: a
150-byte patch, repeated, walked another client's logged list of 100,000 numbers each
time (4 ms of the event loop a patch, at 200 patches a second a frozen server). Each
logged entry is read once now. Counted here, not timed.
"""

from __future__ import annotations

from typing import Any

import pytest

from docsync.document import Document, Model
from docsync.document.models import Div
from docsync.document.properties import Instance, Int, List
from docsync.protocol import new_message
from docsync.protocol.msgtypes import OK, PATCH_DOC
from docsync.sync import patch_log
from docsync.sync.sequencer import Sequencer

from .sequencers import send, sequencer_for

NUMBERS = 100_000
PATCHES = 50


class Shelf(Model):
    """Two lists of Divs and a list of numbers a client may write."""

    __type_name__ = "test_attached_walk_cost.Shelf"
    __client_writable__ = frozenset({"items", "others", "numbers"})
    items = List(Instance(Div))
    others = List(Instance(Div))
    numbers = List(Int())


def _splice(attr: str, index: int, delete: int, items: list[str]) -> dict[str, Any]:
    return {
        "kind": "ListSpliced",
        "model": {"id": "shelf"},
        "attr": attr,
        "index": index,
        "delete": delete,
        "items": [{"id": i} for i in items],
    }


def _shelf() -> tuple[Document, Sequencer]:
    document = Document()
    document.add_root(Shelf(items=[Div(text=str(i), id=f"d{i}") for i in range(3)], id="shelf"))
    sequencer = sequencer_for(document)
    return document, sequencer


def test_patches_based_before_a_large_value_walk_it_once(monkeypatch: pytest.MonkeyPatch) -> None:
    walked: list[int] = []
    real = patch_log._referred_ids

    def counting(value: object) -> set[str]:
        walked.append(len(value) if isinstance(value, list) else 1)
        return real(value)

    monkeypatch.setattr(patch_log, "_referred_ids", counting)
    _, sequencer = _shelf()
    numbers = {"kind": "ModelChanged", "model": {"id": "shelf"}, "attr": "numbers", "new": list(range(NUMBERS))}
    assert send(sequencer, "alice", [numbers]).msgtype == OK
    base = sequencer.log.seq - 1
    for _ in range(PATCHES):
        # mallory, based before alice's list, takes d0 out and puts it back.
        assert send(sequencer, "mallory", [_splice("items", 0, 1, [])], base=base).msgtype == OK
        assert send(sequencer, "mallory", [_splice("items", 0, 0, ["d0"])]).msgtype == OK
    # Alice's list was walked once (50 times before, 5,000,000 values), and each of the
    # 100 entries after it at most once (none holds more than the shelf's 3 items).
    assert sum(walked) <= NUMBERS + 2 * PATCHES * 3, sum(walked)


def test_a_reference_attached_since_the_base_is_still_found_after_the_entry_was_read() -> None:
    document, sequencer = _shelf()
    base = sequencer.log.seq
    # Alice attaches d0 to ``others`` by reference (the server holds it in ``items`` too).
    assert send(sequencer, "alice", [_splice("others", 0, 0, ["d0"])]).msgtype == OK
    # Asked once for another model (the entry is read), then for d0, and for alice's own origin.
    assert sequencer.log.attached_since(base, "mallory", {"d1"}) == []
    assert sequencer.log.attached_since(base, "mallory", {"d0"}) == [("shelf", "others")]
    assert sequencer.log.attached_since(base, "alice", {"d0"}) == []
    # A definition in the same event is not a reference without one.
    definition = {"type": "object", "name": "Div", "id": "n1", "attributes": {}}
    content = {"events": [_splice("others", 0, 0, ["n1"])], "references": [definition]}
    assert sequencer.handle_patch("alice", 0, new_message(PATCH_DOC, content)).answer.msgtype == OK
    assert sequencer.log.attached_since(base, "mallory", {"n1"}) == []
    assert [m.id for m in document.get_model_by_id("shelf").others] == ["n1", "d0"]  # type: ignore[union-attr]
