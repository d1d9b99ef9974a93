"""A model detached and attached again within one change batch: defined at a position after the detaching change.

One PATCH-DOC may define a model once, and none its receivers hold when they read it
(they keep theirs: ``keep_known``). The server's Sequencer gives the changes from such a
definition on a new position; a client's Outbox sends them in a patch of their own.
"""

from __future__ import annotations

from typing import Any

from docsync.document import Document, Model
from docsync.document.properties import Instance, List, String
from docsync.protocol import Message, new_message
from docsync.protocol.msgtypes import OK, PATCH_DOC
from docsync.protocol.wire_json import dumps
from docsync.sync.outbox import Outbox
from docsync.sync.resume import replay_reply
from docsync.sync.sequencer import Changes, Sequencer


class Note(Model):
    """A text a client may change."""

    __type_name__ = "test_reattached.Note"
    __client_writable__ = frozenset({"text"})
    text = String("")


class Shelf(Model):
    """A list of notes a client may change."""

    __type_name__ = "test_reattached.Shelf"
    __client_writable__ = frozenset({"notes"})
    notes = List(Instance(Note))


def _session() -> tuple[Document, Sequencer, Shelf, Shelf, Note]:
    document = Document()
    held = Note(id="held", text="held")
    first, second = Shelf(id="first", notes=[held]), Shelf(id="second")
    document.add_root(first)
    document.add_root(second)
    sequencer = Sequencer(
        document,
        allow_client_structure=True,
        log_entries=100,
        log_bytes=1 << 20,
        max_client_models=100,
        max_array_elements=1000,
    )
    return document, sequencer, first, second, held


def _text(document: Document) -> str:
    doc_json = document.to_json()[0]
    return dumps({**doc_json, "models": sorted(doc_json["models"], key=lambda m: m["id"])})


def _receive(client: Document, messages: list[Message]) -> list[int]:
    """Apply the server's PATCH-DOCs as a client reads them; return their positions."""
    for message in messages:
        decoded = client.decode_patch(message.content, dict(message.buffers), keep_known=True, skip_unknown=True)
        client.apply_patch(decoded)
    return [m.content["seq"] for m in messages]


def _ids_defined(message: Message) -> list[str]:
    return [definition["id"] for definition in message.content["references"]]


def test_a_new_model_attached_detached_changed_and_attached_again_goes_in_two_positions() -> None:
    document, sequencer, first, _, _ = _session()
    client = Document.from_json(*document.to_json())
    note = Note(id="note", text="a")
    first.notes.append(note)
    first.notes.remove(note)
    note.text = "changed while detached"
    first.notes.insert(0, note)
    changes = sequencer.flush()
    assert changes is not None and changes.seq == sequencer.seq == 2
    messages = changes.messages_for("anyone")
    assert [_ids_defined(m) for m in messages] == [["note"], ["note"]]
    assert _receive(client, messages) == [1, 2]
    assert _text(client) == _text(document)
    assert client.get_model_by_id("note").text == "changed while detached"  # type: ignore[union-attr]


def test_a_held_model_detached_changed_and_attached_again_is_defined_after_its_receivers_dropped_theirs() -> None:
    document, sequencer, first, second, held = _session()
    client = Document.from_json(*document.to_json())
    first.notes.remove(held)
    held.text = "moved"
    second.notes.append(held)
    changes = sequencer.flush()
    assert changes is not None
    messages = changes.messages_for(None)
    assert [_ids_defined(m) for m in messages] == [[], ["held"]]
    _receive(client, messages)
    # (In one patch, the client kept its own "held", as it was.)
    assert client.get_model_by_id("held").text == "moved"  # type: ignore[union-attr]
    assert _text(client) == _text(document)


def test_changes_reported_after_a_hold_are_cut_where_they_were_made() -> None:
    document, sequencer, first, second, held = _session()
    client = Document.from_json(*document.to_json())
    note = Note(id="note", text="a")
    document.hold()
    first.notes.append(note)
    first.notes.remove(note)
    note.text = "b"
    second.notes.insert(0, note)  # cut: the note was defined and detached
    first.notes.remove(held)  # the held one leaves after the cut
    held.text = "moved"
    second.notes.append(held)  # cut again, though the hold made both cuts' departures before
    document.unhold()
    changes = sequencer.flush()
    assert changes is not None
    messages = changes.messages_for(None)
    assert [_ids_defined(m) for m in messages] == [["note"], ["note"], ["held"]]
    _receive(client, messages)
    assert _text(client) == _text(document)


def test_a_replay_sends_each_position_of_such_changes_apart() -> None:
    document, sequencer, first, _, _ = _session()
    client = Document.from_json(*document.to_json())
    note = Note(id="note", text="a")
    first.notes.append(note)
    first.notes.remove(note)
    first.notes.insert(0, note)
    sequencer.flush()
    reply = replay_reply(sequencer.log, "late", 0, sequencer.incarnation)
    patches = reply.content["patches"]
    assert [p["seq"] for p in patches] == [1, 2]
    for patch in patches:
        client.apply_patch(client.decode_patch(patch, dict(reply.buffers), keep_known=True))
    assert _text(client) == _text(document)


def _patch(base: int, events: list[dict[str, Any]], references: list[dict[str, Any]]) -> Message:
    return new_message(PATCH_DOC, {"events": events, "references": references, "base": base})


def test_a_senders_last_position_all_its_own_still_reaches_it_as_an_empty_patch() -> None:
    document, sequencer, first, second, _ = _session()
    sender = Document.from_json(*document.to_json())

    def take_back(attr: str, old: Any, new: Any) -> None:  # the app: a note put on the first shelf goes back
        for note in [n for n in new if n.id == "mine"]:
            first.notes.remove(note)

    first.on_change("notes", take_back)
    mine = {"type": "object", "name": Note.__type_name__, "id": "mine", "attributes": {"text": "mine"}}
    splice = {"kind": "ListSpliced", "model": {"id": "first"}, "attr": "notes", "index": 1, "delete": 0}
    events = [
        {**splice, "items": [{"id": "mine"}]},
        {"kind": "ModelChanged", "model": {"id": "second"}, "attr": "notes", "new": [{"id": "mine"}]},
    ]
    outcome = sequencer.handle_patch("alice", 0, _patch(0, events, [mine]))
    # Its second event defines again the model the callback of its first detached: a new position.
    assert outcome.answer.msgtype == OK
    assert outcome.answer.content == {"seq": 0, "rejected": 0, "applied_seq": 2}
    changes = outcome.changes
    assert isinstance(changes, Changes)
    for_alice = changes.messages_for("alice")
    assert [(m.content["seq"], len(m.content["events"])) for m in for_alice] == [(1, 1), (2, 0)]
    for_bob = changes.messages_for("bob")
    assert [(m.content["seq"], _ids_defined(m)) for m in for_bob] == [(1, ["mine"]), (2, ["mine"])]
    bob = Document.from_json(*Document.from_json(*sender.to_json()).to_json())
    _receive(bob, for_bob)
    assert _text(bob) == _text(document)
    assert [n.id for n in second.notes] == ["mine"]


def _client_session() -> tuple[Document, Sequencer, Document, Outbox]:
    document, sequencer, _, _, _ = _session()
    client = Document.from_json(*document.to_json())
    outbox = Outbox()
    client.on_change(lambda event: outbox.add(event, base=0, attached=client.models))
    return document, sequencer, client, outbox


def _send_all(sequencer: Sequencer, outbox: Outbox) -> list[list[str]]:
    """Send what waits, patch by patch, each answered OK; return the ids each defined."""
    defined = []
    while (batch := outbox.take()) is not None:
        defined.append([definition["id"] for definition in batch.content["references"]])
        outcome = sequencer.handle_patch("alice", 0, _patch(0, batch.content["events"], batch.content["references"]))
        assert outcome.answer.msgtype == OK, outcome.answer.content
    return defined


def test_a_client_sends_a_model_it_attached_detached_and_attached_again_in_two_patches() -> None:
    document, sequencer, client, outbox = _client_session()
    shelf = client.get_model_by_id("first")
    note = Note(id="c-note", text="a")
    shelf.notes.append(note)  # type: ignore[union-attr]
    shelf.notes.remove(note)  # type: ignore[union-attr]
    note.text = "changed while detached"
    shelf.notes.insert(0, note)  # type: ignore[union-attr]
    # (In one patch, its first definition alone went: the server's note said "a".)
    assert _send_all(sequencer, outbox) == [["c-note"], ["c-note"]]
    assert _text(client) == _text(document)


def test_a_whole_value_that_defines_again_what_an_earlier_one_detached_supersedes_nothing() -> None:
    document, sequencer, client, outbox = _client_session()
    shelf = client.get_model_by_id("second")
    note = Note(id="c-note", text="a")
    shelf.notes = [note]  # type: ignore[union-attr]
    _send_all(sequencer, outbox)
    shelf.notes = []  # type: ignore[union-attr]
    note.text = "changed while detached"
    shelf.notes = [note]  # type: ignore[union-attr]
    # (Superseding the first, the second defined a model the server held: refused.)
    assert _send_all(sequencer, outbox) == [[], ["c-note"]]
    assert _text(client) == _text(document)
