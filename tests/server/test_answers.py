"""Remembered answers: bounded per session whatever ids clients choose; a forgotten one is never applied twice."""

from __future__ import annotations

import orjson
import pytest

from docsync.protocol import OK, Message, new_message
from docsync.protocol.msgtypes import PATCH_DOC, PULL_DOC_REQ
from docsync.sync.answers import Answer, RememberedAnswers
from docsync.sync.patch_log import PatchLog
from docsync.testing import RawSocket

from .clients import ServerUnderTest, page_config
from .conftest import StartServer


def test_answers_are_bounded_oldest_first_and_their_position_remembered() -> None:
    answers = RememberedAnswers(max_answers=3, max_clients=10)
    for n in range(1, 6):
        answers.remember("a", f"m{n}", Answer(seq=n))
    assert len(answers) == 3 and answers.forgotten == 2
    assert answers.get("a", "m1") is None and answers.get("a", "m2") is None
    assert answers.get("a", "m5") == Answer(5)
    assert answers.point("a") == 2  # a's patches based before 2 may be resends of m1 or m2
    assert answers.point("b") == 0 and answers.forgotten_seq == 0  # no other client's


def test_client_ids_are_bounded_least_recently_active_first() -> None:
    answers = RememberedAnswers(max_answers=100, max_clients=2)
    answers.remember("a", "m1", Answer(1))
    answers.remember("b", "m1", Answer(2))
    answers.remember("a", "m2", Answer(3))  # a is now the more recent
    answers.remember("c", "m1", Answer(4))  # b goes, with its answers
    assert answers.clients == 2 and answers.get("b", "m1") is None
    assert answers.get("a", "m1") == Answer(1) and answers.get("c", "m1") == Answer(4)
    assert answers.point("b") == 2
    assert answers.point("a") == answers.point("c") == answers.point("d") == answers.forgotten_seq == 0


def test_forget_points_are_bounded_and_one_pushed_out_holds_for_every_id_not_told_apart() -> None:
    answers = RememberedAnswers(max_answers=2, max_clients=2)  # at most 2 forget points
    answers.remember("a", "m1", Answer(1))
    answers.forget_before(5, "x")
    answers.forget_before(6, "y")  # a's answers are kept, x's point and y's
    answers.forget_before(7, "z")  # x's point goes: every id not told apart starts at 5
    assert answers.point("x") == answers.point("new") == answers.forgotten_seq == 5
    assert answers.point("a") == 0 and answers.get("a", "m1") == Answer(1)
    answers.remember("new", "m1", Answer(8))  # told apart from now on, from that point (y's point goes)
    assert answers.point("new") == 5 and answers.forgotten_seq == 6
    answers.forget_before(11, "a")  # z's point goes
    answers.forget_before(12, "u")  # new's goes, and its answer with it (an id with answers has a point)
    assert answers.get("new", "m1") is None and answers.forgotten_seq == 8
    answers.forget_before(13, "t")  # a's goes: its answers go with it
    assert answers.get("a", "m1") is None and answers.point("a") == answers.forgotten_seq == 11
    assert answers.floor == 13


def test_the_same_msgid_answered_again_is_one_answer() -> None:
    answers = RememberedAnswers(max_answers=2, max_clients=2)
    for _ in range(5):
        answers.remember("a", "m1", Answer(1))
    assert len(answers) == 1 and answers.forgotten == 0


def test_the_log_does_not_reach_back_before_a_forgotten_answer() -> None:
    log = PatchLog(max_entries=100, max_bytes=1 << 20, max_answers=2, max_answer_clients=4)
    for n in range(5):
        log.append([])
        log.remember_applied("a", f"m{n}", log.seq)
    assert log.reaches_back_to(5, "a") and log.reaches_back_to(3, "a")
    assert not log.reaches_back_to(2, "a")  # m2, answered at 3, was forgotten: a patch based at 2 may be it
    assert log.reaches_back_to(2, "b") and log.reaches_back_to(0, "b")  # no other client's


# -- against a real server ---------------------------------------------------------


ANSWERS, CLIENTS = 3, 2
LONG = "m" * 128  # the longest msgid the receiver takes


@pytest.fixture(scope="module")
def forgetful(start_server: StartServer) -> ServerUnderTest:
    return start_server("answers", DOCSYNC_REMEMBERED_ANSWERS=str(ANSWERS), DOCSYNC_REMEMBERED_CLIENTS=str(CLIENTS))


async def _client(config: dict[str, object], client_id: str) -> tuple[RawSocket, Message]:
    sock = await RawSocket.connect(str(config["wsUrl"]), str(config["token"]))
    await sock.read_message()  # ACK
    pulled = await sock.request(new_message(PULL_DOC_REQ, {"client_id": client_id}))
    return sock, pulled


def _set(slider: str, value: float, base: int, msgid: str) -> Message:
    event = {"kind": "ModelChanged", "model": {"id": slider}, "attr": "value", "new": value}
    message = new_message(PATCH_DOC, {"events": [event], "base": base})
    message.header["msgid"] = msgid
    return message


async def _document(sock: RawSocket) -> tuple[bytes, int]:
    reply = await sock.request(new_message(PULL_DOC_REQ))
    text = orjson.dumps(reply.content["doc"]) + b"".join(bytes(b) for _, b in reply.buffers)
    return text, int(reply.content["seq"])


@pytest.mark.asyncio
async def test_a_resend_of_a_forgotten_answer_is_never_applied_twice(forgetful: ServerUnderTest) -> None:
    config = await page_config(forgetful, "sliders")
    alice, pulled = await _client(config, "alice")
    others: list[RawSocket] = []
    try:
        slider = next(m["id"] for m in pulled.content["doc"]["models"] if m["attributes"].get("name") == "frequency")
        base = int(pulled.content["seq"])
        first = await alice.request(_set(slider, 2.0, base, LONG))
        assert first.msgtype == OK and first.content["rejected"] == 0
        again = await alice.request(_set(slider, 2.0, base, LONG))  # remembered: answered the same
        assert (again.msgtype, again.content["applied_seq"]) == (OK, first.content["applied_seq"])

        # Other clients, each with its own chosen id and maximal msgids, push alice's answer out.
        for n in range(ANSWERS + 1):
            sock, theirs = await _client(config, f"client-{n}-" + "x" * 50)
            others.append(sock)
            reply = await sock.request(_set(slider, 3.0 + n / 2, int(theirs.content["seq"]), LONG))
            assert reply.msgtype == OK
        before, _ = await _document(alice)

        # Alice resends her first patch: forgotten, and too old to be applied again.
        resent = await alice.request(_set(slider, 2.0, base, LONG))
        assert (resent.msgtype, resent.content["rejected"]) == (OK, 1)
        after, seq = await _document(alice)
        assert after == before, "a resend of a forgotten patch changed the document"

        # A valid patch that follows is applied.
        valid = await alice.request(_set(slider, 4.9, seq, "next"))
        assert (valid.msgtype, valid.content["rejected"]) == (OK, 0)
        reply = await alice.request(new_message(PULL_DOC_REQ))
        models = reply.content["doc"]["models"]
        assert next(m for m in models if m["id"] == slider)["attributes"]["value"] == 4.9
    finally:
        for sock in [alice, *others]:
            await sock.close()
