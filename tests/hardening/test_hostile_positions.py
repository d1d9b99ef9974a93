"""A client cannot move a session's position out of the range browsers count exactly.

RESUME-REQ may name a ``last_seq`` past the session's position (a session restored
from an older snapshot), and the full reply then takes a position after it. A forged
one near 2**63 would put every later position past JavaScript's exact integers, where
browsers compare positions wrongly and skip everyone's patches: it is refused (docs/
protocol.md, RESUME-REQ), against a real server.
"""

from __future__ import annotations

import pytest

from docsync.protocol import ERROR, OK, RESUME_REPLY, new_message
from docsync.sync.patch_log import MAX_POSITION
from docsync.testing import EVENT_WAIT

from .harness import set_value_patch
from .hostile import Victim

pytestmark = pytest.mark.asyncio

#: Positions past this are not exact in a JavaScript number.
MAX_SAFE_INTEGER = 2**53 - 1


def resume(last_seq: int) -> object:
    return new_message("RESUME-REQ", {"last_seq": last_seq, "client_id": "forger"})


async def position(victim: Victim) -> int:
    """The session's position, as the OK to a valid patch names it."""
    sock = await victim.raw()
    try:
        reply = await sock.request(set_value_patch(victim.model_id("slider"), "value", 1.0))
    finally:
        await sock.close()
    assert reply.msgtype == OK, reply.content
    return int(reply.content["seq"])


@pytest.mark.parametrize("last_seq", [MAX_POSITION + 1, 2**62, 2**63 - 1, 2**64 - 1])
async def test_a_forged_huge_last_seq_is_refused_and_moves_nothing(victim: Victim, last_seq: int) -> None:
    before = await position(victim)
    victim.before = await victim.document_bytes()
    sock = await victim.raw()
    try:
        reply = await sock.request(resume(last_seq))  # type: ignore[arg-type]
    finally:
        await sock.close()
    assert reply.msgtype == ERROR, reply.content
    assert reply.content == {
        "text": f"last_seq past the largest position: {last_seq} > {MAX_POSITION}",
        "code": "bad-request",
    }
    await victim.assert_unharmed()
    assert await position(victim) <= before + 2  # assert_unharmed's patch, then this one


async def test_the_largest_last_seq_still_resumes_within_exact_positions(victim: Victim) -> None:
    sock = await victim.raw()
    try:
        reply = await sock.request(resume(MAX_POSITION))  # type: ignore[arg-type]
    finally:
        await sock.close()
    assert reply.msgtype == RESUME_REPLY and reply.content["mode"] == "full", reply.content
    assert reply.content["seq"] == MAX_POSITION + 1
    victim.before = await victim.document_bytes()
    await victim.assert_unharmed()
    assert MAX_POSITION < await position(victim) <= MAX_SAFE_INTEGER


@pytest.mark.parametrize("fault", ["last_seq", "pending"])
async def test_a_refused_resume_leaves_the_connection_s_client_id_as_it_was(victim: Victim, fault: str) -> None:
    """The client id a refused RESUME-REQ named is not adopted: the connection's changes still reach that client.

    A connection's changes are not sent to connections of its own client id. Adopted
    before the resume was refused, the id named turned the connection into that client
    for everyone: its changes no longer reached the client whose id it had named.
    """
    content: dict[str, object] = {"last_seq": MAX_POSITION + 1, "client_id": victim.observer.client_id}
    if fault == "pending":
        content.update(last_seq=0, pending=[7])
    value = 777_001.0 if fault == "last_seq" else 777_002.0
    sock = await victim.raw()
    try:
        reply = await sock.request(new_message("RESUME-REQ", content))
        assert reply.msgtype == ERROR and reply.content["code"] == "bad-request", reply.content
        reply = await sock.request(set_value_patch(victim.model_id("slider"), "value", value))
        assert reply.msgtype == OK, reply.content
    finally:
        await sock.close()
    slider = victim.observer.document.get_model_by_name("slider")
    await victim.observer.wait_for(lambda: slider.value == value, EVENT_WAIT)  # type: ignore[union-attr]
    assert not victim.observer.errors and victim.observer.close_code is None


async def test_past_the_largest_position_a_client_that_saw_it_still_resumes(victim: Victim) -> None:
    """Once the session's position is past MAX_POSITION (a resume from it took the next one), a client that
    applied such a position resumes from it.

    A ``last_seq`` past MAX_POSITION was refused whatever the session's own position: after
    any client's resume from MAX_POSITION, every client that saw a later position and lost
    its socket was answered ERROR bad-request to its RESUME-REQ, and stayed waiting for a
    reply, for good (at b4124b0).
    """
    forger = await victim.raw()
    honest = await victim.raw()
    try:
        reply = await forger.request(resume(MAX_POSITION))  # type: ignore[arg-type]
        assert reply.msgtype == RESUME_REPLY and reply.content["seq"] == MAX_POSITION + 1, reply.content
        pulled = await honest.request(new_message("PULL-DOC-REQ", {"client_id": "honest"}))
        incarnation = pulled.content["incarnation"]
        # A change at the next position reaches the honest client: it applied MAX_POSITION + 2.
        reply = await forger.request(set_value_patch(victim.model_id("slider"), "value", 5.0))
        assert reply.msgtype == OK and reply.content["applied_seq"] == MAX_POSITION + 2, reply.content
        while not any(m.content.get("seq") == MAX_POSITION + 2 for m in honest.messages if m.msgtype == "PATCH-DOC"):
            await honest.read_message()
    finally:
        await forger.close()
        await honest.close()
    # Its socket lost, it resumes from there: what it missed (nothing), not a refusal.
    again = await victim.raw()
    try:
        content = {"last_seq": MAX_POSITION + 2, "client_id": "honest", "incarnation": incarnation}
        reply = await again.request(new_message("RESUME-REQ", content))
        assert reply.msgtype == RESUME_REPLY, reply.content
        assert (reply.content["mode"], reply.content["seq"]) == ("replay", MAX_POSITION + 2), reply.content
    finally:
        await again.close()
    victim.before = await victim.document_bytes()
    await victim.assert_unharmed()
