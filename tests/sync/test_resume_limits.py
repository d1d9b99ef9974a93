"""RESUME-REQ's client-chosen sizes: at most MAX_PENDING msgids looked up, last_seq at most MAX_POSITION."""

from __future__ import annotations

from typing import Any

from docsync.document import Document
from docsync.document.models import Slider
from docsync.protocol import ERROR, OK, PATCH_DOC, RESUME_REPLY, RESUME_REQ, new_message
from docsync.sync.patch_log import MAX_POSITION
from docsync.sync.resume import MAX_PENDING
from docsync.sync.sequencer import Sequencer


def _sequencer() -> Sequencer:
    document = Document()
    document.add_root(Slider(id="s", start=0, end=100, value=0))
    settings: dict[str, Any] = {"log_entries": 100, "log_bytes": 1 << 20, "max_client_models": 10}
    return Sequencer(document, allow_client_structure=True, max_array_elements=1000, **settings)


def _patch(msgid: str, value: float) -> Any:
    event = {"kind": "ModelChanged", "model": {"id": "s"}, "attr": "value", "new": value}
    message = new_message(PATCH_DOC, {"events": [event], "base": 0})
    message.header["msgid"] = msgid
    return message


def test_at_most_max_pending_msgids_are_answered() -> None:
    sequencer = _sequencer()
    msgids = [f"m{i}" for i in range(MAX_PENDING + 4)]
    for i, msgid in enumerate(msgids):
        assert sequencer.handle_patch("c1", 0, _patch(msgid, float(i + 1))).answer.msgtype == OK
    request = new_message(RESUME_REQ, {"last_seq": 0, "client_id": "c1", "incarnation": sequencer.incarnation})
    request.content["pending"] = msgids
    reply = sequencer.resume("c1", request, created_session=False).reply
    assert reply.msgtype == RESUME_REPLY
    assert [a["msgid"] for a in reply.content["answers"]] == msgids[:MAX_PENDING]


def test_last_seq_past_max_position_is_refused_and_moves_nothing() -> None:
    sequencer = _sequencer()
    before = sequencer.log.seq
    request = new_message(RESUME_REQ, {"last_seq": MAX_POSITION + 1, "client_id": "c1"})
    resumed = sequencer.resume("c1", request, created_session=False)
    assert resumed.reply.msgtype == ERROR and resumed.reply.content["code"] == "bad-request"
    assert resumed.fence is None and sequencer.log.seq == before and "c1" not in sequencer.fences
    request = new_message(RESUME_REQ, {"last_seq": MAX_POSITION, "client_id": "c1"})
    reply = sequencer.resume("c1", request, created_session=False).reply
    assert reply.content["mode"] == "full" and reply.content["seq"] == MAX_POSITION + 1


def test_a_pending_that_is_not_a_list_of_msgids_is_refused_and_moves_nothing() -> None:
    sequencer = _sequencer()
    assert sequencer.handle_patch("c1", 0, _patch("m1", 5.0)).answer.msgtype == OK
    before = (sequencer.log.seq, dict(sequencer.fences))
    for pending in ("m1", {"m1": 1}, ["m1", 7], [None], 3):
        request = new_message(RESUME_REQ, {"last_seq": 0, "client_id": "c1", "incarnation": sequencer.incarnation})
        request.content["pending"] = pending
        resumed = sequencer.resume("c1", request, created_session=False)
        assert resumed.reply.msgtype == ERROR, pending
        assert resumed.reply.content["code"] == "bad-request", resumed.reply.content
        assert resumed.reply.content["text"] == "pending must be a list of msgids (strings)"
        assert resumed.fence is None and (sequencer.log.seq, dict(sequencer.fences)) == before
    # A list of strings, or none at all, is answered as before.
    for pending in (["m1"], [], None):
        request = new_message(RESUME_REQ, {"last_seq": 0, "client_id": "c1", "incarnation": sequencer.incarnation})
        if pending is not None:
            request.content["pending"] = pending
        assert sequencer.resume("c1", request, created_session=False).reply.msgtype == RESUME_REPLY
