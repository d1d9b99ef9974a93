"""Sequencer: the server's side of the session protocol, driven in memory with plain messages."""

from __future__ import annotations

from typing import Any

import pytest

from docsync.document import Document, Model
from docsync.document.properties import Float, List, String
from docsync.protocol import Message, new_message
from docsync.protocol.msgtypes import ERROR, OK, PATCH_DOC, PULL_DOC_REQ, PUSH_DOC, RESUME_REQ
from docsync.protocol.wire_json import dumps
from docsync.sync.sequencer import Changes, Sequencer, client_id_in


class Card(Model):
    """A model whose value and list a client may change."""

    __type_name__ = "test_sequencer.Card"
    __client_writable__ = frozenset({"value", "tags"})
    value = Float(0.0)
    tags = List(String())


def _sequencer(**options: Any) -> tuple[Sequencer, Card]:
    document = Document()
    card = Card(id="card", value=1.0, tags=["a", "b"])
    document.add_root(card)
    settings: dict[str, Any] = {
        "allow_client_structure": True,
        "log_entries": 100,
        "log_bytes": 1 << 20,
        "max_client_models": 100,
        "max_array_elements": 1000,
        **options,
    }
    return Sequencer(document, **settings), card


def _patch(base: Any, *events: dict[str, Any], msgid: str | None = None) -> Message:
    message = new_message(PATCH_DOC, {"events": list(events), "base": base})
    if msgid is not None:
        message.header["msgid"] = msgid
    return message


def _value(new: float) -> dict[str, Any]:
    return {"kind": "ModelChanged", "model": {"id": "card"}, "attr": "value", "new": new}


def _splice(index: int, delete: int, items: list[str]) -> dict[str, Any]:
    return {"kind": "ListSpliced", "model": {"id": "card"}, "attr": "tags", "index": index, "delete": delete,
            "items": items}  # fmt: skip


def _events(changes: Changes | None, origin: str | None) -> list[dict[str, Any]]:
    message = changes.message_for(origin) if changes is not None else None
    return [] if message is None else list(message.content["events"])


def test_a_patch_is_applied_at_the_next_position_and_sent_to_everyone_but_its_sender() -> None:
    sequencer, card = _sequencer()
    outcome = sequencer.handle_patch("alice", 0, _patch(0, _value(5.0)))
    assert card.value == 5.0 and sequencer.seq == 1
    assert outcome.answer.msgtype == OK
    assert outcome.answer.content == {"seq": 1, "rejected": 0, "applied_seq": 1}
    assert outcome.changes is not None and outcome.changes.seq == 1
    assert _events(outcome.changes, "alice") == []
    assert _events(outcome.changes, "bob") == [_value(5.0)]
    assert outcome.reset is None


def test_the_later_of_two_changes_made_on_the_same_position_loses_and_is_corrected() -> None:
    sequencer, card = _sequencer()
    sequencer.handle_patch("alice", 0, _patch(0, _value(5.0)))
    outcome = sequencer.handle_patch("bob", 0, _patch(0, _value(7.0)))
    assert card.value == 5.0
    assert outcome.answer.content == {"seq": 1, "rejected": 1, "applied_seq": 2, "lost": [0]}
    # The winning value goes to everyone at a position of its own, the loser included.
    assert _events(outcome.changes, "bob") == [_value(5.0)] == _events(outcome.changes, "alice")
    # Made after seeing position 1, the same change wins.
    sequencer.handle_patch("bob", 0, _patch(2, _value(7.0)))
    assert card.value == 7.0


def test_a_resent_patch_is_applied_once_and_answered_the_same() -> None:
    sequencer, card = _sequencer()
    first = sequencer.handle_patch("alice", 0, _patch(0, _splice(2, 0, ["c"]), msgid="m1"))
    again = sequencer.handle_patch("alice", 0, _patch(0, _splice(2, 0, ["c"]), msgid="m1"))
    assert card.tags == ["a", "b", "c"] and sequencer.seq == 1
    assert again.answer.content["applied_seq"] == first.answer.content["applied_seq"] == 1
    assert again.changes is None
    # Another client may use the same msgid: it is another patch.
    sequencer.handle_patch("bob", 0, _patch(1, _splice(0, 0, ["z"]), msgid="m1"))
    assert card.tags == ["z", "a", "b", "c"]


@pytest.mark.parametrize(
    ("patch", "code"),
    [(_patch("3", _value(5.0)), "bad-patch"), (_patch(0, {"kind": "Nonsense"}), "patch-refused")],
    ids=["base-not-int", "unknown-kind"],
)
def test_a_patch_that_cannot_be_read_changes_nothing(patch: Message, code: str) -> None:
    sequencer, card = _sequencer()
    before = (sequencer.seq, card.value, list(card.tags))
    outcome = sequencer.handle_patch("alice", 0, patch)
    assert outcome.answer.msgtype == ERROR and outcome.answer.content["code"] == code
    assert outcome.changes is None
    assert (sequencer.seq, card.value, list(card.tags)) == before


def test_a_patch_the_document_refuses_changes_nothing_and_its_sender_is_corrected() -> None:
    sequencer, card = _sequencer()
    name = {"kind": "ModelChanged", "model": {"id": "card"}, "attr": "name", "new": "x"}  # not client-writable
    outcome = sequencer.handle_patch("alice", 0, _patch(0, _value(5.0), name))
    assert outcome.answer.msgtype == ERROR and outcome.answer.content["code"] == "patch-refused"
    assert card.value == 1.0 and card.name is None
    # The sender already shows its change: the values it touched are sent again.
    assert {(e["attr"], e["new"]) for e in _events(outcome.changes, "alice")} == {("value", 1.0), ("name", None)}


def test_concurrent_splices_of_one_list_are_shifted_not_rejected() -> None:
    sequencer, card = _sequencer()
    sequencer.handle_patch("alice", 0, _patch(0, _splice(2, 0, ["alice"])))
    outcome = sequencer.handle_patch("bob", 0, _patch(0, _splice(0, 0, ["bob"])))
    assert card.tags == ["bob", "a", "b", "alice"]
    assert outcome.answer.content["rejected"] == 0
    # A splice deleting an item another client deleted meanwhile loses.
    sequencer.handle_patch("alice", 0, _patch(2, _splice(1, 1, [])))  # alice deletes "a"
    lost = sequencer.handle_patch("bob", 0, _patch(2, _splice(1, 1, ["A"])))  # bob replaces "a"
    assert lost.answer.content["rejected"] == 1 and card.tags == ["bob", "b", "alice"]


def _new_root(base: int, model_id: str, *more: dict[str, Any]) -> Message:
    new = {"type": "object", "name": "test_sequencer.Card", "id": model_id, "attributes": {"value": 2.0}}
    events = [{"kind": "RootAdded", "model": {"id": model_id}}, *more]
    return new_message(PATCH_DOC, {"events": events, "references": [new], "base": base})


def test_a_lost_structural_change_resets_its_sender_and_fences_its_older_patches() -> None:
    sequencer, _card = _sequencer()
    sequencer.handle_patch("alice", 0, _patch(0, {"kind": "RootRemoved", "model": {"id": "card"}}))
    assert sequencer.document.roots == ()
    outcome = sequencer.handle_patch("bob", 0, _new_root(0, "bobs"))
    assert outcome.answer.content["rejected"] == 1 and sequencer.document.roots == ()
    assert outcome.reset is not None and outcome.reset.msgtype == PUSH_DOC
    # The reset takes a position of its own (nothing else changed: no correction).
    assert outcome.fence == outcome.reset.content["seq"] == sequencer.seq == 2
    assert sequencer.fence("bob") == 2 and sequencer.fence("alice") == 0
    # A patch bob made on the document it had before the reset loses whole.
    stale = sequencer.handle_patch("bob", 0, _patch(1, {"kind": "TitleChanged", "title": "bob's"}))
    assert stale.answer.content["rejected"] == 1 and sequencer.document.title != "bob's"


def test_too_many_client_models_refuse_the_whole_patch() -> None:
    sequencer, card = _sequencer(max_client_models=0)
    message = _new_root(0, "new", _value(9.0))
    outcome = sequencer.handle_patch("alice", 0, message)
    assert outcome.answer.msgtype == ERROR and "too many models" in outcome.answer.content["text"]
    assert card.value == 1.0 and [r.id for r in sequencer.document.roots] == ["card"]
    # Refused: remembered as refused, answered the same when resent.
    assert sequencer.handle_patch("alice", 0, message).answer.content == outcome.answer.content


def test_a_patch_is_judged_before_it_is_applied() -> None:
    sequencer, card = _sequencer()
    step = sequencer.receive_patch("alice", 0, _patch(0, _value(5.0)))
    assert step.answer is None and [e.attr for e in step.events] == ["value"]  # type: ignore[attr-defined]
    assert card.value == 1.0 and sequencer.seq == 0
    sequencer.apply(step)
    assert card.value == 5.0 and sequencer.seq == 0  # the position is taken when answered
    outcome = sequencer.answer_patch(step)
    assert outcome.answer.content["applied_seq"] == sequencer.seq == 1
    answered = sequencer.receive_patch("alice", 0, _patch(0, _value(5.0), msgid=step.msgid))
    with pytest.raises(ValueError, match="nothing to apply"):
        sequencer.apply(answered)


def test_changes_made_by_the_server_take_a_position_when_flushed() -> None:
    sequencer, card = _sequencer()
    assert sequencer.flush() is None
    card.value = 3.0
    card.tags.append("c")
    changes = sequencer.flush()
    assert changes is not None and changes.seq == sequencer.seq == 1
    assert [e["kind"] for e in _events(changes, "anyone")] == ["ModelChanged", "ListSpliced"]
    assert sequencer.flush() is None


def test_every_connection_that_made_none_of_the_changes_gets_one_and_the_same_message() -> None:
    sequencer, _ = _sequencer()
    outcome = sequencer.handle_patch("alice", 0, _patch(0, _value(5.0)))
    changes = outcome.changes
    assert changes is not None
    for_bob, for_carol, for_server = (changes.message_for(o) for o in ("bob", "carol", None))
    assert for_bob is not None and for_bob is for_carol is for_server  # built and encoded once
    assert changes.message_for("alice") is None


def test_a_change_message_is_encoded_once_and_only_when_its_frames_are_asked_for() -> None:
    sequencer, card = _sequencer()
    card.value = 3.0
    changes = sequencer.flush()
    assert changes is not None
    message = changes.message_for("anyone")
    assert message is not None and message is changes.message_for("anyone")
    frames = message.to_frames()
    assert message.to_frames() is frames  # the same frames for every socket
    assert frames[2] == dumps(message.content) and '"new":3.0' in frames[2]


def test_a_change_the_wire_cannot_carry_fails_when_its_frames_are_built() -> None:
    # (The server builds them before any socket has the message: see ServerSession._broadcast.)
    sequencer, card = _sequencer()
    card.tags.append("\ud800")  # a lone surrogate: no UTF-8 text frame can carry it
    changes = sequencer.flush()
    assert changes is not None
    message = changes.message_for("anyone")
    assert message is not None
    with pytest.raises(TypeError):
        message.to_frames()


def _resume(last_seq: Any, **content: Any) -> Message:
    return new_message(RESUME_REQ, {"last_seq": last_seq, "client_id": "alice", **content})


def test_a_resume_replays_what_the_client_missed_without_its_own_changes() -> None:
    sequencer, _card = _sequencer()
    sequencer.handle_patch("alice", 0, _patch(0, _value(2.0), msgid="mine"))
    sequencer.handle_patch("bob", 0, _patch(1, _value(3.0)))
    resumed = sequencer.resume("alice", _resume(0, incarnation=sequencer.incarnation, pending=["mine"]),
                               created_session=False)  # fmt: skip
    reply = resumed.reply.content
    assert reply["mode"] == "replay" and resumed.fence is None
    assert [p["seq"] for p in reply["patches"]] == [2]  # position 1 holds only alice's own change
    assert reply["answers"] == [{"msgid": "mine", "seq": 1, "rejected": 0, "lost": []}]


def test_a_resume_the_log_cannot_serve_gets_the_whole_document_and_a_fence() -> None:
    sequencer, _card = _sequencer(log_entries=1)
    for n in range(3):
        sequencer.handle_patch("bob", 0, _patch(n, _value(float(n))))
    resumed = sequencer.resume("alice", _resume(0), created_session=False)
    assert resumed.reply.content["mode"] == "full" and resumed.reply.content["fresh"] is False
    assert resumed.fence == sequencer.seq == 3 and sequencer.fence("alice") == 3


def test_a_resume_into_another_incarnation_is_fresh_and_fences_everything_before() -> None:
    sequencer, _card = _sequencer()
    resumed = sequencer.resume("alice", _resume(40, incarnation="gone"), created_session=False)
    assert resumed.reply.content["mode"] == "full" and resumed.reply.content["fresh"] is True
    assert sequencer.seq == 41 and resumed.fence == 41  # after every base the old session gave
    assert sequencer.handle_patch("alice", 0, _patch(40, _value(9.0))).answer.content["rejected"] == 1


def test_pull_and_push() -> None:
    sequencer, card = _sequencer()
    pulled = sequencer.pull(new_message(PULL_DOC_REQ, {"client_id": "alice"}))
    assert pulled.content["seq"] == 0 and pulled.content["incarnation"] == sequencer.incarnation
    refused = sequencer.push(new_message(PUSH_DOC, {"doc": {"roots": "nonsense"}}), "alice")
    assert refused is not None and refused.content["code"] == "bad-document"
    assert sequencer.document.get_model_by_id("card") is card
    request = new_message(PUSH_DOC, {"doc": pulled.content["doc"]})
    assert sequencer.push(request, "alice") is None
    assert sequencer.client_models == len(sequencer.document.models)
    # The replacement is alice's: sent to the others, never back to her (she holds it).
    changes = sequencer.flush()
    assert changes is not None and changes.message_for("alice") is None
    assert changes.message_for("bob") is not None
    assert sequencer.push_answer(request).content == {"seq": sequencer.seq} == {"seq": changes.seq}


@pytest.mark.parametrize(("client_id", "adopted"), [("c1", "c1"), ("", None), ("x" * 65, None), (7, None)])
def test_client_ids_are_1_to_64_characters(client_id: Any, adopted: str | None) -> None:
    assert client_id_in(new_message(PULL_DOC_REQ, {"client_id": client_id})) == adopted


def _new_tabs(*events: dict[str, Any]) -> Message:
    """A client patch making a root Tabs of two panels, then changing it by ``events``."""
    references = [
        {"type": "object", "name": "Tabs", "id": "tabs", "attributes": {"tabs": [{"id": "p0"}, {"id": "p1"}]}},
        {"type": "object", "name": "TabPanel", "id": "p0", "attributes": {"title": "a"}},
        {"type": "object", "name": "TabPanel", "id": "p1", "attributes": {"title": "b"}},
    ]
    content = {"events": [{"kind": "RootAdded", "model": {"id": "tabs"}}, *events], "references": references}
    return new_message(PATCH_DOC, {**content, "base": 0})


def _tabs_set(attr: str, new: Any) -> dict[str, Any]:
    return {"kind": "ModelChanged", "model": {"id": "tabs"}, "attr": attr, "new": new}


def test_a_value_judged_by_one_the_same_patch_changed_before_is_refused_whole() -> None:
    # The tabs go, then active names the second: refused, not applied up to the active.
    sequencer, _card = _sequencer()
    outcome = sequencer.handle_patch("alice", 0, _new_tabs(_tabs_set("tabs", []), _tabs_set("active", 1)))
    assert outcome.answer.msgtype == ERROR and outcome.answer.content["code"] == "patch-refused"
    assert "Tabs.active 1 is out of range: 0 tabs" in outcome.answer.content["text"]
    assert [r.id for r in sequencer.document.roots] == ["card"]
    assert sequencer.document.get_model_by_id("tabs") is None
    # In the other order (from another client: alice is fenced till her correction), the
    # active is judged against the two tabs it meets, and again against the tabs that
    # follow: a client's patch must leave every value valid by itself (the server does not
    # bring it back within the check behind the sender's back).
    outcome = sequencer.handle_patch("bob", 0, _new_tabs(_tabs_set("active", 1), _tabs_set("tabs", [{"id": "p1"}])))
    assert outcome.answer.msgtype == ERROR and "Tabs.active 1 is out of range: 1 tabs" in outcome.answer.content["text"]
    assert sequencer.document.get_model_by_id("tabs") is None
    two = [{"id": "p1"}, {"id": "p0"}]
    outcome = sequencer.handle_patch("carol", 0, _new_tabs(_tabs_set("active", 1), _tabs_set("tabs", two)))
    assert outcome.answer.msgtype == OK
    tabs = sequencer.document.get_model_by_id("tabs")
    assert tabs is not None and tabs.active == 1 and [p.id for p in tabs.tabs] == ["p1", "p0"]  # type: ignore[attr-defined]


def test_a_patch_docs_content_frame_is_the_events_own_bytes_exactly_what_encoding_its_content_gives() -> None:
    # Each event is encoded once, when it happens (the log counts its size): the PATCH-DOC's
    # content frame is put together from those bytes, and must equal encoding it whole.
    sequencer, card = _sequencer()
    other = Card(id="other", value=2.5, tags=["é", "x"])
    card.value = 3.0
    card.tags.append("c")
    sequencer.document.add_root(other)  # an event with references
    changes = sequencer.flush()
    assert changes is not None and len(changes.events) == 3
    assert all(event.data is not None for event in changes.events)
    assert any(event.references_data for event in changes.events)
    message = changes.message_for(None)
    assert message is not None
    frames = message.to_frames()
    assert frames[2] == dumps(message.content)
    assert message.to_frames() is frames  # built once, for every connection


def test_an_event_the_wire_cannot_carry_fails_its_patch_doc_as_before() -> None:
    sequencer, card = _sequencer()
    card.value = 1.5
    changes = sequencer.flush()
    assert changes is not None
    changes.events[0].json["new"] = float("nan")  # a raw NaN: a bug upstream the wire refuses
    changes.events[0].data = None  # as encode_event leaves an event it could not encode
    message = changes.message_for(None)
    assert message is not None
    with pytest.raises(ValueError, match="not JSON compliant"):
        message.to_frames()


def test_a_filling_document_s_changes_are_not_encoded_and_restart_makes_it_position_0() -> None:
    # The application fills a new session's document before anyone holds it: those
    # changes would be thrown away by restart(), so they are not encoded (no copies).
    document = Document()
    sequencer = Sequencer(
        document, allow_client_structure=True, log_entries=100, log_bytes=1 << 20, max_client_models=100,
        max_array_elements=1000, filling=True,
    )  # fmt: skip
    card = Card(id="card", value=1.0, tags=["a"])
    document.add_root(card)
    card.value = 2.0
    assert sequencer.flush() is None and sequencer.seq == 0
    sequencer.restart()
    pulled = sequencer.pull(new_message(PULL_DOC_REQ, {}))
    assert pulled.content["seq"] == 0
    assert [m["attributes"]["value"] for m in pulled.content["doc"]["models"] if m["id"] == "card"] == [2.0]
    card.value = 3.0  # once restarted, changes are recorded again
    changes = sequencer.flush()
    assert (
        changes is not None
        and changes.seq == 1
        and _events(changes, "bob") == [{"kind": "ModelChanged", "model": {"id": "card"}, "attr": "value", "new": 3.0}]
    )


def test_a_change_after_a_callbacks_change_of_the_same_property_reaches_its_sender() -> None:
    # The patch sets the tags (a callback then sets the value to 47) and then the value
    # itself: the sender holds its own 3.0, and receives what the callbacks changed after
    # its own changes, so it must receive the value's final 3.0 after the callback's 47.
    sequencer, card = _sequencer()
    card.on_change("tags", lambda attr, old, new: setattr(card, "value", 47.0))
    tags = _splice(0, 0, ["z"])
    outcome = sequencer.handle_patch("alice", 0, _patch(0, tags, _value(3.0)))
    assert card.value == 3.0
    sent = _events(outcome.changes, "alice")
    assert [e["new"] for e in sent if e.get("attr") == "value"][-1] == 3.0, sent
    assert _events(outcome.changes, "bob")[-1] == _value(3.0)


def test_a_callbacks_change_after_the_patchs_own_needs_no_correction() -> None:
    sequencer, card = _sequencer()
    card.on_change("value", lambda attr, old, new: card.tags.append("seen"))
    outcome = sequencer.handle_patch("alice", 0, _patch(0, _value(3.0)))
    assert [e["kind"] for e in _events(outcome.changes, "alice")] == ["ListSpliced"]


def test_a_root_added_after_a_callback_added_one_resets_its_sender() -> None:
    # The sender would hold the roots in another order than the server: it is reset.
    sequencer, card = _sequencer()
    document = sequencer.document
    card.on_change("tags", lambda attr, old, new: document.add_root(Card(id="made")))
    added = {"kind": "RootAdded", "model": {"id": "n1"}}
    message = new_message(
        PATCH_DOC,
        {
            "events": [_splice(0, 0, ["z"]), added],
            "references": [{"type": "object", "name": Card.__type_name__, "id": "n1", "attributes": {}}],
            "base": 0,
        },
    )
    outcome = sequencer.handle_patch("alice", 0, message)
    assert [root.id for root in document.roots] == ["card", "made", "n1"]
    assert outcome.reset is not None and outcome.reset.msgtype == PUSH_DOC
