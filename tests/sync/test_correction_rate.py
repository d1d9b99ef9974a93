"""The corrections a session sends every connection are bounded in rate too: past it the sender is reset, alone.

Each refused (or lost) change is corrected for every connection. A stranger of a room
sending refused patches of a source's 160 KB column had each corrected for every other
tab: 190 of them (33 KB) were 31 MB per tab. All the clients' corrections together now
take at most ``CORRECTION_BURST`` times ``max_correction_bytes`` at once, then
``max_correction_bytes`` a second (protocol.md §13); past that the sender is reset.
"""

from __future__ import annotations

from typing import Any

from docsync.document import Document, Model
from docsync.document.models import Column, Div
from docsync.document.properties import Instance, List
from docsync.protocol import Message, new_message
from docsync.protocol.msgtypes import ERROR, OK, PATCH_DOC
from docsync.sync.patches import correction, correction_size
from docsync.sync.sequencer import CORRECTION_BURST, Sequencer
from tests.sync.test_correction_size import Holder

LIMIT = 10_000


class Tray(Model):
    """A list of Divs a client may reorder."""

    __type_name__ = "test_correction_rate.Tray"
    __client_writable__ = frozenset({"items"})
    items = List(Instance(Div))


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _session(clock: Clock) -> tuple[Sequencer, Holder]:
    document = Document()
    holder = Holder(id="holder", note="n" * 3000)
    document.add_root(holder)
    sequencer = Sequencer(
        document,
        allow_client_structure=True,
        log_entries=1000,
        log_bytes=64 << 20,
        max_client_models=100,
        max_array_elements=1000,
        max_correction_bytes=LIMIT,
        clock=clock,
    )
    return sequencer, holder


def _refused(sequencer: Sequencer) -> Message:
    # A note is a string: 5 is refused, and the note corrected.
    event = {"kind": "ModelChanged", "model": {"id": "holder"}, "attr": "note", "new": 5}
    return new_message(PATCH_DOC, {"events": [event], "base": sequencer.seq})


def _outcomes(sequencer: Sequencer, count: int) -> list[str]:
    kinds = []
    for _ in range(count):
        outcome = sequencer.handle_patch("mallory", 0, _refused(sequencer))
        assert outcome.answer.msgtype == ERROR, outcome.answer.content
        if outcome.reset is not None:
            assert outcome.changes is None or outcome.changes.message_for("bob") is None
            kinds.append("reset")
        else:
            assert outcome.changes is not None
            message: Any = outcome.changes.message_for("bob")
            assert message.content["events"][0]["attr"] == "note"
            kinds.append("corrected")
    return kinds


def test_corrections_past_the_sessions_rate_reset_their_sender_instead() -> None:
    clock = Clock()
    sequencer, holder = _session(clock)
    size = correction_size(correction(holder, "note"))
    assert 3000 < size < LIMIT
    burst = CORRECTION_BURST * LIMIT // size
    assert _outcomes(sequencer, burst + 3) == ["corrected"] * burst + ["reset"] * 3
    # A second refills a second's worth (LIMIT bytes), whoever sends.
    clock.now += 1.0
    refilled = (CORRECTION_BURST * LIMIT - burst * size + LIMIT) // size
    assert refilled >= 1
    assert _outcomes(sequencer, refilled + 1) == ["corrected"] * refilled + ["reset"]
    # Never more than the burst, however long the session was quiet.
    clock.now += 3600.0
    assert _outcomes(sequencer, burst + 1) == ["corrected"] * burst + ["reset"]
    assert holder.note == "n" * 3000


def test_models_put_back_take_from_the_same_bucket() -> None:
    # A root the application holds, taken out and put back by its client in patch after
    # patch: each put-back defines it again for every connection, and takes what that
    # costs from the session's bucket; once owing, a put-back is refused (the sender reset).
    clock = Clock()
    document = Document()
    root = Column(*(Div(text="d" * 100) for _ in range(30)), id="root")
    document.add_root(root)
    tray = Tray(items=[Div(id="a"), Div(id="b")], id="tray")
    document.add_root(tray)
    sequencer = Sequencer(
        document,
        allow_client_structure=True,
        log_entries=1000,
        log_bytes=64 << 20,
        max_client_models=100,
        max_array_elements=1000,
        max_correction_bytes=LIMIT,
        clock=clock,
    )

    def send(events: list[dict[str, Any]]) -> Any:
        return sequencer.handle_patch("mallory", 0, new_message(PATCH_DOC, {"events": events, "base": sequencer.seq}))

    def move(kind: str) -> Any:
        return send([{"kind": kind, "model": {"id": "root"}}])

    put_back = 0
    while True:
        assert move("RootRemoved").answer.msgtype == OK
        outcome = move("RootAdded")
        if outcome.answer.msgtype == ERROR:
            break
        put_back += 1
        assert put_back < 100
    text = outcome.answer.content["text"]
    assert text.startswith("too many models attached again in this session: at most 40000 bytes at once"), text
    assert outcome.reset is not None
    assert list(document.roots) == [tray]  # (as the accepted removal left it: the refused put-back changed nothing)
    # Owing, a lone change naming models the document keeps (a reorder) defines nothing
    # again: it is taken (it was refused too), and the bucket still owes.
    reorder = [{"kind": "ModelChanged", "model": {"id": "tray"}, "attr": "items", "new": [{"id": "b"}, {"id": "a"}]}]
    outcome = send(reorder)
    assert outcome.answer.msgtype == OK and outcome.answer.content["rejected"] == 0, outcome.answer.content
    assert [item.id for item in tray.items] == ["b", "a"]
    assert move("RootAdded").answer.msgtype == ERROR
    # Each put-back took the root's definitions (about 5 KB): the bucket (4 x 10,000) held several, one more owing.
    assert 3 <= put_back <= 9, put_back
    clock.now += float(text.rsplit("try again in ", 1)[1].split(" s")[0]) + 0.1
    assert move("RootAdded").answer.msgtype == OK
    assert list(document.roots) == [tray, root]


def _heavy_session(clock: Clock, text_bytes: int) -> tuple[Sequencer, Holder, Column]:
    """A session whose root (``root``) holds about ``text_bytes`` of text, beside a holder of a note."""
    sequencer, holder = _session(clock)
    root = Column(*(Div(text="d" * 1000) for _ in range(text_bytes // 1000)), id="root")
    sequencer.document.add_root(root)
    return sequencer, holder, root


def _move(sequencer: Sequencer, kind: str) -> Any:
    event = {"kind": kind, "model": {"id": "root"}}
    return sequencer.handle_patch("mallory", 0, new_message(PATCH_DOC, {"events": [event], "base": sequencer.seq}))


def _wait(text: str) -> float:
    return float(text.rsplit("try again in ", 1)[1].split(" s")[0])


def test_a_put_back_of_any_size_is_taken_while_the_bucket_is_full_and_owes_a_burst_at_most() -> None:
    # A root of three bursts, moved (a plot whose source is over 2 MiB moved between
    # layouts, with the default bucket): refused whatever the wait by 5336731, it is taken
    # while the bucket is full, defined again for the other tabs, and leaves the bucket
    # owing a burst, not what it cost. Owing, a put-back is refused, however small; then
    # one that does not fit what the bucket holds and a burst owed; full again, it is taken.
    clock = Clock()
    burst = CORRECTION_BURST * LIMIT
    sequencer, holder, root = _heavy_session(clock, 3 * burst)
    assert _move(sequencer, "RootRemoved").answer.msgtype == OK
    outcome = _move(sequencer, "RootAdded")
    assert outcome.answer.msgtype == OK, outcome.answer.content
    assert outcome.answer.content["rejected"] == 0, outcome.answer.content
    assert outcome.changes is not None
    message: Any = outcome.changes.message_for("bob")  # (the other tabs are sent the root again)
    defined = {reference["id"] for reference in message.content["references"]}
    assert {root.id, *(div.id for div in root.children)} <= defined
    assert sum(len(frame) for frame in message.to_frames()) > 3 * burst
    assert sequencer._corrections.level() == -burst  # (it cost more than three bursts)
    owed = sequencer._corrections.owed_seconds()
    assert owed == burst / LIMIT

    # Owing a burst: a small put-back (the holder, 3 KB) does not fit, and is refused with a time.
    holder_move = [{"kind": kind, "model": {"id": holder.id}} for kind in ("RootRemoved", "RootAdded")]
    small = sequencer.handle_patch("mallory", 0, new_message(PATCH_DOC, {"events": holder_move, "base": sequencer.seq}))
    assert small.answer.msgtype == ERROR, small.answer.content
    text = small.answer.content["text"]
    assert text.startswith("too many models attached again in this session: "), text
    assert _wait(text) == owed
    # So is the heavy root's: nothing applied, nothing more owed.
    assert _move(sequencer, "RootRemoved").answer.msgtype == OK
    outcome = _move(sequencer, "RootAdded")
    assert outcome.answer.msgtype == ERROR, outcome.answer.content
    assert _wait(outcome.answer.content["text"]) == owed
    assert outcome.reset is not None  # (a refused change of roots resets its sender)
    assert [r.id for r in sequencer.document.roots] == [holder.id]
    assert sequencer._corrections.owed_seconds() == owed

    # Owing nothing but holding nothing: what it holds and a burst owed is less than the root.
    clock.now += owed
    outcome = _move(sequencer, "RootAdded")
    assert outcome.answer.msgtype == ERROR, outcome.answer.content
    text = outcome.answer.content["text"]
    assert text.startswith("too many bytes put back by one patch: "), text
    assert f"more than the {burst} this session allows now" in text, text
    assert _wait(text) == burst / LIMIT, text  # (until it is full: (2 x burst) / rate in all)
    assert [r.id for r in sequencer.document.roots] == [holder.id]
    assert sequencer._corrections.level() == 0  # (refused, it owed nothing)
    clock.now += _wait(text)  # (full again)
    assert _move(sequencer, "RootAdded").answer.msgtype == OK
    assert [r.id for r in sequencer.document.roots] == [holder.id, "root"]
    assert sequencer._corrections.level() == -burst


def test_a_put_back_owes_at_most_a_burst() -> None:
    # A root of one and a half bursts is put back while the bucket is full (it may owe a
    # burst): the bucket owes what passed its level. Drawn down first, the same put-back
    # is refused, told when it fits; then it is taken.
    clock = Clock()
    sequencer, holder, _ = _heavy_session(clock, 3 * CORRECTION_BURST * LIMIT // 2)
    assert _move(sequencer, "RootRemoved").answer.msgtype == OK
    assert _move(sequencer, "RootAdded").answer.msgtype == OK
    wait = sequencer._corrections.owed_seconds()
    assert 0 < wait <= CORRECTION_BURST, wait
    clock.now += wait + 1.0  # (owing nothing, a second's worth in the bucket: with a burst owed, less than the root)
    assert _move(sequencer, "RootRemoved").answer.msgtype == OK
    outcome = _move(sequencer, "RootAdded")
    assert outcome.answer.msgtype == ERROR, outcome.answer.content
    text = outcome.answer.content["text"]
    assert text.startswith("too many bytes put back by one patch: ") and "; try again in " in text, text
    assert [r.id for r in sequencer.document.roots] == [holder.id]
    clock.now += float(text.rsplit("try again in ", 1)[1].split(" s")[0]) + 0.1
    assert _move(sequencer, "RootAdded").answer.msgtype == OK
    assert [r.id for r in sequencer.document.roots] == [holder.id, "root"]
