"""Corrections have a bounded size: past MAX_CORRECTION_BYTES the losing sender is reset, nothing is broadcast."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from docsync.document import Document, Model
from docsync.document.properties import Any_, Instance, List, Nullable, String
from docsync.protocol import Message, new_message
from docsync.protocol.msgtypes import ERROR, OK, PATCH_DOC, PUSH_DOC
from docsync.sync.patches import correction, correction_size, encode_event
from docsync.sync.sequencer import MAX_CORRECTION_BYTES, Sequencer


class Blob(Model):
    """A model holding an arbitrary value (a big array, a long text)."""

    __type_name__ = "test_correction_size.Blob"
    data = Any_(None)


class Holder(Model):
    """A model whose list of blobs a client may set (as Plot.renderers reaches whole sources)."""

    __type_name__ = "test_correction_size.Holder"
    __client_writable__ = frozenset({"items", "note"})
    items = List(Instance(Blob))
    note = Nullable(String())
    locked = String("")


def _session(blob_data: Any, *, held: bool = False, **options: Any) -> tuple[Sequencer, Holder]:
    """A session whose holder holds a blob of ``blob_data`` (``held``) or nothing yet."""
    document = Document()
    holder = Holder(id="holder", items=[Blob(id="blob", data=blob_data)] if held else [])
    document.add_root(holder)
    settings: dict[str, Any] = {
        "allow_client_structure": True,
        "log_entries": 100,
        "log_bytes": 64 << 20,
        "max_client_models": 100,
        "max_array_elements": 10_000_000,
        **options,
    }
    return Sequencer(document, **settings), holder


def _patch(base: int, *events: dict[str, Any]) -> Message:
    return new_message(PATCH_DOC, {"events": list(events), "base": base})


EMPTY_ITEMS = {"kind": "ModelChanged", "model": {"id": "holder"}, "attr": "items", "new": []}


NOTE = {"kind": "ModelChanged", "model": {"id": "holder"}, "attr": "note", "new": "alice"}


def _lose_a_change_of_items(sequencer: Sequencer, holder: Holder, blob_data: Any) -> Any:
    # The server (a callback, say) gives the holder a blob and a note at position 1;
    # alice's change of both, made on position 0, loses and must be corrected.
    holder.items = [Blob(id="blob", data=blob_data)]
    holder.note = "server"
    assert sequencer.flush() is not None
    return sequencer.handle_patch("alice", 0, _patch(0, {**EMPTY_ITEMS}, {**NOTE}))


def test_a_small_correction_goes_to_everyone() -> None:
    sequencer, holder = _session(None)
    outcome = _lose_a_change_of_items(sequencer, holder, np.arange(100.0))
    assert outcome.answer.msgtype == OK and outcome.answer.content["rejected"] == 2
    assert outcome.reset is None
    assert outcome.changes is not None
    for origin in ("alice", "bob"):
        message = outcome.changes.message_for(origin)
        assert message is not None
        assert [e["attr"] for e in message.content["events"]] == ["items", "note"]
        assert [r["id"] for r in message.content["references"]] == ["blob"]


@pytest.mark.parametrize(
    "blob_data",
    [np.zeros(MAX_CORRECTION_BYTES // 8 + 1), "x" * (MAX_CORRECTION_BYTES + 1), list(range(60_000))],
    ids=["array", "text", "list"],
)
def test_a_correction_over_the_limit_resets_its_sender_and_is_sent_to_no_one(blob_data: Any) -> None:
    sequencer, holder = _session(None)
    before = sequencer.seq
    outcome = _lose_a_change_of_items(sequencer, holder, blob_data)
    assert outcome.answer.msgtype == OK and outcome.answer.content["rejected"] == 2
    # Nothing is broadcast (the corrections of the patch are all or nothing: the small
    # one of "note" goes with the big one); alice alone gets the whole document.
    assert outcome.changes is None
    assert outcome.reset is not None and outcome.reset.msgtype == PUSH_DOC
    assert outcome.fence == outcome.reset.content["seq"] == sequencer.seq == before + 2
    assert [m.id for m in holder.items] == ["blob"] and holder.note == "server"
    # A patch alice made before the reset loses whole; one made after it is applied.
    assert sequencer.handle_patch("alice", 0, _patch(before + 1, {**EMPTY_ITEMS})).answer.content["rejected"] == 1
    assert sequencer.handle_patch("alice", 0, _patch(sequencer.seq, {**EMPTY_ITEMS})).answer.content["rejected"] == 0
    assert holder.items == []


def test_a_refused_patch_with_a_large_correction_resets_its_sender() -> None:
    sequencer, holder = _session("y" * (2 * MAX_CORRECTION_BYTES), held=True)
    locked = {"kind": "ModelChanged", "model": {"id": "holder"}, "attr": "locked", "new": "mine"}
    outcome = sequencer.handle_patch("alice", 0, _patch(0, {**EMPTY_ITEMS}, locked))
    assert outcome.answer.msgtype == ERROR and outcome.answer.content["code"] == "patch-refused"
    assert outcome.changes is None
    assert outcome.reset is not None and outcome.reset.msgtype == PUSH_DOC
    assert [m.id for m in holder.items] == ["blob"] and holder.locked == ""


def test_the_limit_is_a_setting_of_the_sequencer() -> None:
    sequencer, holder = _session(None, max_correction_bytes=100)
    outcome = _lose_a_change_of_items(sequencer, holder, np.arange(100.0))
    assert outcome.changes is None and outcome.reset is not None


@pytest.mark.parametrize(
    "blob_data",
    [np.arange(1000.0), "é" * 5000, list(range(5000)), [1.5, float("nan"), None] * 300, {"a": [1, 2], "b": "c"}],
    ids=["array", "text", "ints", "floats", "dict"],
)
def test_the_estimate_is_never_below_what_is_sent(blob_data: Any) -> None:
    sequencer, holder = _session(blob_data, held=True)
    fix = correction(holder, "items")
    encoded = encode_event(fix, "p.", sequencer.document.models)
    assert correction_size(fix) >= encoded.nbytes
