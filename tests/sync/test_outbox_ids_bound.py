"""The ids a client's outbox keeps stay bounded over a long session of models made and taken out.

``Outbox.server_ids`` (the models the server holds, referred to and never defined) and
``_own`` (those of them this client defined) lost an id only when the server's change
detached its model: one this client took out itself stayed for the whole session (it may
put it back), so a page adding and removing rows grew both by an id per row. Now the ids
of models nothing holds any more (neither the document nor the application) are dropped.
In memory: a Sequencer and ClientProtocols, every message through the wire's frames.
"""

from __future__ import annotations

from docsync.protocol.msgtypes import OK
from docsync.sync.outbox import MIN_IDS_LOOKED_AT

from .test_client_moves_server_models import Card, Session, _cards, _pile, _text, _troubles, _wire

#: Each cycle adds 2 ids: a card alice makes and takes out, one bob makes that alice takes out.
CYCLES = MIN_IDS_LOOKED_AT


def test_models_made_and_taken_out_leave_no_ids_behind() -> None:
    session = Session()
    session.sequencer.max_client_models = 10 * CYCLES
    alice, bob = session.connect("alice"), session.connect("bob")
    kept = _pile(alice, "left").cards[0]  # a server's model alice takes out and holds on to
    _pile(alice, "left").cards.remove(kept)
    session.settle()
    most_held = most_own = 0
    for cycle in range(CYCLES):
        right = _pile(alice, "right")
        right.cards.append(Card(text=f"alice {cycle}"))  # her own: defined, then held
        session.settle()
        right.cards.pop()
        session.settle()
        _pile(bob, "right").cards.append(Card(text=f"bob {cycle}"))  # the server's to alice
        session.settle()
        _pile(alice, "right").cards.pop()
        session.settle()
        most_held = max(most_held, len(alice.outbox.server_ids))
        most_own = max(most_own, len(alice.outbox._own))
    print(f"{CYCLES} cycles: server_ids at most {most_held}, _own at most {most_own}")
    # Looked at once they double past MIN_IDS_LOOKED_AT: a few models live, the rest gone.
    assert most_held <= MIN_IDS_LOOKED_AT + 1, most_held
    assert most_own <= MIN_IDS_LOOKED_AT + 1, most_own
    assert kept.id in alice.outbox.server_ids  # still held by the application: kept
    # Put back, it still goes as a reference (defined, the server refused the whole patch).
    _pile(alice, "left").cards.insert(0, kept)
    alice.flush()
    (put_back,) = alice.messages_to_send()
    assert put_back.content["references"] == []
    outcome = session.sequencer.handle_patch("alice", 0, _wire(put_back))
    assert outcome.answer.msgtype == OK and outcome.changes is not None
    alice.receive_message(_wire(outcome.answer))
    for patch in outcome.changes.messages_for("bob"):
        bob.receive_message(_wire(patch))
    assert _cards(session.document, "left")[0] == kept.id
    assert _text(alice.document) == _text(session.document) == _text(bob.document)
    assert not _troubles(alice) and not _troubles(bob)
