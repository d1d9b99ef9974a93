"""A client moves models the server holds (children reordered, moved to another list): it refers to them.

The server refuses a definition of a model it holds (a reserved id: the application
may put it back). A client that took such a model out and put it back, in one batch or
in a later patch of the same base, used to define it, and its move was refused: now
it refers to it, and what it changed while the model was out follows as changes. In
memory: a Sequencer and ClientProtocols, every message through the wire's frames.
"""

from __future__ import annotations

import gc
import weakref
from typing import Any

import numpy as np

from docsync.document import Document, Model
from docsync.document.models import ColumnDataSource
from docsync.document.properties import Instance, List, String
from docsync.protocol import Message, Receiver, new_message
from docsync.protocol.msgtypes import ACK, ERROR, OK, PATCH_DOC, PULL_DOC_REPLY
from docsync.protocol.wire_json import dumps
from docsync.sync import ChangesLost, ClientProtocol, ErrorReported
from docsync.sync.outbox import Outbox
from docsync.sync.sequencer import Sequencer


class Card(Model):
    """A card: its text a client may change, its label not."""

    __type_name__ = "test_moves.Card"
    __client_writable__ = frozenset({"text"})
    text = String("")
    label = String("")


class Pile(Model):
    """A list of cards a client may change."""

    __type_name__ = "test_moves.Pile"
    __client_writable__ = frozenset({"cards"})
    cards = List(Instance(Card))


class Shelf(Model):
    """A list of piles a client may change (piles move between places as cards do)."""

    __type_name__ = "test_moves.Shelf"
    __client_writable__ = frozenset({"piles"})
    piles = List(Instance(Pile))


class Note(Model):
    """A note whose tags (plain strings) a client may splice."""

    __type_name__ = "test_moves.Note"
    __client_writable__ = frozenset({"tags"})
    tags = List(String())


class Board(Model):
    """A list of notes a client may change."""

    __type_name__ = "test_moves.Board"
    __client_writable__ = frozenset({"notes"})
    notes = List(Instance(Note))


class Rack(Model):
    """Data sources a client may take out and put back."""

    __type_name__ = "test_moves.Rack"
    __client_writable__ = frozenset({"sources"})
    sources = List(Instance(ColumnDataSource))


def _wire(message: Message) -> Message:
    """``message`` as its receiver reads it, from its frames."""
    receiver = Receiver()
    read = None
    for frame in message.to_frames():
        read = receiver.receive(frame if isinstance(frame, str | bytes) else bytes(frame))
    assert read is not None
    return read


class Session:
    """A server's document and Sequencer, the application's own models (held), and its clients."""

    def __init__(self) -> None:
        self.document = Document()
        # The application holds its models (as a Bokeh-style app holds its widgets).
        self.cards = [Card(id=f"card-{i}", text=f"card {i}", label=f"label {i}") for i in range(3)]
        self.piles = [Pile(id="left", cards=list(self.cards)), Pile(id="right")]
        for pile in self.piles:
            self.document.add_root(pile)
        self.sequencer = Sequencer(
            self.document,
            allow_client_structure=True,
            log_entries=100,
            log_bytes=1 << 20,
            max_client_models=100,
            max_array_elements=1000,
        )
        self.clients: dict[str, ClientProtocol] = {}
        self.answers: dict[str, list[Message]] = {}
        self.resets_expected = False  # (a test that expects resets delivers them)

    def connect(self, name: str) -> ClientProtocol:
        """A client live on the session's document."""
        client = ClientProtocol(Document(), client_id=name)
        client.connection_made()
        client.receive_message(_wire(new_message(ACK)))
        (request,) = client.messages_to_send()
        client.receive_message(_wire(self.sequencer.pull(request)))
        client.events_received()
        self.clients[name] = client
        self.answers[name] = []
        return client

    def send(self, name: str) -> int:
        """Deliver what client ``name`` sends (its patches, each answered); return how many."""
        sent = 0
        self.clients[name].flush()  # (as its connection does, once it may send)
        for message in self.clients[name].messages_to_send():
            assert message.msgtype == PATCH_DOC
            outcome = self.sequencer.handle_patch(name, 0, _wire(message))
            self.answers[name].append(outcome.answer)
            self.clients[name].receive_message(_wire(outcome.answer))
            assert outcome.reset is None or self.resets_expected
            if outcome.changes is not None:
                for other, client in self.clients.items():
                    for patch in outcome.changes.messages_for(other):
                        client.receive_message(_wire(patch))
            if outcome.reset is not None:  # (after the answer and the changes, as the server sends it)
                self.clients[name].receive_message(_wire(outcome.reset))
            sent += 1
        return sent

    def settle(self) -> None:
        """Deliver every client's patches until none sends any."""
        while sum(self.send(name) for name in self.clients):
            pass


def _text(document: Document) -> str:
    doc_json = document.to_json()[0]
    return dumps({**doc_json, "models": sorted(doc_json["models"], key=lambda m: m["id"])})


def _cards(document: Document, pile: str) -> list[str]:
    return [card.id for card in document.get_model_by_id(pile).cards]  # type: ignore[union-attr]


def _troubles(client: ClientProtocol) -> list[Any]:
    return [e for e in client.events_received() if isinstance(e, ChangesLost | ErrorReported)]


def _pile(client: ClientProtocol, pile_id: str) -> Any:
    return client.document.get_model_by_id(pile_id)


def test_a_reorder_by_a_removal_and_an_insertion_goes_as_references() -> None:
    session = Session()
    alice, bob = session.connect("alice"), session.connect("bob")
    left = _pile(alice, "left")
    card = left.cards[0]
    left.cards.remove(card)
    left.cards.insert(2, card)
    alice.flush()
    (batch,) = alice.messages_to_send()
    assert batch.content["references"] == []  # (it defined card-0: refused, "reserved for the server's own models")
    alice.receive_message(_wire(session.sequencer.handle_patch("alice", 0, _wire(batch)).answer))
    assert _cards(session.document, "left") == ["card-1", "card-2", "card-0"]
    assert session.document.get_model_by_id("card-0") is session.cards[0]  # the application's own, moved
    assert not _troubles(alice) and not _troubles(bob)


def test_a_move_to_another_list_reaches_the_server_and_the_other_clients() -> None:
    session = Session()
    alice, bob = session.connect("alice"), session.connect("bob")
    left, right = _pile(alice, "left"), _pile(alice, "right")
    card = left.cards[1]
    left.cards.remove(card)
    right.cards.append(card)
    session.settle()
    assert [m.msgtype for m in session.answers["alice"]] == [OK]
    assert _cards(session.document, "right") == ["card-1"]
    assert _text(alice.document) == _text(session.document) == _text(bob.document)
    assert not _troubles(alice) and not _troubles(bob)


def test_a_whole_value_emptied_then_reordered_goes_as_references() -> None:
    session = Session()
    alice, bob = session.connect("alice"), session.connect("bob")
    left = _pile(alice, "left")
    cards = list(left.cards)
    left.cards = []
    left.cards = [cards[2], cards[0], cards[1]]
    session.settle()
    assert [m.msgtype for m in session.answers["alice"]] == [OK]
    assert _cards(session.document, "left") == ["card-2", "card-0", "card-1"]
    assert _text(alice.document) == _text(session.document) == _text(bob.document)


def test_a_model_put_back_after_the_server_took_its_removal_is_referred_to() -> None:
    session = Session()
    alice, bob = session.connect("alice"), session.connect("bob")
    left, right = _pile(alice, "left"), _pile(alice, "right")
    card = left.cards[0]
    left.cards.remove(card)
    assert session.send("alice") == 1  # the server takes the removal: card-0 left its document
    assert session.document.get_model_by_id("card-0") is None
    right.cards.insert(0, card)  # a later patch, of the same base
    session.settle()
    assert [m.msgtype for m in session.answers["alice"]] == [OK, OK], session.answers["alice"][-1].content
    assert _cards(session.document, "right") == ["card-0"]
    assert session.document.get_model_by_id("card-0") is session.cards[0]
    assert _text(alice.document) == _text(session.document) == _text(bob.document)
    assert not _troubles(alice) and not _troubles(bob)


def test_what_changed_while_a_model_was_out_follows_it_in_both_orders() -> None:
    for removal_sent_first in (False, True):
        session = Session()
        alice, bob = session.connect("alice"), session.connect("bob")
        left, right = _pile(alice, "left"), _pile(alice, "right")
        card = left.cards[2]
        left.cards.remove(card)
        if removal_sent_first:
            session.send("alice")
        card.text = "written while out"  # no event: the card is in no document
        right.cards.append(card)
        session.settle()
        assert all(m.msgtype == OK for m in session.answers["alice"])
        assert session.cards[2].text == "written while out"
        assert _text(alice.document) == _text(session.document) == _text(bob.document)


def test_a_property_the_client_may_not_write_stays_refused_while_out() -> None:
    session = Session()
    alice = session.connect("alice")
    left = _pile(alice, "left")
    card = left.cards[0]
    left.cards.remove(card)
    session.send("alice")
    card.label = "relabelled"  # not client-writable: a model the server holds is not the client's own
    left.cards.append(card)
    session.settle()
    (answer,) = [m for m in session.answers["alice"] if m.msgtype == ERROR]
    assert "not writable" in answer.content["text"]
    assert session.cards[0].label == "label 0"


def test_another_client_cannot_put_back_a_model_someone_else_took_out() -> None:
    session = Session()
    alice = session.connect("alice")
    session.connect("bob")
    left = _pile(alice, "left")
    left.cards.remove(left.cards[0])
    session.send("alice")
    # Bob refers to card-0 as if he had not seen the removal: a change that crossed it loses.
    content = {
        "events": [
            {"kind": "ListSpliced", "model": {"id": "right"}, "attr": "cards", "index": 0, "delete": 0,
             "items": [{"id": "card-0"}]},
        ],
        "references": [],
        "base": 1,
    }  # fmt: skip
    outcome = session.sequencer.handle_patch("bob", 0, _wire(new_message(PATCH_DOC, content)))
    assert outcome.answer.msgtype == OK and outcome.answer.content["rejected"] == 1
    assert session.document.get_model_by_id("card-0") is None


def test_a_root_put_back_after_the_server_took_its_removal_is_referred_to() -> None:
    # Found by the convergence workload (seed 6, its "take" and "put_back" draws): the
    # RootAdded checked the model before the patch's check saw it joining, and the
    # server refused the whole patch (ERROR "unknown model id"), its other changes lost.
    session = Session()
    alice, bob = session.connect("alice"), session.connect("bob")
    right = _pile(alice, "right")
    alice.document.remove_root(right)
    assert session.send("alice") == 1  # the server takes the removal: "right" left its document
    assert session.document.get_model_by_id("right") is None
    alice.document.add_root(right)  # a later patch, of the same base
    session.settle()
    assert [m.msgtype for m in session.answers["alice"]] == [OK, OK], session.answers["alice"][-1].content
    assert [r.id for r in session.document.roots] == ["left", "right"]
    assert session.document.get_model_by_id("right") is session.piles[1]
    assert _text(alice.document) == _text(session.document) == _text(bob.document)
    assert not _troubles(alice) and not _troubles(bob)


def test_another_client_cannot_put_back_a_root_someone_else_took_out() -> None:
    session = Session()
    alice = session.connect("alice")
    session.connect("bob")
    alice.document.remove_root(_pile(alice, "right"))
    session.send("alice")
    content = {"events": [{"kind": "RootAdded", "model": {"id": "right"}}], "references": [], "base": 0}
    outcome = session.sequencer.handle_patch("bob", 0, _wire(new_message(PATCH_DOC, content)))
    assert outcome.answer.msgtype == OK and outcome.answer.content["rejected"] == 1
    assert session.document.get_model_by_id("right") is None


def test_changes_of_a_root_whose_put_back_lost_lose_with_it() -> None:
    # Found by the convergence workload (seed 5064): the put-back lost (the roots changed
    # meanwhile) but a change of the model in the same patch was kept; the document
    # refused it (the model is in no document) and the server refused the whole patch
    # (ERROR "unknown model id"), its other changes lost with it.
    session = Session()
    alice, bob = session.connect("alice"), session.connect("bob")
    right, left = _pile(alice, "right"), _pile(alice, "left")
    alice.document.remove_root(right)
    session.send("alice")  # "right" left the server's document by alice's change
    alice.document.add_root(right)
    right.cards.append(Card(id="alice-card", text="new"))
    left.cards[0].text = "kept"
    alice.flush()
    (patch,) = alice.messages_to_send()
    bob.document.add_root(Pile(id="bob-pile"))  # the roots change before alice's patch arrives
    session.send("bob")
    outcome = session.sequencer.handle_patch("alice", 0, _wire(patch))
    assert outcome.answer.msgtype == OK, outcome.answer.content
    assert outcome.answer.content["rejected"] == 2  # the put-back and the change of "right"
    assert outcome.reset is not None  # a root change lost: alice is reset
    assert session.cards[0].text == "kept"
    assert session.document.get_model_by_id("right") is None


def test_a_change_made_before_another_client_moved_the_model_loses() -> None:
    # Found by the convergence workload (seeds 3, 2007): bob's change of a card crossed
    # alice's move of it. Bob dropped the card when the move took it out and took the
    # one its definition gave when the move put it back, without his change; the server
    # took his change (the card was back): bob's document and the server's differed.
    session = Session()
    alice, bob = session.connect("alice"), session.connect("bob")
    _pile(bob, "left").cards[0].text = "bob's"
    bob.flush()
    (patch,) = bob.messages_to_send()
    left = _pile(alice, "left")
    card = left.cards[0]
    left.cards.remove(card)
    left.cards.append(card)
    session.send("alice")
    outcome = session.sequencer.handle_patch("bob", 0, _wire(patch))
    bob.receive_message(_wire(outcome.answer))
    assert outcome.answer.content["rejected"] == 1  # the card left in a change bob had not seen
    if outcome.changes is not None:
        for message in outcome.changes.messages_for("bob"):
            bob.receive_message(_wire(message))
    session.settle()
    assert _cards(session.document, "left") == ["card-1", "card-2", "card-0"]
    assert _text(alice.document) == _text(session.document) == _text(bob.document)


def test_a_put_back_queued_before_its_model_was_held_refers_to_it() -> None:
    # Found by the convergence workload with move draws (seed 5118): alice's put-back of
    # her new root was queued while the patch defining it was unanswered (across a drop),
    # so it kept the definition; the resume's answer made the model held, bob's move of
    # it won, and the put-back defined it again: the server refused the patch ("duplicate
    # model id") and alice resynced. A definition is decided again when the change is sent.
    session = Session()
    alice, bob = session.connect("alice"), session.connect("bob")
    alice.document.add_root(Card(id="alice-card", text="new"))
    alice.flush()
    (first,) = alice.messages_to_send()
    outcome = session.sequencer.handle_patch("alice", 0, _wire(first))
    assert outcome.answer.msgtype == OK and outcome.changes is not None
    for message in outcome.changes.messages_for("bob"):
        bob.receive_message(_wire(message))
    alice.connection_lost()  # the OK is lost with the connection
    card = alice.document.get_model_by_id("alice-card")
    alice.document.remove_root(card)  # taken out and put back while offline: queued
    alice.document.add_root(card)
    del session.clients["alice"]  # (offline: bob's move is replayed to her on resume)
    moved = bob.document.get_model_by_id("alice-card")
    bob.document.remove_root(moved)
    _pile(bob, "right").cards.append(moved)
    assert session.send("bob") == 1
    assert [m.msgtype for m in session.answers["bob"]] == [OK]
    alice.connection_made()
    alice.receive_message(_wire(new_message(ACK)))
    (request,) = alice.messages_to_send()
    alice.receive_message(_wire(session.sequencer.resume("alice", _wire(request), created_session=False).reply))
    session.clients["alice"] = alice
    session.resets_expected = True  # alice's removal loses to bob's move: she is reset
    session.settle()
    assert ERROR not in [m.msgtype for m in session.answers["alice"]], session.answers["alice"][-1].content
    assert _cards(session.document, "right") == ["alice-card"]  # bob's move won
    assert not [e for e in _troubles(alice) if isinstance(e, ErrorReported)]
    assert _text(alice.document) == _text(session.document) == _text(bob.document)


def test_what_changed_while_out_follows_a_put_back_whose_model_became_held_before_it_went() -> None:
    # Alice's new card leaves the document (her change) while the patch defining it is
    # unanswered, changes while out, and goes back: the put-back defined the card when it
    # was made. The answer makes the server hold the card before the removal and the
    # put-back go: they go together, the card as a reference (a definition would be
    # refused: the server holds it until the removal is applied), and what changed while
    # it was out follows. What changed on it while out is noted, though the server did not
    # hold it as it left: unnoted, the change made while out was not sent, and alice's card
    # differed from everyone else's.
    session = Session()
    alice, bob = session.connect("alice"), session.connect("bob")
    alice.document.add_root(Card(id="alice-card", text="new"))
    alice.flush()
    (first,) = alice.messages_to_send()
    outcome = session.sequencer.handle_patch("alice", 0, _wire(first))
    card = alice.document.get_model_by_id("alice-card")
    alice.document.remove_root(card)
    card.text = "written while out"  # no event: the card is in no document
    _pile(alice, "left").cards.append(card)
    alice.receive_message(_wire(outcome.answer))  # the server holds the card now
    assert outcome.changes is not None
    for message in outcome.changes.messages_for("bob"):
        bob.receive_message(_wire(message))
    alice.flush()
    (patch,) = alice.messages_to_send()
    assert patch.content["references"] == []
    assert [e["kind"] for e in patch.content["events"]] == ["RootRemoved", "ListSpliced", "ModelChanged"]
    outcome = session.sequencer.handle_patch("alice", 0, _wire(patch))
    assert outcome.answer.msgtype == OK and outcome.answer.content["rejected"] == 0, outcome.answer.content
    alice.receive_message(_wire(outcome.answer))
    assert outcome.changes is not None
    for message in outcome.changes.messages_for("bob"):
        bob.receive_message(_wire(message))
    assert _cards(session.document, "left") == ["card-0", "card-1", "card-2", "alice-card"]
    assert session.document.get_model_by_id("alice-card").text == "written while out"  # type: ignore[union-attr]
    assert _text(alice.document) == _text(session.document) == _text(bob.document)
    assert not _troubles(alice) and not _troubles(bob)


def test_a_put_back_of_a_root_another_client_removed_meanwhile_refers_to_it() -> None:
    # Found by the convergence workload with move draws (seed 5027): alice took a root of
    # the server's out; bob's removal of it reached her before she put it back. The removal
    # made her forget the server held it, and her put-back defined it, though it was never
    # hers: the server refused the whole patch (the id reserved for the application's
    # model, or a name a client may not give), her other changes with it. It refers to it
    # now: the put-back loses (the model left in a change she had not seen) and she is reset.
    session = Session()
    alice, bob = session.connect("alice"), session.connect("bob")
    right = _pile(alice, "right")
    alice.document.remove_root(right)  # queued: not sent yet
    bobs = _pile(bob, "right")
    bob.document.remove_root(bobs)  # bob moves it (to the end of the roots)...
    bob.document.add_root(bobs)
    assert session.send("bob") == 1
    bob.document.remove_root(bobs)  # ...then removes it
    assert session.send("bob") == 1  # alice receives both: "right" anew, then its removal
    assert alice.document.get_model_by_id("right") is None
    alice.document.add_root(right)  # and puts her own "right" back
    _pile(alice, "left").cards[0].text = "alice's"
    session.resets_expected = True
    session.settle()
    assert ERROR not in [m.msgtype for m in session.answers["alice"]], session.answers["alice"][-1].content
    assert session.document.get_model_by_id("right") is None  # bob's removal won
    assert _text(alice.document) == _text(session.document) == _text(bob.document)


def test_a_put_back_of_a_model_the_server_detached_that_was_never_taken_out_refers_to_it() -> None:
    # Found by the convergence workload with child moves (seed 3875583031): a client took
    # an item out of one of two places its document held it in (its splices of the other
    # list skipped until that list's correction), so the item never left its document and
    # it noted nothing; another client's removal then detached it. The client's put-back
    # defined it, though it was never its own: the server refused the whole patch (a name
    # a client may not give; here the application's id), its other changes with it. It
    # refers to it now: the put-back loses (the model left in a change it had not seen).
    session = Session()
    alice, bob = session.connect("alice"), session.connect("bob")
    card = _pile(alice, "left").cards[1]  # alice's application holds it, as a page may
    bobs = _pile(bob, "left")
    bobs.cards.remove(bobs.cards[1])  # bob takes card-1 out (the server lets it go)
    assert session.send("bob") == 1
    assert alice.document.get_model_by_id("card-1") is None
    _pile(alice, "right").cards.append(card)  # alice puts it back
    _pile(alice, "left").cards[0].text = "alice's"
    session.settle()
    assert ERROR not in [m.msgtype for m in session.answers["alice"]], session.answers["alice"][-1].content
    assert session.document.get_model_by_id("card-1") is None  # bob's removal won
    assert session.document.get_model_by_id("card-0").text == "alice's"  # type: ignore[union-attr]
    assert _text(alice.document) == _text(session.document) == _text(bob.document)


def _moves_at_once(destinations: dict[str, str]) -> Session:
    """Each client of ``destinations`` moves card-0 from "left" to the end of its pile, on the same base."""
    session = Session()
    session.document.add_root(Pile(id="third"))
    clients = {name: session.connect(name) for name in destinations}
    patches = {}
    for name, pile in destinations.items():
        left = _pile(clients[name], "left")
        card = left.cards[0]
        left.cards.remove(card)
        _pile(clients[name], pile).cards.append(card)
        clients[name].flush()
        (patches[name],) = clients[name].messages_to_send()
    session.resets_expected = True
    for name, patch in patches.items():  # each sent before the other's changes arrive
        outcome = session.sequencer.handle_patch(name, 0, _wire(patch))
        clients[name].receive_message(_wire(outcome.answer))
        assert outcome.answer.msgtype == OK, outcome.answer.content
        if outcome.changes is not None:
            for other, client in clients.items():
                for message in outcome.changes.messages_for(other):
                    client.receive_message(_wire(message))
        if outcome.reset is not None:
            clients[name].receive_message(_wire(outcome.reset))
    session.settle()
    return session


def test_two_clients_moving_a_card_into_the_same_list_at_once_leave_it_there_once() -> None:
    # Bob's removal of card-0 lost to alice's (both took it out of "left"), but his
    # insertion, a reference to a card the server held (alice had just put it in
    # "right"), was taken: "right" held card-0 twice.
    session = _moves_at_once({"alice": "right", "bob": "right"})
    assert _cards(session.document, "right") == ["card-0"]
    assert _cards(session.document, "left") == ["card-1", "card-2"]
    alice, bob = session.clients["alice"], session.clients["bob"]
    assert _text(alice.document) == _text(session.document) == _text(bob.document)


def test_two_clients_moving_a_card_into_two_lists_at_once_leave_it_in_one() -> None:
    # As above, bob's insertion into "third" was taken: card-0 was in "right" and "third".
    session = _moves_at_once({"alice": "right", "bob": "third"})
    assert _cards(session.document, "right") == ["card-0"]
    assert _cards(session.document, "third") == []
    alice, bob = session.clients["alice"], session.clients["bob"]
    assert _text(alice.document) == _text(session.document) == _text(bob.document)


def test_a_splice_made_before_another_client_moved_its_list_loses() -> None:
    # Alice moves the pile "left" to the end of the shelf (a splice taking it out, one
    # putting it back); bob, not having seen it, removes a card of "left". Bob dropped the
    # pile when alice's move took it out and took the one its definition gave, without
    # his removal; the server took his splice (splices are shifted past splices, and the
    # move's departure, a splice too, was passed over): bob's document and the server's differed.
    session = Session()
    for pile in session.piles:
        session.document.remove_root(pile)
    session.document.add_root(Shelf(id="shelf", piles=session.piles))
    session.sequencer.flush()
    session.sequencer.restart()
    alice, bob = session.connect("alice"), session.connect("bob")
    _pile(bob, "left").cards.pop(0)
    bob.flush()
    (patch,) = bob.messages_to_send()
    shelf = _pile(alice, "shelf")
    left = shelf.piles[0]
    shelf.piles.remove(left)
    shelf.piles.append(left)
    assert session.send("alice") == 1
    session.resets_expected = True
    outcome = session.sequencer.handle_patch("bob", 0, _wire(patch))
    bob.receive_message(_wire(outcome.answer))
    assert outcome.answer.content["rejected"] == 1
    assert outcome.changes is not None
    for message in outcome.changes.messages_for("bob"):
        bob.receive_message(_wire(message))
    if outcome.reset is not None:
        bob.receive_message(_wire(outcome.reset))
    session.settle()
    assert _cards(session.document, "left") == ["card-0", "card-1", "card-2"]
    assert _text(alice.document) == _text(session.document) == _text(bob.document)


def _rack_session(sources: int, rows: int) -> tuple[Session, ClientProtocol, Rack, list[ColumnDataSource]]:
    """A session whose document holds a rack of data sources, and alice on it; the application's sources."""
    session = Session()
    held = [ColumnDataSource(id=f"source-{i}", data={"x": np.arange(rows, dtype=np.float64)}) for i in range(sources)]
    session.document.add_root(Rack(id="rack", sources=list(held)))
    alice = session.connect("alice")
    return session, alice, alice.document.get_model_by_id("rack"), held  # type: ignore[return-value]


def test_data_sources_taken_out_leave_nothing_of_their_columns_behind() -> None:
    # A page swapping out big data sources (each removed, a new one put in its place):
    # the outbox copied each model's values as it left (up to 1,024 models), so that what
    # changed while it was out could follow a put-back, and kept the columns alive: here
    # 16 sources of 1 MB, 16 MB kept after the page had let go of them. Only the names of
    # what changes while out are noted now, on the model itself: nothing is kept.
    session, alice, rack, _ = _rack_session(sources=16, rows=1 << 17)
    columns = [weakref.ref(source.data["x"]) for source in rack.sources]
    assert sum(column().nbytes for column in columns) == 16 << 20  # type: ignore[union-attr]
    for _ in range(len(columns)):
        del rack.sources[0]  # taken out, one change each
    assert session.send("alice") >= 1
    assert all(m.msgtype == OK for m in session.answers["alice"])
    gc.collect()
    kept = sum(column().nbytes for column in columns if column() is not None)  # type: ignore[union-attr]
    assert kept == 0, f"{kept} bytes of the sources taken out still alive"
    assert _text(alice.document) == _text(session.document)


def test_a_column_patched_in_place_while_out_follows_the_put_back() -> None:
    # A cell patch writes a column made by an earlier patch in place: the copy of the values
    # kept as the source left shared that column (a shallow copy of the data), saw nothing
    # changed when the source went back, and the cell written while out was never sent:
    # alice's source differed from the server's.
    session, alice, rack, held = _rack_session(sources=2, rows=8)
    source = rack.sources[0]
    source.patch({"x": [(0, 10.0)]})  # in the document: sent; the column is now one a patch made
    session.settle()
    rack.sources.remove(source)
    session.send("alice")
    source.patch({"x": [(1, 11.0)]})  # out: written in place, no event
    rack.sources.append(source)
    session.settle()
    assert all(m.msgtype == OK for m in session.answers["alice"])
    assert held[0].data["x"].tolist()[:2] == [10.0, 11.0]
    assert session.document.get_model_by_id("source-0") is held[0]
    assert _text(alice.document) == _text(session.document)
    assert not _troubles(alice)


def test_a_model_defined_anew_while_its_former_self_is_out_notes_what_changes_when_it_leaves() -> None:
    # The outbox remembers card-0 as taken out; a server's patch (another client's move)
    # defines it anew, another object of that id, which this client takes out in turn and
    # changes while out: what changed follows its put-back, though the id was remembered.
    document = Document()
    pile = Pile(id="left", cards=[Card(id="card-0", text="a")])
    document.add_root(pile)
    outbox = Outbox()
    outbox.held(document.models)
    local = [True]  # (a server's patch is applied, not queued)
    document.on_change(
        lambda event: local[0] and outbox.add(event, base=1, attached=document.models, departed=document.departed_model)
    )
    pile.cards.pop()  # the first object out
    local[0] = False
    anew = Card(id="card-0", text="b")
    pile.cards.append(anew)  # the server's move, defining it anew
    local[0] = True
    pile.cards.pop()
    anew.text = "written while out"
    pile.cards.append(anew)
    events = []
    for batch in iter(outbox.take, None):
        events += batch.content["events"]
    assert events[-1] == {"kind": "ModelChanged", "model": {"id": "card-0"}, "attr": "text", "new": "written while out"}


def test_a_splice_after_an_insertion_left_out_loses_with_it() -> None:
    # Found by the convergence workload with child moves (seed 5003): alice moved card-0
    # into "right" and out again, in one patch, while bob took it out; her insertion
    # named a model gone, and was left out, but her removal of it from "right" was
    # applied at the index that counted it: "splice at 0 deleting 1 out of range", the
    # whole patch refused (ERROR) and her other changes with it.
    session = Session()
    alice, bob = session.connect("alice"), session.connect("bob")
    left, right = _pile(alice, "left"), _pile(alice, "right")
    card = left.cards[0]
    left.cards.remove(card)
    right.cards.insert(0, card)
    right.cards.pop(0)
    _pile(alice, "left").cards[0].text = "alice's"  # (card-1: kept)
    alice.flush()
    (patch,) = alice.messages_to_send()
    theirs = _pile(bob, "left")
    theirs.cards.remove(theirs.cards[0])  # bob takes card-0 out, before alice's patch arrives
    assert session.send("bob") == 1
    session.resets_expected = True
    outcome = session.sequencer.handle_patch("alice", 0, _wire(patch))
    assert outcome.answer.msgtype == OK, outcome.answer.content
    assert outcome.answer.content["rejected"] == 3
    assert session.cards[1].text == "alice's"
    alice.receive_message(_wire(outcome.answer))
    assert outcome.changes is not None
    for name, client in session.clients.items():
        for message in outcome.changes.messages_for(name):
            client.receive_message(_wire(message))
    if outcome.reset is not None:
        alice.receive_message(_wire(outcome.reset))
    session.settle()
    assert _cards(session.document, "right") == []
    assert _text(alice.document) == _text(session.document) == _text(bob.document)


def test_a_move_whose_removal_lost_does_not_leave_its_model_in_two_places() -> None:
    # Found by the convergence workload with child moves (seed 5031): alice moved the
    # root "right" into the shelf; bob changed the roots first, so her RootRemoved lost,
    # but her insertion (a reference to a model the server holds) was taken: "right" was
    # a root and on the shelf, and a later move of it by another client put it on the
    # shelf twice.
    session = Session()
    session.document.add_root(Shelf(id="shelf"))
    session.sequencer.flush()
    alice, bob = session.connect("alice"), session.connect("bob")
    right = _pile(alice, "right")
    alice.document.remove_root(right)
    _pile(alice, "shelf").piles.append(right)
    alice.flush()
    (patch,) = alice.messages_to_send()
    bob.document.add_root(Pile(id="bob-pile"))  # the roots change before alice's patch arrives
    assert session.send("bob") == 1
    session.resets_expected = True
    outcome = session.sequencer.handle_patch("alice", 0, _wire(patch))
    assert outcome.answer.msgtype == OK, outcome.answer.content
    assert outcome.answer.content["rejected"] == 2
    assert [r.id for r in session.document.roots] == ["left", "right", "shelf", "bob-pile"]
    assert _pile_ids(session.document, "shelf") == []
    alice.receive_message(_wire(outcome.answer))
    if outcome.changes is not None:
        for name, client in session.clients.items():
            for message in outcome.changes.messages_for(name):
                client.receive_message(_wire(message))
    assert outcome.reset is not None  # a root change lost: alice is reset
    alice.receive_message(_wire(outcome.reset))
    session.settle()
    assert _text(alice.document) == _text(session.document) == _text(bob.document)


def test_a_move_whose_removal_lost_to_a_whole_value_does_not_leave_its_model_in_two_places() -> None:
    # Found by the convergence workload with child moves (seed 917677733): alice moved the
    # last card of "left" to "right"; bob had set "left" anew without its first card, so
    # her removal lost to his whole value, and the server read what it was to take out at
    # its index as sent (2), past the end of the list now: her insertion (a reference to
    # a card the server holds) was taken, the card in both piles.
    session = Session()
    alice, bob = session.connect("alice"), session.connect("bob")
    left, right = _pile(alice, "left"), _pile(alice, "right")
    card = left.cards[2]
    left.cards.remove(card)
    right.cards.append(card)
    alice.flush()
    (patch,) = alice.messages_to_send()
    theirs = _pile(bob, "left")
    theirs.cards = theirs.cards[1:]  # before alice's patch arrives
    assert session.send("bob") == 1
    outcome = session.sequencer.handle_patch("alice", 0, _wire(patch))
    assert outcome.answer.msgtype == OK, outcome.answer.content
    assert outcome.answer.content["rejected"] == 2
    assert _cards(session.document, "left") == ["card-1", "card-2"]
    assert _cards(session.document, "right") == []
    alice.receive_message(_wire(outcome.answer))
    assert outcome.changes is not None
    for name, client in session.clients.items():
        for message in outcome.changes.messages_for(name):
            client.receive_message(_wire(message))
    assert outcome.reset is None
    session.settle()
    assert _text(alice.document) == _text(session.document) == _text(bob.document)


def _pile_ids(document: Document, shelf: str) -> list[str]:
    return [pile.id for pile in document.get_model_by_id(shelf).piles]  # type: ignore[union-attr]


def _put_back_superseded(between: str | None) -> tuple[Session, ClientProtocol, ClientProtocol]:
    """Alice's new card taken out, changed while unanswered, put back by a whole value set twice."""
    session = Session()
    alice, bob = session.connect("alice"), session.connect("bob")
    alice.document.add_root(Card(id="alice-card", text="new"))
    alice.flush()
    (first,) = alice.messages_to_send()
    outcome = session.sequencer.handle_patch("alice", 0, _wire(first))
    card = alice.document.get_model_by_id("alice-card")
    card.text = "before it left"  # (queued, before the removal)
    alice.document.remove_root(card)
    card.text = "written while out"  # no event: the card is in no document
    pile = _pile(alice, "left")
    pile.cards = [*pile.cards, card]  # the put-back defines the card (the server does not hold it yet)
    if between is not None:
        card.text = between  # (an event: the card is back)
    pile.cards = [card, *pile.cards[:-1]]  # a new whole value: the put-back is superseded (carried)
    alice.receive_message(_wire(outcome.answer))  # the server holds the card now
    assert outcome.changes is not None
    for message in outcome.changes.messages_for("bob"):
        bob.receive_message(_wire(message))
    session.settle()
    return session, alice, bob


def test_what_changed_while_out_follows_a_superseded_put_back_whose_model_became_held() -> None:
    # The put-back kept what changed while the card was out, to send should the server
    # come to hold the card before it went; once superseded by a new value of the list
    # (its definition carried), that was dropped with the definition: the server kept
    # "before it left", alice "written while out".
    session, alice, bob = _put_back_superseded(None)
    assert ERROR not in [m.msgtype for m in session.answers["alice"]], session.answers["alice"][-1].content
    assert _cards(session.document, "left") == ["alice-card", "card-0", "card-1", "card-2"]
    assert session.document.get_model_by_id("alice-card").text == "written while out"  # type: ignore[union-attr]
    assert _text(alice.document) == _text(session.document) == _text(bob.document)
    assert not _troubles(alice) and not _troubles(bob)


def test_what_changed_while_out_goes_where_the_superseded_put_back_was() -> None:
    # What changed while out goes where the put-back was: after what changed before the
    # card left, before what changed once it was back.
    session, alice, bob = _put_back_superseded("written once back")
    assert ERROR not in [m.msgtype for m in session.answers["alice"]], session.answers["alice"][-1].content
    assert session.document.get_model_by_id("alice-card").text == "written once back"  # type: ignore[union-attr]
    assert _text(alice.document) == _text(session.document) == _text(bob.document)
    assert not _troubles(alice) and not _troubles(bob)


def test_a_change_unanswered_follows_its_model_defined_anew_while_taken_out() -> None:
    # Found by the convergence workload with child moves (seeds 31, 101): alice changed a
    # card (unanswered) and took it out; a correction of the pile (bob's splice lost to
    # carol's reorder) defined the card anew, with the server's text, which did not have
    # alice's change yet. Alice took that card; the server then applied her change: her
    # card's text differed from everyone else's for good.
    session = Session()
    alice, bob, carol = session.connect("alice"), session.connect("bob"), session.connect("carol")
    _pile(bob, "left").cards.pop(2)
    bob.flush()
    (losing,) = bob.messages_to_send()
    theirs = _pile(carol, "left")
    theirs.cards = [theirs.cards[1], theirs.cards[0], theirs.cards[2]]
    assert session.send("carol") == 1
    left = _pile(alice, "left")
    card = left.cards[0]
    card.text = "alice's"  # in flight
    alice.flush()
    (change,) = alice.messages_to_send()
    left.cards.remove(card)  # taken out: waiting
    for name, patch in (("bob", losing), ("alice", change)):
        outcome = session.sequencer.handle_patch(name, 0, _wire(patch))
        session.clients[name].receive_message(_wire(outcome.answer))
        for other, client in session.clients.items():
            for message in outcome.changes.messages_for(other) if outcome.changes is not None else []:
                client.receive_message(_wire(message))
    assert alice.document.get_model_by_id(card.id).text == "alice's"  # type: ignore[union-attr]
    session.resets_expected = True
    session.settle()
    assert session.document.get_model_by_id(card.id).text == "alice's"  # type: ignore[union-attr]
    assert _text(alice.document) == _text(session.document) == _text(bob.document) == _text(carol.document)


def test_a_model_a_position_defines_twice_is_defined_once() -> None:
    # Found by the convergence workload with child moves (seed 5133): alice put her new
    # card in a pile and removed another card bob had just removed: her removal lost, and
    # its correction (the pile's whole value, defining every card it holds) went in the
    # same position as her insertion, which defined her card too. The PATCH-DOC defined it
    # twice: bob and carol refused it ("duplicate model id") and pulled the document again.
    session = Session()
    alice, bob, carol = session.connect("alice"), session.connect("bob"), session.connect("carol")
    left = _pile(alice, "left")
    left.cards.append(Card(id="alice-card", text="new"))
    left.cards[-1].text = "changed"
    left.cards.pop(0)
    alice.flush()
    (patch,) = alice.messages_to_send()
    _pile(bob, "left").cards.pop(0)
    assert session.send("bob") == 1
    outcome = session.sequencer.handle_patch("alice", 0, _wire(patch))
    assert outcome.answer.content["rejected"] == 1
    alice.receive_message(_wire(outcome.answer))
    assert outcome.changes is not None
    for name, client in session.clients.items():
        for message in outcome.changes.messages_for(name):
            ids = [r["id"] for r in message.content["references"]]
            assert len(ids) == len(set(ids)), ids
            client.receive_message(_wire(message))
    assert not _troubles(bob) and not _troubles(carol)
    assert _text(alice.document) == _text(session.document) == _text(bob.document) == _text(carol.document)


def _resume(session: Session, name: str) -> None:
    """Client ``name`` (offline) connects again and resumes: the reply answers its patch in flight."""
    client = session.clients[name]
    client.connection_made()
    client.receive_message(_wire(new_message(ACK)))
    (request,) = client.messages_to_send()
    client.receive_message(_wire(session.sequencer.resume(name, _wire(request), created_session=False).reply))


def test_a_put_back_lost_to_the_servers_value_after_a_resume_leaves_its_model_held() -> None:
    # Found by the convergence workload with child moves (seed 5201): alice's new card left
    # the roots and went into a pile while the patch defining it was unanswered (across a
    # drop): the put-back defined it. The resume's reply answered that patch (the server
    # holds the card) before the value of the pile bob set meanwhile, which superseded the
    # put-back (its definition carried) and took the card out of alice's pile, where only her
    # put-back had put it: she forgot the server held the card, and her next patch (the
    # removal from the roots) carried its definition. The server, holding the card as a
    # root, refused the whole patch ("duplicate model id") and alice pulled again.
    session = Session()
    alice, bob = session.connect("alice"), session.connect("bob")
    alice.document.add_root(Card(id="alice-card", text="new"))
    alice.flush()
    (first,) = alice.messages_to_send()
    outcome = session.sequencer.handle_patch("alice", 0, _wire(first))
    assert outcome.answer.msgtype == OK and outcome.changes is not None
    for message in outcome.changes.messages_for("bob"):
        bob.receive_message(_wire(message))
    alice.connection_lost()  # the OK is lost with the connection
    del session.clients["alice"]  # (offline: bob's value is replayed to her on resume)
    card = alice.document.get_model_by_id("alice-card")
    alice.document.remove_root(card)  # queued: the card is alice's own, not held yet as she knows
    _pile(alice, "left").cards.append(card)  # the put-back defines it
    bobs = _pile(bob, "left")
    bobs.cards = [bobs.cards[1]]  # a whole value: it wins over alice's splice
    assert session.send("bob") == 1
    session.clients["alice"] = alice
    _resume(session, "alice")
    session.settle()
    assert ERROR not in [m.msgtype for m in session.answers["alice"]], session.answers["alice"][-1].content
    assert _cards(session.document, "left") == ["card-1"]  # bob's value won
    assert session.document.get_model_by_id("alice-card") is None  # alice's removal went
    assert _text(alice.document) == _text(session.document) == _text(bob.document)
    assert not [e for e in _troubles(alice) if isinstance(e, ErrorReported)]


def test_a_model_a_position_defines_twice_is_defined_once_in_a_resume_replay() -> None:
    # Found over the real server with child moves (seed 2110444279): the position of
    # test_a_model_a_position_defines_twice_is_defined_once, replayed to a client resuming
    # from before it, defined the card twice (the replay gathered every event's
    # definitions; the PATCH-DOC keeps the first). Carol refused the replayed patch
    # ("duplicate model id") and pulled the document again; that pull lost to a
    # reconnect, she resumed, and kept a root she had taken out offline (its change
    # reported lost) for good.
    session = Session()
    alice, bob, carol = session.connect("alice"), session.connect("bob"), session.connect("carol")
    last_seq = carol.last_seq
    carol.connection_lost()
    del session.clients["carol"]  # (offline: the position is replayed to her on resume)
    left = _pile(alice, "left")
    left.cards.append(Card(id="alice-card", text="new"))
    left.cards[-1].text = "changed"
    left.cards.pop(0)
    alice.flush()
    (patch,) = alice.messages_to_send()
    _pile(bob, "left").cards.pop(0)
    assert session.send("bob") == 1
    outcome = session.sequencer.handle_patch("alice", 0, _wire(patch))
    assert outcome.answer.content["rejected"] == 1
    alice.receive_message(_wire(outcome.answer))
    assert outcome.changes is not None
    for message in outcome.changes.messages_for("bob"):
        bob.receive_message(_wire(message))
    carol.connection_made()
    carol.receive_message(_wire(new_message(ACK)))
    (request,) = carol.messages_to_send()
    assert request.content["last_seq"] == last_seq
    reply = session.sequencer.resume("carol", _wire(request), created_session=False).reply
    assert reply.content["mode"] == "replay"
    for replayed in reply.content["patches"]:
        ids = [r["id"] for r in replayed["references"]]
        assert len(ids) == len(set(ids)), ids
    carol.receive_message(_wire(reply))
    assert carol.messages_to_send() == []  # (no pull: she read every replayed patch)
    assert not _troubles(bob) and not _troubles(carol)
    assert _text(alice.document) == _text(session.document) == _text(bob.document) == _text(carol.document)


def _move_waiting_while_bob_sets_the_list(bob_left: list[str]) -> tuple[Session, ClientProtocol, ClientProtocol]:
    """Alice moves card-0 from left to right while a patch of hers is in flight; bob sets left first."""
    session = Session()
    alice, bob = session.connect("alice"), session.connect("bob")
    alice.document.get_model_by_id("card-1").text = "first"  # type: ignore[union-attr]
    alice.flush()
    (first,) = alice.messages_to_send()  # in flight: the move waits
    left, right = _pile(alice, "left"), _pile(alice, "right")
    card = left.cards[0]
    left.cards.remove(card)
    right.cards.append(card)
    bob_pile = _pile(bob, "left")
    bob_pile.cards = [bob.document.get_model_by_id(i) for i in bob_left]
    assert session.send("bob") == 1  # alice receives left's value: her removal waiting is superseded
    outcome = session.sequencer.handle_patch("alice", 0, _wire(first))
    alice.receive_message(_wire(outcome.answer))
    assert outcome.changes is not None
    for message in outcome.changes.messages_for("bob"):
        bob.receive_message(_wire(message))
    session.settle()
    return session, alice, bob


def test_a_move_whose_waiting_removal_the_servers_value_superseded_does_not_leave_its_model_in_two_places() -> None:
    # Found by the convergence workload with child moves (seed 6633, in memory): a client
    # moved an item from one layout to another while a patch of hers was in flight; the
    # server's value of the first layout (another client's reorder) dropped her waiting
    # removal (it would lose), and her insertion went alone: the server took it, the item
    # was in both layouts, for everyone. The removal now goes, to lose, with the
    # insertion, which loses with it (§13 rule 7) and is corrected.
    session, alice, bob = _move_waiting_while_bob_sets_the_list(["card-0", "card-1"])
    assert [m.msgtype for m in session.answers["alice"]] == [OK]  # (the move's patch)
    assert session.answers["alice"][0].content["rejected"] == 2
    assert _cards(session.document, "left") == ["card-0", "card-1"]
    assert _cards(session.document, "right") == []
    assert _text(alice.document) == _text(session.document) == _text(bob.document)


def test_a_model_attached_taken_out_and_put_back_is_defined_as_it_was_attached() -> None:
    # Found by the convergence workload with child moves (seed 3591, in memory): offline, a
    # client added a new item (defined as it was then), deleted a key of it, took it out
    # and put it back into a layout (defined again, as it was then); the server's value of
    # the layout superseded the put-back (its definition carried), and the carried
    # definition went first in the patch of the item's first attachment: the server read
    # the item without the key and refused the whole patch ("no key").
    session = Session()
    session.document.add_root(Shelf(id="shelf"))
    session.sequencer.flush()
    alice, bob = session.connect("alice"), session.connect("bob")
    alice.document.get_model_by_id("card-0").text = "first"  # type: ignore[union-attr]
    alice.flush()
    (first,) = alice.messages_to_send()  # in flight: what follows waits
    pile = Pile(id="alice-pile", cards=[Card(id="alice-card", text="new")])
    alice.document.add_root(pile)  # defines the pile with its card
    pile.cards.pop(0)
    alice.document.remove_root(pile)
    _pile(alice, "shelf").piles.append(pile)  # defines the pile again: no card
    _pile(bob, "shelf").piles = [Pile(id="bob-pile")]
    assert session.send("bob") == 1  # alice receives the shelf's value: her put-back is superseded
    outcome = session.sequencer.handle_patch("alice", 0, _wire(first))
    alice.receive_message(_wire(outcome.answer))
    assert outcome.changes is not None
    for message in outcome.changes.messages_for("bob"):
        bob.receive_message(_wire(message))
    session.settle()
    assert [m.msgtype for m in session.answers["alice"]] == [OK], session.answers["alice"][-1].content
    assert session.document.get_model_by_id("alice-pile") is None
    assert _pile_ids(session.document, "shelf") == ["bob-pile"]
    assert _text(alice.document) == _text(session.document) == _text(bob.document)


def test_a_model_a_superseded_change_attached_is_defined_as_it_was_then_in_the_patch_of_the_later_changes() -> None:
    # Found by the convergence workload with child moves (seed 5700000727, in memory): a
    # client attached a new note (defined with its tag), deleted the tag, set the board's
    # notes whole (superseding the attachment: its definition carried), moved the note to
    # the roots (defined again: no tag) and set the notes whole again. A change of an older
    # base waited before them: the carried definition went in its patch, which attaches
    # nothing; the patch of the later changes defined the note by the root's addition only,
    # and the server refused it ("splice at 0 deleting 1 out of range"). The carried
    # definition now goes with them, and is the one: it was made before the tag's deletion.
    session = Session()
    session.document.add_root(Board(id="board", notes=[Note(id="note-a"), Note(id="note-b")]))
    session.sequencer.flush()
    alice, bob = session.connect("alice"), session.connect("bob")
    alice.document.get_model_by_id("card-0").text = "first"  # type: ignore[union-attr]
    alice.flush()
    (first,) = alice.messages_to_send()  # in flight: what follows waits
    alice.document.get_model_by_id("card-1").text = "older"  # type: ignore[union-attr]  # waits, of base 1
    bob.document.get_model_by_id("card-2").text = "bob's"  # type: ignore[union-attr]
    assert session.send("bob") == 1  # alice applies it: her next changes are of base 2
    board = alice.document.get_model_by_id("board")
    mine = Note(id="alice-note", tags=["mine"])
    board.notes.append(mine)  # type: ignore[union-attr]  # defines it with its tag
    mine.tags.pop(0)
    board.notes = [mine, *reversed(board.notes[:-1])]  # type: ignore[union-attr]  # supersedes the attachment
    board.notes.remove(mine)  # type: ignore[union-attr]
    alice.document.add_root(mine)  # defines it again: no tag
    board.notes = list(reversed(board.notes))  # type: ignore[union-attr]  # supersedes the removal
    outcome = session.sequencer.handle_patch("alice", 0, _wire(first))
    alice.receive_message(_wire(outcome.answer))
    assert outcome.changes is not None
    for message in outcome.changes.messages_for("bob"):
        bob.receive_message(_wire(message))
    sent = []
    for _ in range(2):  # the older change's patch, then the later ones'
        alice.flush()
        (patch,) = alice.messages_to_send()
        outcome = session.sequencer.handle_patch("alice", 0, _wire(patch))
        assert outcome.answer.msgtype == OK, outcome.answer.content
        alice.receive_message(_wire(outcome.answer))
        assert outcome.changes is not None
        for message in outcome.changes.messages_for("bob"):
            bob.receive_message(_wire(message))
        sent.append(patch.content)
    assert sent[0]["references"] == []  # (it attaches nothing)
    (definition,) = [d for d in sent[1]["references"] if d["id"] == "alice-note"]
    assert definition["attributes"]["tags"] == ["mine"]  # as the tag's deletion found it
    session.settle()
    assert session.document.get_model_by_id("alice-note").tags == []  # type: ignore[union-attr]
    assert [root.id for root in session.document.roots][-1] == "alice-note"
    assert _text(alice.document) == _text(session.document) == _text(bob.document)
    assert not _troubles(alice) and not _troubles(bob)


def test_a_change_before_a_correction_defining_its_model_is_not_applied_twice() -> None:
    # Found over the real server with child moves (seed 3422791825, 6 of 16 replays): a
    # position held bob's splice of a note's tags and then the correction of the board
    # his lost whole value of its notes caused, defining the note as the position left it
    # (the splice in it). Alice had taken the note out of the board (unanswered), so she
    # did not hold it: she made it anew from that definition, then applied the splice to
    # it again, and kept the tag twice (the server, and bob, once).
    session = Session()
    session.document.add_root(Board(id="board", notes=[Note(id="note", tags=["a", "b"])]))
    session.sequencer.flush()
    alice, bob, carol = session.connect("alice"), session.connect("bob"), session.connect("carol")
    mine = alice.document.get_model_by_id("board")
    mine.notes.remove(mine.notes[0])  # type: ignore[union-attr]
    alice.flush()
    (removal,) = alice.messages_to_send()  # in flight
    del session.clients["alice"]  # (she hears of the others' patches below, in the server's order)
    carols = carol.document.get_model_by_id("board")
    carols.notes.append(Note(id="carol-note"))  # type: ignore[union-attr]
    bobs = bob.document.get_model_by_id("board")
    bobs.notes[0].tags.append("c")  # type: ignore[union-attr]
    bobs.notes = []  # type: ignore[union-attr]  # a whole value: it loses to carol's splice, corrected
    broadcast = []
    for name in ("carol", "bob"):
        session.clients[name].flush()
        (patch,) = session.clients[name].messages_to_send()
        outcome = session.sequencer.handle_patch(name, 0, _wire(patch))
        session.clients[name].receive_message(_wire(outcome.answer))
        assert outcome.changes is not None
        for other, client in session.clients.items():
            for message in outcome.changes.messages_for(other):
                client.receive_message(_wire(message))
        broadcast += outcome.changes.messages_for("alice")
    kinds = [e["kind"] for e in broadcast[-1].content["events"]]
    assert kinds == ["ListSpliced", "ModelChanged"]  # the splice, then the correction defining the note
    assert "note" in [r["id"] for r in broadcast[-1].content["references"]]
    for message in broadcast:
        alice.receive_message(_wire(message))
    assert alice.document.get_model_by_id("note").tags == ["a", "b", "c"]  # type: ignore[union-attr]
    session.clients["alice"] = alice
    outcome = session.sequencer.handle_patch("alice", 0, _wire(removal))
    alice.receive_message(_wire(outcome.answer))
    session.settle()
    assert _text(alice.document) == _text(session.document) == _text(bob.document) == _text(carol.document)


def test_a_root_of_its_own_put_back_in_a_later_patch_is_defined_again() -> None:
    # Alice's own root (she defined it, the server took it) taken out by her and put back,
    # changed while out, in a later patch: nothing on the server holds it any more, and a
    # reference named nothing and lost (the convergence workload with moves: its resets).
    # She defines it again now, and the server takes the definition.
    session = Session()
    alice, bob = session.connect("alice"), session.connect("bob")
    mine = Card(id="alice-card", text="mine")
    alice.document.add_root(mine)
    session.settle()
    alice.document.remove_root(mine)
    session.settle()
    gc.collect()  # (nothing on the server holds it: the application never did)
    assert session.document.get_model_by_id("alice-card") is None
    mine.text = "changed while out"
    alice.document.add_root(mine)
    session.settle()
    assert [m.msgtype for m in session.answers["alice"]] == [OK, OK, OK], session.answers["alice"][-1].content
    assert [m.content.get("rejected", 0) for m in session.answers["alice"]] == [0, 0, 0]
    held = session.document.get_model_by_id("alice-card")
    assert held is not None and held.text == "changed while out"  # type: ignore[attr-defined]
    assert _text(alice.document) == _text(session.document) == _text(bob.document)
    assert not _troubles(alice) and not _troubles(bob)
    # Held again, it moves as the server's: taken out and put back in one patch, referred to.
    alice.document.remove_root(mine)
    alice.document.add_root(mine)
    session.settle()
    assert session.answers["alice"][-1].content.get("rejected", 0) == 0
    assert _text(alice.document) == _text(session.document) == _text(bob.document)


def test_a_definition_of_its_own_model_the_application_still_holds_puts_that_one_back() -> None:
    # The application keeps Alice's card after she took it out: her definition is read as
    # the reference (the definition ignored), what she changed while out following it.
    session = Session()
    alice, bob = session.connect("alice"), session.connect("bob")
    mine = Card(id="alice-card", text="mine")
    alice.document.add_root(mine)
    session.settle()
    kept = session.document.get_model_by_id("alice-card")  # (the application holds it)
    alice.document.remove_root(mine)
    session.settle()
    mine.text = "changed while out"
    alice.document.add_root(mine)
    session.settle()
    assert [m.content.get("rejected", 0) for m in session.answers["alice"]] == [0, 0, 0], session.answers["alice"]
    assert session.document.get_model_by_id("alice-card") is kept
    assert kept.text == "changed while out"  # type: ignore[union-attr]
    assert _text(alice.document) == _text(session.document) == _text(bob.document)
    assert not _troubles(alice) and not _troubles(bob)


def test_a_put_back_of_its_own_model_queued_before_the_removal_was_answered_defines_it() -> None:
    # Taken out and put back while the removal is in flight (a later patch of a new base:
    # a server patch came between): decided when it is sent.
    session = Session()
    alice, bob = session.connect("alice"), session.connect("bob")
    mine = Card(id="alice-card", text="mine")
    alice.document.add_root(mine)
    session.settle()
    alice.document.remove_root(mine)
    alice.flush()
    (removal,) = alice.messages_to_send()
    _pile(bob, "left").cards = []  # (a server patch between: the put-back's base is later)
    session.send("bob")
    mine.text = "changed while out"
    alice.document.add_root(mine)
    outcome = session.sequencer.handle_patch("alice", 0, _wire(removal))
    alice.receive_message(_wire(outcome.answer))
    assert outcome.changes is not None
    for patch in outcome.changes.messages_for("bob"):
        bob.receive_message(_wire(patch))
    del outcome, removal
    gc.collect()
    session.settle()
    assert session.answers["alice"][-1].content.get("rejected", 0) == 0, session.answers["alice"][-1].content
    assert session.document.get_model_by_id("alice-card").text == "changed while out"  # type: ignore[union-attr]
    assert _text(alice.document) == _text(session.document) == _text(bob.document)
    assert not _troubles(alice) and not _troubles(bob)


def test_its_own_model_put_back_before_its_definition_was_answered_is_defined_again() -> None:
    # (Convergence workload with moves, seed 1233.) Defined, taken out and put back while the
    # defining patch was in flight, another's change between: the answer made it held, the
    # put-back's definition was dropped, and the put-back, sent once the removal was taken,
    # named nothing on the server.
    session = Session()
    alice, bob = session.connect("alice"), session.connect("bob")
    mine = Card(id="alice-card", text="mine")
    alice.document.add_root(mine)
    alice.flush()
    (defined,) = alice.messages_to_send()
    alice.document.remove_root(mine)
    _pile(bob, "left").cards = []  # (a server patch between: the put-back's base is later)
    session.send("bob")
    mine.text = "changed while out"
    alice.document.add_root(mine)
    outcome = session.sequencer.handle_patch("alice", 0, _wire(defined))
    alice.receive_message(_wire(outcome.answer))
    assert outcome.changes is not None
    for patch in outcome.changes.messages_for("bob"):
        bob.receive_message(_wire(patch))
    del outcome, defined
    session.settle()  # (the removal, then the put-back)
    gc.collect()
    assert [m.content.get("rejected", 0) for m in session.answers["alice"]] == [0, 0], session.answers["alice"]
    assert session.document.get_model_by_id("alice-card").text == "changed while out"  # type: ignore[union-attr]
    assert _text(alice.document) == _text(session.document) == _text(bob.document)
    assert not _troubles(alice) and not _troubles(bob)


def test_a_model_defined_anew_takes_the_definition_where_a_client_still_holds_it() -> None:
    # Found by the convergence workload in memory with child moves (seed 4000000111): bob
    # took his card out of a pile, carol changed its text (bob no longer held it: his copy
    # kept the old text), and bob put it back as a root: the server made it anew from bob's
    # definition. Alice, whose own splices of that pile waited (they conflicted with bob's
    # removal, which she skipped until the pile's correction), still held the card when the
    # definition came and kept her own, carol's text, for good. (Bob's object, out, takes
    # carol's text since 6500002493's fix, and so does the definition: alice's side of this
    # is tested with the server's messages written out, below.)
    session = Session()
    alice, bob, carol = session.connect("alice"), session.connect("bob"), session.connect("carol")
    _pile(bob, "right").cards.append(Card(id="bob-card", text="bob's"))
    session.settle()
    card = bob.document.get_model_by_id("bob-card")
    _pile(bob, "right").cards.remove(card)  # taken out: waiting
    carols = carol.document.get_model_by_id("bob-card")
    carols.text = "carol's"  # type: ignore[union-attr]
    assert session.send("carol") == 1
    assert card.text == "carol's"  # type: ignore[union-attr]  # (bob no longer holds it: his object takes it)
    alices = _pile(alice, "right")
    held = alices.cards.pop(0)  # she takes it out and puts it back: waiting while bob's removal goes
    alices.cards.append(held)
    del held
    assert session.send("bob") == 1  # the removal: alice skips it (her splices conflict)
    assert _cards(alice.document, "right") == ["bob-card"]
    bob.document.add_root(card)  # put back: defined anew (the server no longer holds it)
    del card, carols
    gc.collect()
    assert session.send("bob") == 1
    assert session.document.get_model_by_id("bob-card").text == "carol's"  # type: ignore[union-attr]
    session.resets_expected = True
    session.settle()
    assert _text(alice.document) == _text(session.document) == _text(bob.document) == _text(carol.document)


def test_a_model_defined_anew_is_laid_over_the_one_its_own_waiting_splices_kept_held() -> None:
    # The scenario above (seed 4000000111) from alice's side, with what the server sends her
    # there (as tests/js/client_protocol.test.mjs has it): bob put his card in "right" (seq
    # 1), carol changed its text (seq 2), bob took it out (seq 3: alice, whose own move of it
    # waits, skips it) and put it back as a root, made anew from his copy (seq 4), its text
    # his. Alice kept carol's text for good.
    document = Document()
    alice = ClientProtocol(document, client_id="alice")
    alice.connection_made()
    alice.receive_message(_wire(new_message(ACK)))
    (pull,) = alice.messages_to_send()
    right_json = {"type": "object", "name": "test_moves.Pile", "id": "right", "attributes": {"cards": []}}
    doc = {"title": "docsync", "roots": [{"id": "right"}], "models": [right_json]}
    reply = new_message(PULL_DOC_REPLY, {"doc": doc, "seq": 0, "incarnation": "i1"}, reqid=pull.msgid)
    alice.receive_message(_wire(reply))
    definition = {"type": "object", "name": "test_moves.Card", "id": "bob-card", "attributes": {"text": "bob's"}}
    cards: dict[str, Any] = {"model": {"id": "right"}, "attr": "cards"}

    def server(seq: int, events: list[dict[str, Any]], references: list[dict[str, Any]] | None = None) -> None:
        content = {"events": events, "references": references or [], "seq": seq}
        alice.receive_message(_wire(new_message(PATCH_DOC, content)))

    server(1, [{"kind": "ListSpliced", **cards, "index": 0, "delete": 0, "items": [{"id": "bob-card"}]}], [definition])
    server(2, [{"kind": "ModelChanged", "model": {"id": "bob-card"}, "attr": "text", "new": "carol's"}])
    right = document.get_model_by_id("right")
    assert isinstance(right, Pile)
    card = right.cards.pop(0)  # her own move of it: waiting
    right.cards.insert(0, card)
    server(3, [{"kind": "ListSpliced", **cards, "index": 0, "delete": 1, "items": []}])
    assert right.cards == [card]  # (skipped: her splices conflict)
    server(4, [{"kind": "RootAdded", "model": {"id": "bob-card"}}], [definition])
    assert card.text == "bob's"  # (it kept "carol's")
    alice.flush()
    (move,) = alice.messages_to_send()
    answer = {"seq": 4, "rejected": 2, "applied_seq": 5, "lost": [0, 1]}
    alice.receive_message(_wire(new_message(OK, answer, reqid=move.msgid)))
    server(5, [{"kind": "ModelChanged", **cards, "new": []}])
    assert alice.settled
    assert [root.id for root in document.roots] == ["right", "bob-card"]
    assert right.cards == [] and document.get_model_by_id("bob-card") is card


def test_a_correction_of_its_own_model_before_its_put_back_goes_reaches_the_definition() -> None:
    # (Child moves in memory, seed 1414213825.) Alice's own note, taken out and put back in
    # a later patch, is defined anew from its state at the put-back. Her splice of its tags
    # lost to bob's whole value, and the correction came after she had put it back, before
    # the put-back went: it changed her note, not the definition kept, and the server made
    # the note from the definition (her lost tag in it, bob's value not).
    session = Session()
    alice, bob = session.connect("alice"), session.connect("bob")
    mine = Note(id="alice-note", tags=["a"])
    alice.document.add_root(mine)
    session.settle()
    mine.tags.append("alice's")
    alice.flush()
    (splice,) = alice.messages_to_send()  # in flight: it loses to bob's value
    alice.document.remove_root(mine)  # waiting
    bobs = bob.document.get_model_by_id("alice-note")
    bobs.tags = ["bob's"]  # type: ignore[union-attr]
    session.send("bob")  # (alice has her note out: she skips it)
    alice.document.add_root(mine)  # a later base: the put-back goes in a patch of its own
    outcome = session.sequencer.handle_patch("alice", 0, _wire(splice))
    alice.receive_message(_wire(outcome.answer))
    assert outcome.answer.content.get("rejected") == 1
    assert outcome.changes is not None
    for message in outcome.changes.messages_for("alice"):  # the correction
        alice.receive_message(_wire(message))
    assert mine.tags == ["bob's"]
    del outcome, splice
    gc.collect()
    session.settle()  # the removal, then the put-back, defining the note
    assert [m.content.get("rejected", 0) for m in session.answers["alice"]] == [0, 0, 0], session.answers["alice"]
    assert session.document.get_model_by_id("alice-note").tags == ["bob's"]  # type: ignore[union-attr]
    assert _text(alice.document) == _text(session.document) == _text(bob.document)


def test_a_splice_of_a_model_taken_out_is_shifted_past_the_servers_splices_skipped() -> None:
    # (Child moves in memory, seed 1414213735.) Alice spliced a note's tags and took the note
    # out of the board (both waiting, her earlier patch of the board in flight). Bob's
    # insertion into the tags reached her while she did not hold the note: skipped, and her
    # splice was not shifted past it. Her patch of the board lost; its correction defined
    # the note anew, and her splice, applied to it where she had made it, took out the
    # item before the one she took out (the server shifted it, and took out hers).
    session = Session()
    session.document.add_root(
        Board(id="board", notes=[Note(id="note", tags=["a", "b", "c"]), Note(id="other", tags=[])])
    )
    session.sequencer.flush()
    alice, bob, carol = session.connect("alice"), session.connect("bob"), session.connect("carol")
    board = alice.document.get_model_by_id("board")
    board.notes.pop(1)  # type: ignore[union-attr]
    alice.flush()
    (first,) = alice.messages_to_send()  # in flight: it loses to carol's value
    del session.clients["alice"]  # (she hears of the others' patches below, in the server's order)
    note = board.notes[0]  # type: ignore[union-attr]
    note.tags.pop(2)  # waiting: "c" out
    board.notes.remove(note)  # type: ignore[union-attr]  # waiting: the note out
    broadcast = []
    carols = carol.document.get_model_by_id("board")
    carols.notes = [carols.notes[0]]  # type: ignore[union-attr]
    bob.document.get_model_by_id("note").tags.insert(0, "bob's")  # type: ignore[union-attr]
    for name in ("carol", "bob"):
        session.clients[name].flush()
        (patch,) = session.clients[name].messages_to_send()
        outcome = session.sequencer.handle_patch(name, 0, _wire(patch))
        session.clients[name].receive_message(_wire(outcome.answer))
        assert outcome.changes is not None
        for other, client in session.clients.items():
            for message in outcome.changes.messages_for(other):
                client.receive_message(_wire(message))
        broadcast += outcome.changes.messages_for("alice")
    for message in broadcast:
        alice.receive_message(_wire(message))
    session.clients["alice"] = alice
    outcome = session.sequencer.handle_patch("alice", 0, _wire(first))
    alice.receive_message(_wire(outcome.answer))
    assert outcome.answer.content.get("rejected") == 1
    assert outcome.changes is not None
    for message in outcome.changes.messages_for("alice"):  # the correction, defining the note
        alice.receive_message(_wire(message))
    assert alice.document.get_model_by_id("note").tags == ["bob's", "a", "b"]  # type: ignore[union-attr]
    session.settle()
    assert session.document.get_model_by_id("note").tags == ["bob's", "a", "b"]  # type: ignore[union-attr]
    assert _text(alice.document) == _text(session.document) == _text(bob.document) == _text(carol.document)


def test_a_model_back_held_takes_a_corrections_definition_of_what_it_skipped() -> None:
    # (Child moves in memory, seed 4000001431.) Alice took a card out of a pile (in flight)
    # and skipped bob's text of it (she no longer held it); she put it into the other pile
    # (waiting), holding it again with her old text. Her removal lost to bob's whole value
    # of the first pile; its correction defined the card with bob's text: she kept her own
    # copy, as for a correction of models she holds, and its text stayed hers for good.
    # (Her object, out, takes bob's text since 6500002493's fix: the correction's definition
    # laid over it brings what it may still lack, a value holding models say.)
    session = Session()
    alice, bob = session.connect("alice"), session.connect("bob")
    left = _pile(alice, "left")
    card = left.cards.pop(0)  # in flight: it loses to bob's whole value
    alice.flush()
    (first,) = alice.messages_to_send()
    del session.clients["alice"]  # (she hears of bob's patches below, in the server's order)
    bob.document.get_model_by_id("card-0").text = "bob's"  # type: ignore[union-attr]
    broadcast = []
    bob.flush()
    for message in bob.messages_to_send():
        outcome = session.sequencer.handle_patch("bob", 0, _wire(message))
        bob.receive_message(_wire(outcome.answer))
        assert outcome.changes is not None
        broadcast += outcome.changes.messages_for("alice")
    for message in broadcast:  # skipped: the card is out, her object takes it
        alice.receive_message(_wire(message))
    assert card.text == "bob's"
    _pile(alice, "right").cards.append(card)  # waiting: she holds it again
    bobs = _pile(bob, "left")
    bobs.cards = [bobs.cards[1], bobs.cards[0], bobs.cards[2]]
    broadcast = []
    bob.flush()
    for message in bob.messages_to_send():
        outcome = session.sequencer.handle_patch("bob", 0, _wire(message))
        bob.receive_message(_wire(outcome.answer))
        assert outcome.changes is not None
        broadcast += outcome.changes.messages_for("alice")
    for message in broadcast:  # (it names the card, held by the server: no definition)
        alice.receive_message(_wire(message))
    assert card.text == "bob's"
    session.clients["alice"] = alice
    outcome = session.sequencer.handle_patch("alice", 0, _wire(first))
    alice.receive_message(_wire(outcome.answer))
    assert outcome.answer.content.get("rejected") == 1
    assert outcome.changes is not None
    for message in outcome.changes.messages_for("alice"):  # the correction, defining the card
        alice.receive_message(_wire(message))
    assert card.text == "bob's"
    del card, left, first, outcome
    gc.collect()
    session.resets_expected = True
    session.settle()
    assert session.document.get_model_by_id("card-0").text == "bob's"  # type: ignore[union-attr]
    assert _text(alice.document) == _text(session.document) == _text(bob.document)


def test_a_list_left_stale_stops_being_so_when_its_model_comes_back_defined() -> None:
    # (Child moves in memory, seed 4000001329.) Alice's splice of a note's tags conflicted
    # with bob's (her tags stale until their correction); she took the note out of the
    # board before the correction came, and skipped it (not holding the note). Her removal
    # lost to bob's whole value of the board, whose correction defined the note anew with
    # the server's tags, and she went on skipping the server's splices of them for good:
    # they were still stale.
    session = Session()
    session.document.add_root(Board(id="board", notes=[Note(id="note", tags=["a", "b", "c"])]))
    session.sequencer.flush()
    alice, bob = session.connect("alice"), session.connect("bob")
    board = alice.document.get_model_by_id("board")
    board.notes[0].tags.pop(1)  # type: ignore[union-attr]
    alice.flush()
    (first,) = alice.messages_to_send()  # in flight: it loses to bob's
    del session.clients["alice"]  # (she hears of bob's patches below, in the server's order)
    bobs = bob.document.get_model_by_id("board")
    bobs.notes[0].tags.pop(1)  # type: ignore[union-attr]
    bob.flush()
    broadcast = []
    for message in bob.messages_to_send():
        outcome = session.sequencer.handle_patch("bob", 0, _wire(message))
        bob.receive_message(_wire(outcome.answer))
        assert outcome.changes is not None
        broadcast += outcome.changes.messages_for("alice")
    for message in broadcast:  # her splice conflicts: her tags stale
        alice.receive_message(_wire(message))
    board.notes.pop(0)  # type: ignore[union-attr]  # waiting: the note out
    bobs.notes = [bobs.notes[0], Note(id="bobs-note")]  # type: ignore[union-attr]
    bob.flush()
    broadcast = []
    for message in bob.messages_to_send():
        outcome = session.sequencer.handle_patch("bob", 0, _wire(message))
        bob.receive_message(_wire(outcome.answer))
        assert outcome.changes is not None
        broadcast += outcome.changes.messages_for("alice")
    for message in broadcast:
        alice.receive_message(_wire(message))
    session.clients["alice"] = alice
    outcome = session.sequencer.handle_patch("alice", 0, _wire(first))
    alice.receive_message(_wire(outcome.answer))
    assert outcome.answer.content.get("rejected") == 1
    if outcome.changes is not None:
        for message in outcome.changes.messages_for("alice"):  # (the tags' correction: skipped, the note out)
            alice.receive_message(_wire(message))
    del first, outcome, board
    gc.collect()
    # Since seed 5200001383 bob's whole value, holding the note, puts her object of it back
    # where the server holds it (one object per id): her removal is superseded there, not
    # sent; the tags' correction reached the note held.
    assert session.send("alice") == 0
    assert alice.document.get_model_by_id("note").tags == ["a", "c"]  # type: ignore[union-attr]
    assert not alice._stale
    session.settle()
    assert _text(alice.document) == _text(session.document) == _text(bob.document)
    # And the note she holds again takes the server's changes from then on (carol's: bob
    # never heard of her patch's changes above, and his splices of the tags would lose).
    carol = session.connect("carol")
    carol.document.get_model_by_id("note").tags.insert(0, "carol's")  # type: ignore[union-attr]
    assert session.send("carol") == 1
    assert [m.content.get("rejected", 0) for m in session.answers["carol"]] == [0]
    assert alice.document.get_model_by_id("note").tags == ["carol's", "a", "c"]  # type: ignore[union-attr]
    assert _text(alice.document) == _text(session.document) == _text(carol.document)


def test_a_servers_splice_before_its_put_back_goes_reaches_the_definition_under_its_own_later_splice() -> None:
    # (Child moves in memory, seed 3141594177.) Alice's own note, its removal in flight, is
    # put back (defined anew from its state then, waiting), and she appends to its tags
    # after that. Bob's insertion into the tags reaches the server before her removal, and
    # her while the put-back waits: her note takes it, and her append is shifted past it,
    # but the definition kept did not (her later splice of the tags would have applied
    # twice had the note's value been written into it): the server made the note without
    # bob's tag, and refused her append, shifted past it, as out of range.
    session = Session()
    alice, bob = session.connect("alice"), session.connect("bob")
    mine = Note(id="alice-note", tags=["a", "b"])
    alice.document.add_root(mine)
    session.settle()
    alice.document.remove_root(mine)
    alice.flush()
    (removal,) = alice.messages_to_send()  # in flight: the server lets go of the note
    alice.document.add_root(mine)  # waiting: defined anew, tags ["a", "b"]
    mine.tags.append("c")  # waiting, after the put-back
    bob.document.get_model_by_id("alice-note").tags.insert(0, "bob's")  # type: ignore[union-attr]
    session.send("bob")
    assert mine.tags == ["bob's", "a", "b", "c"]
    outcome = session.sequencer.handle_patch("alice", 0, _wire(removal))
    alice.receive_message(_wire(outcome.answer))
    assert outcome.answer.content.get("rejected", 0) == 0
    del outcome, removal
    gc.collect()
    session.settle()  # the put-back, defining the note, and the append
    assert [m.msgtype for m in session.answers["alice"]] == [OK, OK], session.answers["alice"][-1].content
    assert [m.content.get("rejected", 0) for m in session.answers["alice"]] == [0, 0]
    assert session.document.get_model_by_id("alice-note").tags == ["bob's", "a", "b", "c"]  # type: ignore[union-attr]
    assert _text(alice.document) == _text(session.document) == _text(bob.document)


def test_a_servers_splice_skipped_while_its_put_back_waits_reaches_the_definition() -> None:
    # (Child moves in memory, seed 2869534871.) Alice's own note, its removal in flight, is
    # put back (defined anew from its state then, waiting), she appends to its tags and
    # takes it out again, all waiting. Bob's insertion into the tags reaches the server
    # before her removal, and her while the note is out: she skips it. Her put-back's
    # definition went without it: the server made the note from it and refused her
    # append, shifted past bob's insertion, as out of range (the whole patch).
    session = Session()
    alice, bob = session.connect("alice"), session.connect("bob")
    mine = Note(id="alice-note", tags=["a", "b"])
    alice.document.add_root(mine)
    session.settle()
    alice.document.remove_root(mine)
    alice.flush()
    (removal,) = alice.messages_to_send()  # in flight: the server lets go of the note
    alice.document.add_root(mine)  # waiting: defined anew, tags ["a", "b"]
    mine.tags.append("c")  # waiting, after the put-back
    alice.document.remove_root(mine)  # waiting: out again
    bob.document.get_model_by_id("alice-note").tags.insert(0, "bob's")  # type: ignore[union-attr]
    session.send("bob")
    assert mine.tags == ["bob's", "a", "b", "c"]  # skipped, the note out: its object takes it (seed 2138669479)
    outcome = session.sequencer.handle_patch("alice", 0, _wire(removal))
    alice.receive_message(_wire(outcome.answer))
    assert outcome.answer.content.get("rejected", 0) == 0
    assert outcome.changes is not None
    for patch in outcome.changes.messages_for("bob"):
        bob.receive_message(_wire(patch))
    del outcome, removal
    gc.collect()  # (the server's note gone: the put-back makes it anew from its definition)
    alice.flush()
    (put_back,) = alice.messages_to_send()
    outcome = session.sequencer.handle_patch("alice", 0, _wire(put_back))
    assert outcome.answer.msgtype == OK, outcome.answer.content
    assert outcome.answer.content.get("rejected", 0) == 0
    (definition,) = put_back.content["references"]
    assert definition["attributes"]["tags"] == ["bob's", "a", "b"]
    alice.receive_message(_wire(outcome.answer))
    assert outcome.changes is not None
    for patch in outcome.changes.messages_for("bob"):
        bob.receive_message(_wire(patch))
    assert session.document.get_model_by_id("alice-note") is None
    alice.document.add_root(mine)  # back again, from her copy (bob's tag in it)
    session.settle()
    assert [(m.msgtype, m.content.get("rejected", 0)) for m in session.answers["alice"]] == [(OK, 0)] * 2
    assert _text(alice.document) == _text(session.document) == _text(bob.document)
    assert not _troubles(alice) and not _troubles(bob)


def _bob_moves_card_0_while_alice_holds_it_out() -> tuple[Session, ClientProtocol, ClientProtocol, Card]:
    """Alice takes card-0 out (her page keeps it); bob changes it and moves it to "right" first."""
    session = Session()
    alice, bob = session.connect("alice"), session.connect("bob")
    mine = _pile(alice, "left").cards.pop(0)  # held by alice's page; her removal unanswered
    theirs = _pile(bob, "left").cards.pop(0)
    theirs.text = "bob's"
    _pile(bob, "right").cards.append(theirs)
    assert session.send("bob") == 1  # its change reaches alice: it defines card-0 anew in "right"
    return session, alice, bob, mine


def test_a_model_defined_anew_while_the_page_holds_it_out_is_that_object() -> None:
    # Found by the convergence workload with child moves (in memory, seed 916366525): a
    # page took a model out of a layout and kept it; a server patch defined it anew in its
    # document (another client's move), and the client made a second object of that id. The
    # page's object stayed stale (the tags before the server's whole value), and when the
    # page put it back, its later splice of them was refused as out of range. One object
    # per id (as Bokeh's Document keeps one model per id): the one the page holds takes the
    # definition's values, and is the one the document holds.
    session, alice, bob, mine = _bob_moves_card_0_while_alice_holds_it_out()
    assert alice.document.get_model_by_id("card-0") is mine
    assert (mine.text, mine.label) == ("bob's", "label 0")
    alice.flush()
    (waiting,) = alice.messages_to_send()  # her removal alone: the server's values are not sent back
    assert [event["kind"] for event in waiting.content["events"]] == ["ListSpliced"]
    alice.receive_message(_wire(session.sequencer.handle_patch("alice", 0, _wire(waiting)).answer))
    session.settle()
    assert _text(alice.document) == _text(session.document) == _text(bob.document)
    assert not [e for e in _troubles(alice) if isinstance(e, ErrorReported)]


def test_a_model_the_page_holds_out_put_back_after_its_definition_anew_converges() -> None:
    # The page's layout code goes on with the object it holds: it takes the card out of
    # "right" and puts its own object back into "left", then changes it. That object had
    # kept the text it had before bob's change (the client's was another object): alice's
    # document differed from the server's for good.
    session, alice, bob, mine = _bob_moves_card_0_while_alice_holds_it_out()
    session.settle()  # (her removal loses: the card had left "left")
    right = _pile(alice, "right")
    right.cards.remove(right.cards[0])
    _pile(alice, "left").cards.insert(0, mine)
    session.settle()
    assert session.document.get_model_by_id("card-0").text == "bob's"  # type: ignore[union-attr]
    assert _text(alice.document) == _text(session.document) == _text(bob.document)
    mine.text = "alice's"  # the page's object is the document's: its change goes
    session.settle()
    assert session.document.get_model_by_id("card-0").text == "alice's"  # type: ignore[union-attr]
    assert _text(alice.document) == _text(session.document) == _text(bob.document)
    assert not [e for e in _troubles(alice) if isinstance(e, ErrorReported)]


def test_a_corrections_definition_of_a_model_held_on_both_sides_is_not_laid_over_it() -> None:
    # (Child moves in memory, seed 65476519.) Bob put a note the server held on a second
    # board too and spliced its tags, in one patch, after a change of the first board that
    # lost (carol had set the board's notes anew meanwhile), so the position ends with the
    # board's correction, which defines the note as the position left it, bob's tag in.
    # Alice held the note where the server did, a splice of its tags of her own waiting:
    # she read the definition as the note made anew by bob's insertion and laid it over
    # hers, and so lost her tag and took bob's twice (his splice followed the insertion).
    # (The seed's change was a move whose removal from the first board lost: the server
    # no longer takes its insertion, seed 917677733; a note on two boards is the
    # application's to allow.)
    session = Session()
    session.document.add_root(Board(id="first", notes=[Note(id="note", tags=["a", "b"]), Note(id="other", tags=[])]))
    session.document.add_root(Board(id="second", notes=[]))
    session.sequencer.flush()
    alice, bob, carol = session.connect("alice"), session.connect("bob"), session.connect("carol")
    alice.document.get_model_by_id("note").tags.append("alice's")  # type: ignore[union-attr]
    alice.flush()
    (mine,) = alice.messages_to_send()  # in flight while bob's and carol's patches go
    del session.clients["alice"]
    carols = carol.document.get_model_by_id("first")
    carols.notes = list(reversed(carols.notes))  # type: ignore[union-attr]
    bobs = bob.document.get_model_by_id("first")
    note = bobs.notes[0]  # type: ignore[union-attr]
    bobs.notes.append(Note(id="bob-note"))  # type: ignore[union-attr]
    bob.document.get_model_by_id("second").notes.append(note)  # type: ignore[union-attr]
    note.tags.insert(0, "bob's")
    broadcast = []
    patches = {}
    for name in ("carol", "bob"):  # both sent before either is answered
        session.clients[name].flush()
        (patches[name],) = session.clients[name].messages_to_send()
    for name in ("carol", "bob"):
        outcome = session.sequencer.handle_patch(name, 0, _wire(patches[name]))
        session.clients[name].receive_message(_wire(outcome.answer))
        assert outcome.changes is not None
        for other, client in session.clients.items():
            for message in outcome.changes.messages_for(other):
                client.receive_message(_wire(message))
        broadcast += outcome.changes.messages_for("alice")
    assert outcome.answer.content.get("rejected") == 1  # bob's insertion in the first board
    assert "note" in [r["id"] for r in broadcast[-1].content["references"]]  # the correction's definition
    for message in broadcast:
        alice.receive_message(_wire(message))
    assert alice.document.get_model_by_id("note").tags == ["bob's", "a", "b", "alice's"]  # type: ignore[union-attr]
    session.clients["alice"] = alice
    outcome = session.sequencer.handle_patch("alice", 0, _wire(mine))
    assert outcome.answer.content.get("rejected") == 0
    alice.receive_message(_wire(outcome.answer))
    assert outcome.changes is not None
    for other, client in session.clients.items():
        for message in outcome.changes.messages_for(other):
            client.receive_message(_wire(message))
    session.settle()
    assert session.document.get_model_by_id("note").tags == ["bob's", "a", "b", "alice's"]  # type: ignore[union-attr]
    assert _text(alice.document) == _text(session.document) == _text(bob.document) == _text(carol.document)


def test_a_model_made_from_a_definition_does_not_take_a_later_corrections_over_its_own_splice() -> None:
    # (Child moves in memory, seed 65477341.) Alice spliced a note's tags and took the note
    # out of the board (in flight), and so skipped bob's splice of the tags. Carol's lost
    # splice of the board was corrected, defining the note: alice made it from that
    # definition, bob's tag in, with her own splice on it. Dave's lost splice of the board
    # was corrected too, defining the note as the server had it (hers not taken yet): alice
    # still counted the note's server changes as skipped, laid that definition over it, and
    # dropped her own tag, which the server then took.
    session = Session()
    session.document.add_root(Board(id="first", notes=[Note(id="note", tags=["a", "b"]), Note(id="other", tags=[])]))
    session.sequencer.flush()
    names = ("alice", "bob", "carol", "dave")
    alice, bob, carol, dave = (session.connect(name) for name in names)
    note = alice.document.get_model_by_id("note")
    note.tags.append("alice's")  # type: ignore[union-attr]
    alice.document.get_model_by_id("first").notes.remove(note)  # type: ignore[union-attr]
    alice.flush()
    (mine,) = alice.messages_to_send()  # in flight while the others' patches go
    del session.clients["alice"], note
    bob.document.get_model_by_id("note").tags.insert(0, "bob's")  # type: ignore[union-attr]
    for client in (bob, carol, dave):
        client.document.get_model_by_id("first").notes.pop(1)  # type: ignore[union-attr]
    patches = {}
    for name in ("bob", "carol", "dave"):  # all sent before any is answered
        session.clients[name].flush()
        (patches[name],) = session.clients[name].messages_to_send()
    broadcast = []
    for name, patch in patches.items():
        outcome = session.sequencer.handle_patch(name, 0, _wire(patch))
        session.clients[name].receive_message(_wire(outcome.answer))
        assert outcome.answer.content.get("rejected") == (0 if name == "bob" else 1)
        assert outcome.changes is not None
        for other, client in session.clients.items():
            for message in outcome.changes.messages_for(other):
                client.receive_message(_wire(message))
        broadcast += outcome.changes.messages_for("alice")
    for message in broadcast:
        alice.receive_message(_wire(message))
    assert alice.document.get_model_by_id("note").tags == ["bob's", "a", "b", "alice's"]  # type: ignore[union-attr]
    session.clients["alice"] = alice
    outcome = session.sequencer.handle_patch("alice", 0, _wire(mine))
    alice.receive_message(_wire(outcome.answer))
    assert outcome.changes is not None
    for other, client in session.clients.items():
        for message in outcome.changes.messages_for(other):
            client.receive_message(_wire(message))
    session.settle()
    assert session.document.get_model_by_id("note").tags == ["bob's", "a", "b", "alice's"]  # type: ignore[union-attr]
    assert _text(alice.document) == _text(session.document) == _text(bob.document) == _text(carol.document)


def test_a_model_put_back_takes_a_corrections_definition_after_its_definition_was_skipped() -> None:
    # (Child moves in memory, seed 3907741231.) Alice took a note out of the board (in
    # flight). Bob took it out and put it back in one patch, and spliced its tags: the
    # server gave the put-back a position of its own, defining the note, bob's tag after.
    # Alice's removal conflicted with bob's: the board stale, she skipped the put-back, its
    # definition and bob's tag. She put the note back herself (her own object) before her
    # removal's answer came: its correction defined the note, bob's tag in, and she kept her
    # own copy, without it, for good.
    session = Session()
    session.document.add_root(Board(id="first", notes=[Note(id="note", tags=["a"]), Note(id="other", tags=[])]))
    session.sequencer.flush()
    alice, bob = session.connect("alice"), session.connect("bob")
    board = alice.document.get_model_by_id("first")
    note = board.notes.pop(0)  # type: ignore[union-attr]
    alice.flush()
    (mine,) = alice.messages_to_send()  # in flight while bob's patch goes
    bobs = bob.document.get_model_by_id("first")
    card = bobs.notes.pop(0)  # type: ignore[union-attr]
    bobs.notes.insert(1, card)  # type: ignore[union-attr]
    card.tags.append("bob's")
    bob.flush()
    (patch,) = bob.messages_to_send()
    outcome = session.sequencer.handle_patch("bob", 0, _wire(patch))
    bob.receive_message(_wire(outcome.answer))
    assert outcome.changes is not None
    bobs_positions = outcome.changes.messages_for("alice")
    assert len(bobs_positions) == 2  # the removal, then the put-back defining the note
    outcome = session.sequencer.handle_patch("alice", 0, _wire(mine))
    assert outcome.answer.content.get("rejected") == 1  # her removal lost to bob's
    assert outcome.changes is not None
    for message in bobs_positions:
        alice.receive_message(_wire(message))
    assert alice.document.get_model_by_id("note") is None  # (the put-back skipped: the board stale)
    board.notes.insert(0, note)  # type: ignore[union-attr]  # she puts the note back: waiting
    alice.receive_message(_wire(outcome.answer))
    for message in outcome.changes.messages_for("alice"):  # the board's correction, defining the note
        alice.receive_message(_wire(message))
    assert alice.document.get_model_by_id("note").tags == ["a", "bob's"]  # type: ignore[union-attr]
    session.settle()
    assert _text(alice.document) == _text(session.document) == _text(bob.document)


def test_a_whole_list_then_spliced_is_applied_once_to_its_model_defined_while_taken_out() -> None:
    # (Child moves in memory, seed 3192555471.) Alice set a note's tags anew, spliced a tag
    # into them and took the note out of the board (in flight). Carol's lost splice of the
    # board was corrected, defining the note: alice made it from the definition and applied
    # her unanswered changes to it, the whole value as the event held it, the list her
    # splice had changed since, then the splice again: her tag twice (and a later splice of
    # hers, out of the server's range, refused her whole patch).
    session = Session()
    session.document.add_root(Board(id="first", notes=[Note(id="note", tags=["a", "b"]), Note(id="other", tags=[])]))
    session.sequencer.flush()
    alice, bob, carol = session.connect("alice"), session.connect("bob"), session.connect("carol")
    note = alice.document.get_model_by_id("note")
    note.tags = []  # type: ignore[union-attr]
    note.tags.append("alice's")  # type: ignore[union-attr]
    alice.document.get_model_by_id("first").notes.remove(note)  # type: ignore[union-attr]
    alice.flush()
    (mine,) = alice.messages_to_send()  # in flight while the others' patches go
    del session.clients["alice"], note
    for client in (bob, carol):
        client.document.get_model_by_id("first").notes.pop(1)  # type: ignore[union-attr]
    patches = {}
    for name in ("bob", "carol"):  # both sent before either is answered
        session.clients[name].flush()
        (patches[name],) = session.clients[name].messages_to_send()
    broadcast = []
    for name, patch in patches.items():
        outcome = session.sequencer.handle_patch(name, 0, _wire(patch))
        session.clients[name].receive_message(_wire(outcome.answer))
        assert outcome.answer.content.get("rejected") == (0 if name == "bob" else 1)
        assert outcome.changes is not None
        for other, client in session.clients.items():
            for message in outcome.changes.messages_for(other):
                client.receive_message(_wire(message))
        broadcast += outcome.changes.messages_for("alice")
    for message in broadcast:  # the board's correction defines the note
        alice.receive_message(_wire(message))
    assert alice.document.get_model_by_id("note").tags == ["alice's"]  # type: ignore[union-attr]
    session.clients["alice"] = alice
    outcome = session.sequencer.handle_patch("alice", 0, _wire(mine))
    alice.receive_message(_wire(outcome.answer))
    assert outcome.changes is not None
    for other, client in session.clients.items():
        for message in outcome.changes.messages_for(other):
            client.receive_message(_wire(message))
    session.settle()
    assert session.document.get_model_by_id("note").tags == ["alice's"]  # type: ignore[union-attr]
    assert _text(alice.document) == _text(session.document) == _text(bob.document) == _text(carol.document)


def test_a_model_a_whole_value_keeps_after_superseding_its_put_back_is_held() -> None:
    # Found by the convergence workload with child moves (seed 4119971791, in memory): a
    # client added a new item to one layout, moved it to another and set that layout's
    # whole value, all in one patch: the value superseded the put-back (its definition
    # carried) and the server made the item from the carried definition. The client counted
    # the item as held only where a change of the patch defined it (the first layout's,
    # which the move took out), so later, its own move of the item lost to another client's
    # value of the layout, it sent the item's definition again: the server refused the whole
    # patch ("duplicate model id").
    session = Session()
    alice, bob = session.connect("alice"), session.connect("bob")
    card = Card(id="alice-card", text="new")
    _pile(alice, "right").cards.append(card)  # defines the card
    _pile(alice, "right").cards.pop()
    _pile(alice, "left").cards.append(card)  # defines it again: a put-back
    _pile(alice, "left").cards = [card, *_pile(alice, "left").cards[:3]]  # supersedes the put-back
    assert session.send("alice") == 1
    assert _cards(session.document, "left") == ["alice-card", "card-0", "card-1", "card-2"]
    assert alice.outbox.server_ids >= {"alice-card"}
    _pile(alice, "left").cards.remove(card)  # a move out and back, waiting
    _pile(alice, "left").cards.insert(0, card)
    _pile(bob, "left").cards = [_pile(bob, "left").cards[0], _pile(bob, "left").cards[1]]
    assert session.send("bob") == 1  # alice's move waits: the server's value supersedes it
    alice.document.get_model_by_id("card-0").text = "changed"  # type: ignore[union-attr]
    session.settle()
    assert [m.msgtype for m in session.answers["alice"]] == [OK, OK], session.answers["alice"][-1].content
    assert _cards(session.document, "left") == ["alice-card", "card-0"]
    assert session.document.get_model_by_id("card-0").text == "changed"  # type: ignore[union-attr]
    assert _text(alice.document) == _text(session.document) == _text(bob.document)


def test_its_own_change_of_a_model_back_held_applies_over_a_corrections_definition_of_it() -> None:
    # (Child moves in memory, seed 948609809.) Alice took a card out of a pile (in flight)
    # and skipped bob's text of it; her removal lost to bob's whole value of the pile. She
    # put the card into the other pile and set its text, in flight before the pile's
    # correction came, defining the card with bob's text: laid over her copy (she had
    # skipped his text), her own text was taken as lost to it. The server took it after.
    session = Session()
    alice, bob = session.connect("alice"), session.connect("bob")
    card = _pile(alice, "left").cards.pop(0)  # in flight: it loses to bob's whole value
    alice.flush()
    (first,) = alice.messages_to_send()  # (sent below, after bob's)
    bob.document.get_model_by_id("card-0").text = "bob's"  # type: ignore[union-attr]
    session.send("bob")  # (skipped by alice: the card is out)
    bobs = _pile(bob, "left")
    bobs.cards = [bobs.cards[1], bobs.cards[0], bobs.cards[2]]
    session.send("bob")
    outcome = session.sequencer.handle_patch("alice", 0, _wire(first))
    assert outcome.answer.content.get("rejected") == 1
    assert outcome.changes is not None
    alice.receive_message(_wire(outcome.answer))
    _pile(alice, "right").cards.append(card)
    card.text = "alice's"
    alice.flush()
    (second,) = alice.messages_to_send()  # in flight while the correction comes
    for message in outcome.changes.messages_for("alice"):  # the correction, defining the card
        alice.receive_message(_wire(message))
    assert card.text == "alice's"
    outcome = session.sequencer.handle_patch("alice", 0, _wire(second))
    assert outcome.answer.content.get("rejected") == 0
    alice.receive_message(_wire(outcome.answer))
    assert outcome.changes is not None
    for message in outcome.changes.messages_for("bob"):
        bob.receive_message(_wire(message))
    session.settle()
    assert session.document.get_model_by_id("card-0").text == "alice's"  # type: ignore[union-attr]
    assert _text(alice.document) == _text(session.document) == _text(bob.document)


def test_a_servers_change_of_its_own_model_put_back_reaches_the_definition_after_a_resume_answered_it() -> None:
    # (Child moves in memory, seed 700001151.) Alice's new card, its defining patch in
    # flight, taken out of its pile and put back as a root (a later patch); her connection
    # dropped. The server took the definition; bob then changed the card's text.
    # Her resume's reply answered the patch (the card held) and replayed bob's text, which
    # she took (she holds the card, put back), but her put-back's definition stayed among
    # those to send until the next patch went, as it was when she put the card back: her
    # removal taken, the put-back defined the card, made anew without bob's text.
    session = Session()
    alice, bob = session.connect("alice"), session.connect("bob")
    mine = Card(id="alice-card", text="mine")
    _pile(alice, "left").cards.append(mine)
    alice.flush()
    (defined,) = alice.messages_to_send()  # in flight
    bob.document.get_model_by_id("card-0").text = "bob's first"  # type: ignore[union-attr]
    session.send("bob")
    _pile(alice, "left").cards.remove(mine)  # waiting
    bob.document.get_model_by_id("card-1").text = "bob's second"  # type: ignore[union-attr]
    session.send("bob")  # (a server patch between: the put-back's base is later, a patch of its own)
    alice.document.add_root(mine)  # waiting
    alice.connection_lost()
    del session.clients["alice"]  # (offline: what follows is replayed to her on resume)
    outcome = session.sequencer.handle_patch("alice", 0, _wire(defined))
    assert outcome.changes is not None
    for message in outcome.changes.messages_for("bob"):
        bob.receive_message(_wire(message))
    bob.document.get_model_by_id("alice-card").text = "bob's"  # type: ignore[union-attr]
    assert session.send("bob") == 1
    session.clients["alice"] = alice
    _resume(session, "alice")
    assert mine.text == "bob's"
    alice.flush()
    (removal,) = alice.messages_to_send()
    outcome = session.sequencer.handle_patch("alice", 0, _wire(removal))
    assert outcome.answer.content.get("rejected") == 0
    alice.receive_message(_wire(outcome.answer))
    assert outcome.changes is not None
    for patch in outcome.changes.messages_for("bob"):
        bob.receive_message(_wire(patch))
    del outcome, defined, removal
    gc.collect()  # (the server's card gone: the put-back makes it anew from its definition)
    assert session.document.get_model_by_id("alice-card") is None
    session.settle()
    assert [m.content.get("rejected", 0) for m in session.answers["alice"]] == [0], session.answers["alice"]
    assert session.document.get_model_by_id("alice-card").text == "bob's"  # type: ignore[union-attr]
    assert _text(alice.document) == _text(session.document) == _text(bob.document)
    assert not _troubles(alice) and not _troubles(bob)


def test_a_corrections_definition_of_a_root_added_and_removed_again_is_not_laid_over_at_the_root_added() -> None:
    # (Child moves in memory, seed 948610247; the server's positions as the Sequencer sent
    # them there.) Bob's patch put a note the server held in a board back as a root (his
    # removal of it had lost before), spliced its tags, set the board anew (which lost) and
    # took the root out: the server held the note in the board all along, and the board's
    # correction at the position's end defined it, as that end left it. Alice, her own value
    # of the board in flight (the board stale: carol's splice of it skipped), read the
    # definition as the note made anew by the root added, laid it over there, and took
    # bob's splice again: his tag twice. The server defines no model an earlier event of
    # the position detached: the root removed detached nothing, so the definition is the
    # correction's (protocol.md §9).
    session = Session()
    session.document.add_root(Board(id="first", notes=[Note(id="note", tags=["a"]), Note(id="other", tags=[])]))
    session.sequencer.flush()
    alice = session.connect("alice")
    board = alice.document.get_model_by_id("first")
    board.notes = [board.notes[1], board.notes[0]]  # type: ignore[union-attr]  # in flight
    alice.flush()
    assert len(alice.messages_to_send()) == 1
    note, notes = {"id": "note"}, {"model": {"id": "first"}, "attr": "notes"}
    carols = {"events": [{"kind": "ListSpliced", **notes, "index": 1, "delete": 1, "items": []}], "seq": 1}
    alice.receive_message(_wire(new_message(PATCH_DOC, carols)))  # (skipped: her value of the board waits)
    tags = ["a", "bob's"]  # (the correction's definition: as the position's end left the note)
    bobs = {
        "events": [
            {"kind": "RootAdded", "model": note},
            {"kind": "ListSpliced", "model": note, "attr": "tags", "index": 1, "delete": 0, "items": ["bob's"]},
            {"kind": "RootRemoved", "model": note},
            {"kind": "ModelChanged", **notes, "new": [note]},
        ],
        "references": [{"type": "object", "name": "test_moves.Note", "id": "note", "attributes": {"tags": tags}}],
        "seq": 2,
    }
    alice.receive_message(_wire(new_message(PATCH_DOC, bobs)))
    assert alice.document.get_model_by_id("note").tags == ["a", "bob's"]  # type: ignore[union-attr]
    assert [m.id for m in board.notes] == ["note"]  # type: ignore[union-attr]


def test_changes_after_a_definition_whose_attaching_splice_was_skipped_are_applied() -> None:
    # (Child moves in memory, seed 2276682393; the server's positions as the Sequencer sent
    # them there.) Bob's patch put his new card into "left", changed its text, and set
    # "left" anew, which lost: the card's definition is as the splice attached it, the text
    # after it, then the list's correction. Alice's removal from "left", in flight, lost to
    # carol's removal of the same card (the list stale): she skipped the splice, read the
    # change of the card's text as made before the correction attaching it here (in its
    # definition already), left it out, and kept the definition's text for good.
    session = Session()
    alice = session.connect("alice")
    del _pile(alice, "left").cards[0]  # in flight
    alice.flush()
    assert len(alice.messages_to_send()) == 1
    left = {"model": {"id": "left"}, "attr": "cards"}
    carols = {"events": [{"kind": "ListSpliced", **left, "index": 0, "delete": 1, "items": []}], "seq": 1}
    alice.receive_message(_wire(new_message(PATCH_DOC, carols)))  # (her removal conflicts: "left" stale)
    card = {"id": "bobs"}
    bobs = {
        "events": [
            {"kind": "ListSpliced", **left, "index": 2, "delete": 0, "items": [card]},
            {"kind": "ModelChanged", "model": card, "attr": "text", "new": "changed"},
            {"kind": "ModelChanged", **left, "new": [{"id": "card-1"}, {"id": "card-2"}, card]},
        ],
        "references": [{"type": "object", "name": "test_moves.Card", "id": "bobs", "attributes": {"text": "new"}}],
        "seq": 2,
    }
    alice.receive_message(_wire(new_message(PATCH_DOC, bobs)))
    assert _cards(alice.document, "left") == ["card-1", "card-2", "bobs"]
    assert alice.document.get_model_by_id("bobs").text == "changed"  # type: ignore[union-attr]  # ("new")


def test_a_servers_splice_skipped_while_its_model_is_out_reaches_the_object_put_back() -> None:
    # (Child moves in memory, seed 2138669479.) Alice takes her note out of a board (in
    # flight; it loses to bob's reorder of the board, made first). Bob's deletion of the
    # note's first tag reaches her while the note is out: skipped, it never reached her
    # object, which she put back as a root, and her deletion of "y" on it (index 2, based
    # after bob's deletion, so not shifted past it) named no tag of the server's note,
    # which the server held still: out of range, or another tag, where she had not meant.
    session = Session()
    alice, bob = session.connect("alice"), session.connect("bob")
    mine = Note(id="alice-note", tags=["w", "x", "y"])
    alice.document.add_root(Board(id="board", notes=[mine, Note(id="other-note")]))
    session.settle()
    board = alice.document.get_model_by_id("board")
    assert isinstance(board, Board)
    board.notes.pop(0)
    alice.flush()
    (removal,) = alice.messages_to_send()  # in flight
    theirs = bob.document.get_model_by_id("board")
    assert isinstance(theirs, Board)
    theirs.notes[0].tags.pop(0)
    bob.flush()
    (deletion,) = bob.messages_to_send()
    first = session.sequencer.handle_patch("bob", 0, _wire(deletion))
    bob.receive_message(_wire(first.answer))
    theirs.notes = [theirs.notes[1], theirs.notes[0]]  # alice's removal, based before, loses to it
    bob.flush()
    (reorder,) = bob.messages_to_send()
    second = session.sequencer.handle_patch("bob", 0, _wire(reorder))
    bob.receive_message(_wire(second.answer))
    assert first.changes is not None and second.changes is not None
    for patch in first.changes.messages_for("alice"):
        alice.receive_message(_wire(patch))
    assert mine.tags == ["x", "y"]  # skipped, the note out: her object takes it (["w", "x", "y"] before)
    alice.document.add_root(mine)  # waiting: put back, as a root
    mine.tags.remove("y")  # waiting
    for patch in second.changes.messages_for("alice"):
        alice.receive_message(_wire(patch))
    outcome = session.sequencer.handle_patch("alice", 0, _wire(removal))
    alice.receive_message(_wire(outcome.answer))
    assert outcome.answer.content.get("rejected") == 1  # the removal lost: the server holds the note still
    assert outcome.changes is not None
    for name, client in session.clients.items():
        for patch in outcome.changes.messages_for(name):
            client.receive_message(_wire(patch))
    session.settle()  # the put-back and the deletion
    # (The board's definition, then the put-back and the deletion.)
    assert [(m.msgtype, m.content.get("rejected", 0)) for m in session.answers["alice"]] == [(OK, 0)] * 2
    assert session.document.get_model_by_id("alice-note").tags == ["x"]  # type: ignore[union-attr]
    assert _text(alice.document) == _text(session.document) == _text(bob.document)


def _two_boards() -> tuple[Session, ClientProtocol, ClientProtocol]:
    """A session of two boards, the first empty, the second holding a note, and alice and bob connected."""
    session = Session()
    session.document.add_root(Board(id="board-a", notes=[]))
    session.document.add_root(Board(id="board-b", notes=[Note(id="note", tags=["a"])]))
    session.sequencer.flush()
    return session, session.connect("alice"), session.connect("bob")


def test_a_servers_splice_attaching_a_model_taken_out_here_attaches_the_object_held_out() -> None:
    # (Child moves in memory, seed 5200001383.) Alice took a note out of one board, her
    # removal waiting; bob put the note (the server's, held) into a second board, a
    # reference. Alice skipped his splice, its item naming a model her document no longer
    # held: the second board, short of the note, stayed unlike the server's for good (no
    # correction of it ever came), and the server's later splices of it did not fit.
    session, alice, bob = _two_boards()
    taken = alice.document.get_model_by_id("board-b").notes.pop(0)  # type: ignore[union-attr]  # waiting
    bobs = bob.document.get_model_by_id("note")
    bob.document.get_model_by_id("board-a").notes.insert(0, bobs)  # type: ignore[union-attr]
    bob.document.get_model_by_id("board-a").notes.append(Note(id="bobs-note"))  # type: ignore[union-attr]
    assert session.send("bob") == 1
    # Her object of the note (one object per id), where the server put it.
    assert [n.id for n in alice.document.get_model_by_id("board-a").notes] == ["note", "bobs-note"]  # type: ignore[union-attr]
    assert alice.document.get_model_by_id("note") is taken
    session.settle()  # her removal from the first board
    assert [m.content.get("rejected", 0) for m in session.answers["alice"]] == [0]
    assert [n.id for n in session.document.get_model_by_id("board-a").notes] == ["note", "bobs-note"]  # type: ignore[union-attr]
    assert session.document.get_model_by_id("board-b").notes == []  # type: ignore[union-attr]
    assert _text(alice.document) == _text(session.document) == _text(bob.document)


def test_a_servers_move_of_a_model_taken_out_and_dropped_here_is_corrected_once_the_removal_arrives() -> None:
    # As above, but alice's application kept no object of the note (dropped, collected):
    # nothing is held to attach, so her decode still skips bob's splice (its item names a
    # model she neither holds nor is defined). The server sent her the note as a reference
    # (it held it); once her removal (based before bob's move) arrives and the note is
    # still held, it corrects the board bob's move put it in, defining it (protocol.md §9).
    # Before: her first board stayed [] while the server's and bob's were ["note"], for good.
    session, alice, bob = _two_boards()
    alice.document.get_model_by_id("board-b").notes.pop(0)  # type: ignore[union-attr]  # waiting
    gc.collect()  # (her application kept no object of it)
    assert alice.document.departed_model("note") is None
    bob.document.get_model_by_id("board-a").notes.insert(0, bob.document.get_model_by_id("note"))  # type: ignore[union-attr]
    assert session.send("bob") == 1
    assert alice.document.get_model_by_id("board-a").notes == []  # type: ignore[union-attr]  # (skipped)
    session.settle()  # her removal, then the correction
    assert [m.content.get("rejected", 0) for m in session.answers["alice"]] == [0]
    assert [n.id for n in alice.document.get_model_by_id("board-a").notes] == ["note"]  # type: ignore[union-attr]
    assert alice.document.get_model_by_id("note").tags == ["a"]  # type: ignore[union-attr]
    assert _text(alice.document) == _text(session.document) == _text(bob.document)
    assert not _troubles(alice) and not _troubles(bob)


def test_an_object_changed_while_out_and_moved_meanwhile_takes_the_servers_values() -> None:
    # As above, the application holding the note out and changing it (its tags, never sent:
    # the note is in no document). Bob's move attaches her object where the server put it,
    # with her values; the server's correction of that board, once her removal arrives,
    # defines the note, and her object takes the definition's values (one object per id).
    # Before: her note kept ["changed while out"], the server's and bob's ["a"], for good.
    session, alice, bob = _two_boards()
    taken = alice.document.get_model_by_id("board-b").notes.pop(0)  # type: ignore[union-attr]  # waiting
    taken.tags = ["changed while out"]
    bob.document.get_model_by_id("board-a").notes.insert(0, bob.document.get_model_by_id("note"))  # type: ignore[union-attr]
    assert session.send("bob") == 1
    assert alice.document.get_model_by_id("note") is taken  # (revived, with her values)
    session.settle()
    assert alice.document.get_model_by_id("note") is taken
    assert taken.tags == ["a"]
    assert _text(alice.document) == _text(session.document) == _text(bob.document)
    assert not _troubles(alice) and not _troubles(bob)


def test_a_list_left_stale_stops_being_so_when_its_own_put_back_defines_its_model() -> None:
    # (Child moves in memory, seed 5700004569.) Alice's deletion of her own note's first
    # tag conflicted with bob's (her tags stale until their correction); she took the note
    # out before the correction came, and skipped it (not holding the note). Her removal
    # taken, she put the note back: the server made it from her definition, its tags hers,
    # and she went on skipping the server's splices of them for good: they were still stale.
    session = Session()
    alice, bob = session.connect("alice"), session.connect("bob")
    mine = Note(id="alice-note", tags=["a", "b", "c"])
    alice.document.add_root(mine)
    session.settle()
    mine.tags.pop(0)  # waiting
    bob.document.get_model_by_id("alice-note").tags.pop(0)  # type: ignore[union-attr]
    assert session.send("bob") == 1  # her deletion conflicts with his: her tags stale
    assert alice._stale == {("alice-note", "tags")}
    alice.flush()
    (deletion,) = alice.messages_to_send()  # in flight: it loses
    alice.document.remove_root(mine)  # waiting: the note out
    outcome = session.sequencer.handle_patch("alice", 0, _wire(deletion))
    alice.receive_message(_wire(outcome.answer))
    assert outcome.answer.content.get("rejected") == 1
    assert outcome.changes is not None
    for name, client in session.clients.items():  # (the tags' correction: skipped by alice, the note out)
        for patch in outcome.changes.messages_for(name):
            client.receive_message(_wire(patch))
    del outcome, deletion
    assert session.send("alice") == 1  # her removal, taken
    assert session.answers["alice"][-1].content.get("rejected", 0) == 0
    gc.collect()  # (the server's note gone: her put-back makes it anew from her definition)
    assert session.document.departed_model("alice-note") is None
    alice.document.add_root(mine)
    assert session.send("alice") == 1  # the put-back, defining the note
    assert session.answers["alice"][-1].content.get("rejected", 0) == 0
    assert session.document.get_model_by_id("alice-note").tags == ["b", "c"]  # type: ignore[union-attr]
    assert not alice._stale
    # The server's splices of the tags reach her from then on (before: skipped, for good).
    bob.document.get_model_by_id("alice-note").tags.insert(0, "bob's")  # type: ignore[union-attr]
    assert session.send("bob") == 1
    assert mine.tags == ["bob's", "b", "c"]
    session.settle()
    assert _text(alice.document) == _text(session.document) == _text(bob.document)


def test_a_servers_change_skipped_while_its_model_is_out_reaches_the_object_a_servers_value_puts_back() -> None:
    # (Child moves in memory, seed 6500002493.) Alice takes card-0 out of the left pile, her
    # removal waiting (a patch of hers in flight). Bob changes the card's text: skipped by
    # alice, the card out. Bob then sets the left pile anew, the card still in it: his value
    # supersedes her waiting removal (never sent, so nothing of the card is corrected) and
    # attaches her object where the server holds the card. It kept the text from before
    # bob's change, for good (in the run, a ``counts`` item bob had deleted, which her own
    # deletion of it later found gone: refused). Her object now takes the server's changes
    # skipped while it is out, as it takes its splices.
    session = Session()
    alice, bob = session.connect("alice"), session.connect("bob")
    alice.document.get_model_by_id("card-1").text = "first"  # type: ignore[union-attr]
    alice.flush()
    (first,) = alice.messages_to_send()  # in flight: the removal waits
    taken = _pile(alice, "left").cards.pop(0)
    bob.document.get_model_by_id("card-0").text = "bob's"  # type: ignore[union-attr]
    assert session.send("bob") == 1
    assert taken.document is None and taken.text == "bob's"  # skipped, the card out: her object takes it
    bobs = _pile(bob, "left")
    bobs.cards = [bobs.cards[2], bobs.cards[0], bobs.cards[1]]
    assert session.send("bob") == 1  # her waiting removal superseded: the card back, her object
    assert alice.document.get_model_by_id("card-0") is taken
    outcome = session.sequencer.handle_patch("alice", 0, _wire(first))
    alice.receive_message(_wire(outcome.answer))
    assert outcome.changes is not None
    for patch in outcome.changes.messages_for("bob"):
        bob.receive_message(_wire(patch))
    session.settle()
    assert _cards(session.document, "left") == ["card-2", "card-0", "card-1"]
    assert session.document.get_model_by_id("card-0").text == "bob's"  # type: ignore[union-attr]
    assert _text(alice.document) == _text(session.document) == _text(bob.document)
