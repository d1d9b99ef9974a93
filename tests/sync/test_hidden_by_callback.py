"""A patch cannot put back, name or change a model that a callback of its own earlier event took out.

The server reads a patch's references before it applies any event. An event whose
callback made the application hide a model (a card taken out of its pile, kept by the
application to show again) left the later events of the same patch holding the hidden
model: a ``RootAdded`` of it, or a splice inserting it, put the application's hidden
model back, for every client of the session. From a later patch the same reference
loses (protocol.md §9, §13); now it loses within the patch too, and its sender is
corrected (reset, for a root). In memory: a Sequencer and ClientProtocols, every message
through the wire's frames.
"""

from __future__ import annotations

from typing import Any

from docsync.document import Document, Model
from docsync.document.properties import Instance, List, String
from docsync.protocol import Message, Receiver, new_message
from docsync.protocol.msgtypes import ACK, OK, PATCH_DOC
from docsync.protocol.wire_json import dumps
from docsync.sync import ChangesLost, ClientProtocol, ErrorReported
from docsync.sync.sequencer import PatchOutcome, Sequencer


class Card(Model):
    """A card: its text a client may change."""

    __type_name__ = "test_hidden.Card"
    __client_writable__ = frozenset({"text"})
    text = String("")


class Pile(Model):
    """A list of cards a client may change."""

    __type_name__ = "test_hidden.Pile"
    __client_writable__ = frozenset({"cards"})
    cards = List(Instance(Card))


class Switch(Model):
    """A choice a client may make; the application's callback hides a card for "hide"."""

    __type_name__ = "test_hidden.Switch"
    __client_writable__ = frozenset({"value"})
    value = String("show")


def _wire(message: Message) -> Message:
    """``message`` as its receiver reads it, from its frames."""
    receiver = Receiver()
    read = None
    for frame in message.to_frames():
        read = receiver.receive(frame if isinstance(frame, str | bytes) else bytes(frame))
    assert read is not None
    return read


def _text(document: Document) -> str:
    doc_json = document.to_json()[0]
    return dumps({**doc_json, "models": sorted(doc_json["models"], key=lambda m: m["id"])})


class Session:
    """The application: two piles, a switch whose callback takes card-0 out of the left pile (and keeps it)."""

    def __init__(self) -> None:
        self.document = Document()
        self.cards = [Card(id=f"card-{i}", text=f"card {i}") for i in range(2)]
        self.left, self.right = Pile(id="left", cards=list(self.cards)), Pile(id="right")
        self.switch = Switch(id="switch")

        def hide(attr: str, old: str, new: str) -> None:
            self.left.cards = [card for card in self.cards if new != "hide" or card.id != "card-0"]

        self.switch.on_change("value", hide)
        for root in (self.left, self.right, self.switch):
            self.document.add_root(root)
        self.sequencer = Sequencer(
            self.document,
            allow_client_structure=True,
            log_entries=100,
            log_bytes=1 << 20,
            max_client_models=100,
            max_array_elements=1000,
        )
        self.clients: dict[str, ClientProtocol] = {}

    def connect(self, name: str) -> ClientProtocol:
        """A client live on the session's document."""
        client = ClientProtocol(Document(), client_id=name)
        client.connection_made()
        client.receive_message(_wire(new_message(ACK)))
        (request,) = client.messages_to_send()
        client.receive_message(_wire(self.sequencer.pull(request)))
        client.events_received()
        self.clients[name] = client
        return client

    def patch(self, name: str, events: list[dict[str, Any]], references: list[dict[str, Any]] | None = None) -> Any:
        """Apply a patch of ``name`` based on the current position; deliver what it caused to the clients."""
        content = {"events": events, "references": references or [], "base": self.sequencer.seq}
        return self.deliver(name, self.sequencer.handle_patch(name, 0, _wire(new_message(PATCH_DOC, content))))

    def deliver(self, name: str, outcome: PatchOutcome) -> PatchOutcome:
        """Send what ``outcome`` holds to each client, as the server does."""
        if name in self.clients:
            self.clients[name].receive_message(_wire(outcome.answer))
        if outcome.changes is not None:
            for other, client in self.clients.items():
                for message in outcome.changes.messages_for(other):
                    client.receive_message(_wire(message))
        if outcome.reset is not None and name in self.clients:
            self.clients[name].receive_message(_wire(outcome.reset))
        return outcome

    def hidden(self) -> str:
        """The document as the application leaves it when it hides card-0 (a twin session, the switch alone)."""
        twin = Session()
        twin.switch.value = "hide"
        return _text(twin.document)


def _choose(value: str) -> dict[str, Any]:
    return {"kind": "ModelChanged", "model": {"id": "switch"}, "attr": "value", "new": value}


def _sent_to_others(outcome: PatchOutcome, name: str = "bob") -> list[dict[str, Any]]:
    return [m.content for m in outcome.changes.messages_for(name)] if outcome.changes is not None else []


def _names_card_0(content: dict[str, Any]) -> bool:
    return "card-0" in dumps([content["events"], content.get("references", [])])


def _troubles(client: ClientProtocol) -> list[Any]:
    return [e for e in client.events_received() if isinstance(e, ChangesLost | ErrorReported)]


def test_a_root_put_back_in_the_patch_whose_callback_hid_it_loses_and_its_sender_is_reset() -> None:
    session = Session()
    bob = session.connect("bob")
    outcome = session.patch("mallory", [_choose("hide"), {"kind": "RootAdded", "model": {"id": "card-0"}}])
    assert outcome.answer.msgtype == OK, outcome.answer.content
    assert outcome.answer.content["rejected"] == 1 and outcome.answer.content["lost"] == [1]
    assert outcome.reset is not None  # the roots it sent differ from the server's
    assert session.document.get_model_by_id("card-0") is None
    assert [root.id for root in session.document.roots] == ["left", "right", "switch"]
    assert _text(session.document) == session.hidden()
    sent = _sent_to_others(outcome)
    assert sent and not any(_names_card_0(content) and "RootAdded" in dumps(content) for content in sent)
    assert _text(bob.document) == _text(session.document) and not _troubles(bob)
    # The application shows its card again, its own.
    session.switch.value = "show"
    assert session.document.get_model_by_id("card-0") is session.cards[0]


def test_a_move_into_a_list_in_the_patch_whose_callback_hid_the_card_loses_and_is_corrected() -> None:
    # A client that moves the card itself, unaware of the callback, sends the same patch.
    session = Session()
    alice, bob = session.connect("alice"), session.connect("bob")
    document = alice.document
    document.get_model_by_id("switch").value = "hide"  # type: ignore[union-attr]
    document.get_model_by_id("right").cards.append(document.get_model_by_id("card-0"))  # type: ignore[union-attr]
    alice.flush()
    (message,) = alice.messages_to_send()
    outcome = session.deliver("alice", session.sequencer.handle_patch("alice", 0, _wire(message)))
    assert outcome.answer.msgtype == OK and outcome.answer.content["rejected"] == 1, outcome.answer.content
    assert outcome.reset is None  # a list: corrected, its sender not reset
    assert session.right.cards == [] and session.document.get_model_by_id("card-0") is None
    assert _text(session.document) == session.hidden()
    assert not any(_names_card_0(content) for content in _sent_to_others(outcome))
    assert _text(alice.document) == _text(session.document) == _text(bob.document)
    assert not _troubles(bob)


def test_a_change_of_the_card_the_callback_hid_in_the_same_patch_loses() -> None:
    session = Session()
    outcome = session.patch(
        "mallory", [_choose("hide"), {"kind": "ModelChanged", "model": {"id": "card-0"}, "attr": "text", "new": "x"}]
    )
    assert outcome.answer.content["rejected"] == 1 and outcome.answer.content["lost"] == [1], outcome.answer.content
    assert session.cards[0].text == "card 0"  # the application's hidden card, as it left it
    assert _text(session.document) == session.hidden()


def test_a_new_model_holding_the_card_the_callback_hid_loses() -> None:
    # The card attached by a reference inside a definition the patch reads before any event.
    session = Session()
    mine = {"type": "object", "name": "test_hidden.Pile", "id": "mine", "attributes": {"cards": [{"id": "card-0"}]}}
    outcome = session.patch(
        "mallory", [_choose("hide"), {"kind": "RootAdded", "model": {"id": "mine"}}, _choose("shown?")], [mine]
    )
    assert outcome.answer.content["rejected"] == 1 and outcome.answer.content["lost"] == [1], outcome.answer.content
    assert session.document.get_model_by_id("mine") is None
    # A later event of the patch that names none of it is taken (and its callback shows the card).
    assert session.switch.value == "shown?" and session.document.get_model_by_id("card-0") is session.cards[0]


def test_later_splices_of_a_list_whose_splice_lost_lose_too() -> None:
    session = Session()
    bob = session.connect("bob")
    card = {"type": "object", "name": "test_hidden.Card", "id": "c-new", "attributes": {"text": "new"}}
    splice = {"kind": "ListSpliced", "model": {"id": "right"}, "attr": "cards", "delete": 0}
    outcome = session.patch(
        "mallory",
        [
            _choose("hide"),
            {**splice, "index": 0, "items": [{"id": "card-0"}]},
            {**splice, "index": 1, "items": [{"id": "c-new"}]},
        ],
        [card],
    )
    assert outcome.answer.content["rejected"] == 2 and outcome.answer.content["lost"] == [1, 2], outcome.answer.content
    assert session.right.cards == [] and _text(session.document) == session.hidden()
    assert _text(bob.document) == _text(session.document)


def test_a_client_s_own_move_in_one_patch_is_still_taken() -> None:
    # Only changes of others count: the sender's own removal of a card, then its insertion.
    session = Session()
    bob = session.connect("bob")
    outcome = session.patch(
        "alice",
        [
            {"kind": "ModelChanged", "model": {"id": "left"}, "attr": "cards", "new": [{"id": "card-1"}]},
            {"kind": "ModelChanged", "model": {"id": "right"}, "attr": "cards", "new": [{"id": "card-0"}]},
        ],
    )
    assert outcome.answer.msgtype == OK and outcome.answer.content["rejected"] == 0, outcome.answer.content
    assert session.right.cards == [session.cards[0]]
    assert _text(bob.document) == _text(session.document)
