"""RESUME replays built once for every client resuming from the same position (the log unchanged)."""

from __future__ import annotations

from docsync.document import Document
from docsync.document.models import Column, Div, Slider
from docsync.protocol import PATCH_DOC, RESUME_REQ, Message, new_message
from docsync.sync.encoded_documents import EncodedDocuments
from docsync.sync.sequencer import Sequencer


def _session(encodings: EncodedDocuments | None) -> Sequencer:
    document = Document()
    text, slider = Div(id="t", text=""), Slider(id="s", start=0, end=1000, value=0)
    document.add_root(Column(text, slider))
    sequencer = Sequencer(
        document,
        allow_client_structure=False,
        log_entries=1000,
        log_bytes=1 << 20,
        max_client_models=10,
        max_array_elements=1000,
        filling=True,
        encodings=encodings,
    )
    sequencer.restart()
    for i in range(200):  # ~200 KB of changes: a replay worth keeping
        text.text = f"{i:04d}" + "x" * 1000
        sequencer.flush()
    return sequencer


def _resume(sequencer: Sequencer, origin: str, last_seq: int) -> Message:
    request = new_message(RESUME_REQ, {"last_seq": last_seq, "client_id": origin, "incarnation": sequencer.incarnation})
    reply = sequencer.resume(origin, request, created_session=False).reply
    assert reply.content["mode"] == "replay" and reply.reqid == request.msgid
    return reply


def _texts(reply: Message) -> list[str]:
    return [e["new"] for p in reply.content["patches"] for e in p["events"] if e["attr"] == "text"]


def test_clients_resuming_from_one_position_share_one_encoding() -> None:
    sequencer = _session(EncodedDocuments())
    replies = [_resume(sequencer, f"viewer-{n}", 10) for n in range(5)]
    contents = [reply.to_frames()[2] for reply in replies]
    assert all(content is contents[0] for content in contents)  # encoded once
    assert len({reply.reqid for reply in replies}) == 5  # each answers its own request
    assert len(replies[0].content["patches"]) == 190
    # Another position is another replay.
    assert _resume(sequencer, "viewer-9", 50).to_frames()[2] is not contents[0]


def test_a_change_or_a_client_with_changes_of_its_own_gets_its_own_replay() -> None:
    sequencer = _session(EncodedDocuments())
    before = _resume(sequencer, "viewer-1", 10).to_frames()[2]
    # A client's change at the next position: the log changed, and that client's replay omits it.
    step = sequencer.handle_patch(
        "editor",
        0,
        new_message(PATCH_DOC, {"events": [{"kind": "ModelChanged", "model": {"id": "s"}, "attr": "value", "new": 7}]}),
    )
    assert step.answer.msgtype == "OK"
    after = _resume(sequencer, "viewer-1", 10)
    assert after.to_frames()[2] is not before and len(after.content["patches"]) == 191
    own = _resume(sequencer, "editor", 10)
    assert len(own.content["patches"]) == 190 and own.to_frames()[2] is not after.to_frames()[2]
    assert _resume(sequencer, "viewer-2", 10).to_frames()[2] is after.to_frames()[2]
    assert _texts(own) == _texts(after)


def test_nothing_is_kept_without_the_process_bound() -> None:
    sequencer = _session(None)
    assert _resume(sequencer, "viewer-1", 10).to_frames()[2] is not _resume(sequencer, "viewer-2", 10).to_frames()[2]
