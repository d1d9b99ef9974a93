"""``MAX_CLIENT_MODELS`` counts the models clients defined that the document holds, each once.

A client sends a model it attached, detached and attached again in one batch as two
patches, the second defining it again: counted by definitions, that model took two
places of the budget, and a model a client removed kept its place for the session's life.
"""

from __future__ import annotations

from docsync.document import Document
from docsync.protocol import Message, new_message
from docsync.protocol.msgtypes import ERROR, OK, PATCH_DOC
from docsync.sync.outbox import Outbox
from docsync.sync.sequencer import Sequencer
from tests.sync.test_reattached_models import Note, Shelf, _text


def _session(budget: int) -> tuple[Document, Sequencer, Document, Outbox]:
    document = Document()
    document.add_root(Shelf(id="first"))
    sequencer = Sequencer(
        document,
        allow_client_structure=True,
        log_entries=100,
        log_bytes=1 << 20,
        max_client_models=budget,
        max_array_elements=1000,
    )
    client = Document.from_json(*document.to_json())
    outbox = Outbox()
    client.on_change(lambda event: outbox.add(event, base=sequencer.seq, attached=client.models))
    return document, sequencer, client, outbox


def _send_all(sequencer: Sequencer, outbox: Outbox) -> list[Message]:
    """Send what waits, patch by patch; return the answers."""
    answers = []
    while (batch := outbox.take()) is not None:
        content = batch.content
        patch = new_message(PATCH_DOC, {"events": content["events"], "references": content["references"], "base": 0})
        answers.append(sequencer.handle_patch("alice", 0, patch).answer)
    return answers


def test_a_model_defined_again_in_the_second_patch_of_a_batch_takes_one_place() -> None:
    document, sequencer, client, outbox = _session(budget=1)
    shelf = client.get_model_by_id("first")
    note = Note(id="c-note", text="a")
    shelf.notes.append(note)  # type: ignore[union-attr]
    shelf.notes.remove(note)  # type: ignore[union-attr]
    note.text = "changed while detached"
    shelf.notes.insert(0, note)  # type: ignore[union-attr]
    answers = _send_all(sequencer, outbox)
    # (Counted twice, the second patch passed the budget of one: refused, the note lost.)
    assert [a.msgtype for a in answers] == [OK, OK], [a.content for a in answers]
    assert sequencer.client_models == 1
    assert _text(client) == _text(document)


def test_a_model_that_left_the_document_gives_its_place_back() -> None:
    document, sequencer, client, outbox = _session(budget=2)
    shelf = client.get_model_by_id("first")
    for round_ in range(5):
        note = Note(id=f"c-note-{round_}", text="a")
        shelf.notes.append(note)  # type: ignore[union-attr]
        assert [a.msgtype for a in _send_all(sequencer, outbox)] == [OK]
        shelf.notes.remove(note)  # type: ignore[union-attr]
        assert [a.msgtype for a in _send_all(sequencer, outbox)] == [OK]
        assert sequencer.client_models == 0
    assert _text(client) == _text(document)


def test_models_the_document_holds_are_still_bounded() -> None:
    document, sequencer, client, outbox = _session(budget=2)
    shelf = client.get_model_by_id("first")
    shelf.notes.extend([Note(id="c-1"), Note(id="c-2")])  # type: ignore[union-attr]
    assert [a.msgtype for a in _send_all(sequencer, outbox)] == [OK]
    before = _text(document)
    shelf.notes.append(Note(id="c-3"))  # type: ignore[union-attr]
    answers = _send_all(sequencer, outbox)
    assert [a.msgtype for a in answers] == [ERROR]
    refusal = "too many models created by clients: at most 2 (1 defined by this patch, 2 before)"
    assert refusal in str(answers[0].content)
    assert _text(document) == before and sequencer.client_models == 2


def test_the_ids_of_the_documents_own_keys_are_refused_and_change_nothing() -> None:
    # A model's own conflict key, (id,), had the shape of the roots' and the title's: a
    # model named "roots" taken out passed for a change of the roots, and the server did
    # not see that it had left (PatchLog.departures_since skips the document's keys).
    for reserved in ("roots", "title"):
        document, sequencer, client, outbox = _session(budget=10)
        before = document.to_json()
        client.add_root(Note(id=reserved, text="mine"))
        batch = outbox.take()
        assert batch is not None and outbox.take() is None
        content = {"events": batch.content["events"], "references": batch.content["references"], "base": 0}
        outcome = sequencer.handle_patch("alice", 0, new_message(PATCH_DOC, content))
        assert outcome.answer.msgtype == ERROR
        assert outcome.answer.content["text"] == f"model id {reserved!r} is reserved for the document's {reserved}"
        assert document.to_json() == before
        # Refused as any change of the roots is (protocol.md §9, §13 rule 6): the sender,
        # which holds the model as a root, is reset; the reset alone takes a position.
        assert outcome.reset is not None and outcome.reset.content["seq"] == sequencer.seq == 1
        assert outcome.changes is None
        # The same model under another id is taken: only the reserved ids are refused.
        document, sequencer, client, outbox = _session(budget=10)
        client.add_root(Note(id=f"my-{reserved}", text="mine"))
        assert [a.msgtype for a in _send_all(sequencer, outbox)] == [OK]
        assert document.roots[-1].text == "mine"  # type: ignore[attr-defined]
