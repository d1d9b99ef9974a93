"""One client's forgotten answers and fences are its own: no client can make every patch be judged old.

The server remembers a bounded number of answers (``REMEMBERED_ANSWERS``) from a bounded
number of client ids (``REMEMBERED_CLIENTS``), and as many fences; past them it forgets
the oldest, and a patch of that client based before what it forgot is taken as a
possible resend (it loses). Every client chooses its ids, so an anonymous client of a
session (a shared room, a token's holder) can fill these bounds at will. Against a real
daphne with small bounds (8 answers, 4 client ids): a client that makes one change,
then has its own answers or fences forgotten (refused patches, RESUME-REQs under new
ids), must not make another client's patch, based on a position it had seen and
touching nothing that changed since, lose. At b4124b0 it lost (``rejected: 1``): the
forget point was one for the whole session.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio

from docsync.protocol import ERROR, OK, PULL_DOC_REPLY, RESUME_REPLY, Message, new_message
from docsync.testing import EVENT_WAIT, RawSocket

from .harness import Database, Site, running_site, set_value_patch
from .hostile import Victim, patch

ANSWERS, CLIENTS = 8, 4
_ids = itertools.count(1)


@pytest.fixture(scope="module")
def small_memory_site(tmp_path_factory: pytest.TempPathFactory, database: Database) -> Iterator[Site]:
    """The hardening site, remembering 8 answers from 4 client ids per session."""
    yield from running_site(
        tmp_path_factory,
        database,
        "forgetting",
        DOCSYNC_REMEMBERED_ANSWERS=str(ANSWERS),
        DOCSYNC_REMEMBERED_CLIENTS=str(CLIENTS),
    )


@pytest_asyncio.fixture
async def victim(small_memory_site: Site) -> AsyncIterator[Victim]:
    made = await Victim.open(small_memory_site)
    try:
        yield made
    finally:
        await made.close()


async def _pulled(victim: Victim, client_id: str) -> tuple[RawSocket, int]:
    """A raw connection that pulled as ``client_id``, and the position it pulled at."""
    sock = await victim.raw()
    reply = await sock.request(new_message("PULL-DOC-REQ", {"client_id": client_id}))
    assert reply.msgtype == PULL_DOC_REPLY, reply.content
    return sock, int(reply.content["seq"])


async def _ok(sock: RawSocket, message: Message) -> dict[str, Any]:
    reply = await sock.request(message)
    assert reply.msgtype == OK, reply.content
    return dict(reply.content)


async def _attacker_moves_on(victim: Victim) -> RawSocket:
    """An attacker's connection that made one change (a new position nobody else has seen yet)."""
    sock, _ = await _pulled(victim, f"attacker-{next(_ids)}")
    await _ok(sock, set_value_patch(victim.model_id("slider"), "value", 7))
    return sock


async def _victim_patch_is_taken(victim: Victim, sock: RawSocket, base: int) -> None:
    """The victim's change, based on the position it had seen and touching nothing changed since, is applied."""
    answer = await _ok(sock, set_value_patch(victim.model_id("text"), "value", "mine", base=base))
    assert answer["rejected"] == 0, f"the victim's patch lost to another client's forgetting: {answer}"
    text = victim.observer.document.get_model_by_name("text")
    await victim.observer.wait_for(lambda: text.value == "mine")  # type: ignore[union-attr]


@pytest.mark.asyncio
async def test_another_clients_forgotten_answers_do_not_make_a_patch_lose(victim: Victim) -> None:
    mine, seen = await _pulled(victim, "victim-answers")
    attacker = await _attacker_moves_on(victim)
    try:
        # Refused patches are remembered too: more than the session keeps, all at the new position.
        for _ in range(ANSWERS + 1):
            reply = await attacker.request(patch([{"kind": "Bogus"}]))
            assert reply.msgtype == ERROR and reply.content["code"] == "patch-refused", reply.content
        await _victim_patch_is_taken(victim, mine, seen)
    finally:
        await attacker.close()
        await mine.close()


@pytest.mark.asyncio
async def test_another_clients_forgotten_ids_do_not_make_a_patch_lose(victim: Victim) -> None:
    mine, seen = await _pulled(victim, "victim-ids")
    attacker = await _attacker_moves_on(victim)
    try:
        # One refused patch under each of more client ids than the session keeps answers of.
        for _ in range(CLIENTS + 1):
            reply = await attacker.request(new_message("PULL-DOC-REQ", {"client_id": f"churn-{next(_ids)}"}))
            assert reply.msgtype == PULL_DOC_REPLY, reply.content
            reply = await attacker.request(patch([{"kind": "Bogus"}]))
            assert reply.msgtype == ERROR, reply.content
        await _victim_patch_is_taken(victim, mine, seen)
    finally:
        await attacker.close()
        await mine.close()


@pytest.mark.asyncio
async def test_another_clients_forgotten_fences_do_not_make_a_patch_lose(victim: Victim) -> None:
    mine, seen = await _pulled(victim, "victim-fences")
    attacker = await _attacker_moves_on(victim)
    try:
        # A resume from position 0 under a new id sends the whole document and fences that id:
        # more fences than the session keeps.
        for _ in range(CLIENTS + 1):
            request = new_message("RESUME-REQ", {"last_seq": -1, "client_id": f"fence-{next(_ids)}"})
            reply = await attacker.request(request)
            assert reply.msgtype == RESUME_REPLY and reply.content["mode"] == "full", reply.content
        await _victim_patch_is_taken(victim, mine, seen)
    finally:
        await attacker.close()
        await mine.close()


async def _bridge(victim: Victim, sock: RawSocket) -> tuple[int, int]:
    """(client ids, unseen splices) the session's splice bridge holds, as the app reports them."""
    tag = next(_ids)
    report = victim.observer.document.get_model_by_name("bridge")
    await _ok(sock, patch([{"kind": "MessageSent", "msg_type": "bridge", "msg_data": tag}]))
    await victim.observer.wait_for(lambda: bool(report.text), EVENT_WAIT)  # type: ignore[union-attr]
    clients, unseen = str(report.text).split(":")  # type: ignore[union-attr]
    return int(clients), int(unseen)


SPLICES = 300  # more than a client may have unseen (``SpliceBridge.max_unseen``, 256)


@pytest.mark.asyncio
async def test_the_splices_kept_for_client_ids_are_bounded(small_memory_site: Site) -> None:
    """Per client id basing a patch far back, the session kept a copy of every splice since: at b4124b0, 6 ids
    based on position 0 after 300 splices held 1,800 (7 ids kept; now at most 4, none past 256 splices)."""
    victim = await Victim.open(small_memory_site, "bridged")
    writer, position = await _pulled(victim, "writer")
    attacker, _ = await _pulled(victim, "attacker")
    try:
        choice = {"id": victim.model_id("choice")}
        events = [  # one item in, one out: the list stays short
            {"kind": "ListSpliced", "model": choice, "attr": "value", "index": 0, "delete": n % 2}
            | {"items": [] if n % 2 else ["a"]}
            for n in range(SPLICES)
        ]
        position = int((await _ok(writer, patch(events, base=position)))["applied_seq"])
        for _ in range(CLIENTS + 2):
            reply = await attacker.request(new_message("PULL-DOC-REQ", {"client_id": f"far-{next(_ids)}"}))
            assert reply.msgtype == PULL_DOC_REPLY, reply.content
            await _ok(attacker, patch([], base=0))
        clients, unseen = await _bridge(victim, writer)
        assert clients <= CLIENTS and unseen <= CLIENTS * 256, (clients, unseen)
        # The list goes on being edited: a splice based on the current position is applied.
        event = {"kind": "ListSpliced", "model": choice, "attr": "value", "index": 0, "delete": 0, "items": ["b"]}
        answer = await _ok(attacker, patch([event], base=position))
        assert answer["rejected"] == 0, answer
        chosen = victim.observer.document.get_model_by_name("choice")
        await victim.observer.wait_for(lambda: chosen.value == ["b"], EVENT_WAIT)  # type: ignore[union-attr]
    finally:
        await writer.close()
        await attacker.close()
        await victim.close()
