"""A session's owner killed (SIGKILL, by pid) in the middle of a fuzz case, with persistence on.

Three daphne processes and a private redis-server (``Cluster``), the session store in
that Redis. Processes 0 and 1 relay to each other on a direct route; process 2 has none
(``PEER_ADDRESS`` unset), so its relays, and relays to its sessions, go over the
channel layer: each case's relays take both kinds of route.

Each case makes a session on process 0 or 1 (the owner) with a docsync
client on each of the three processes (one there, one relayed directly, one over the
channel layer) and now and then a raw socket sending fuzzed frames through another
process (``workers_ledger``: the ``workers`` app of the session fuzzers, and a list,
``ledger``). The clients make drawn edits, each with a marker appended to the ledger in
the same patch, interleaved with the fuzzed frames; after a drawn part of the schedule
the owner is killed, with patches in flight, and a drawn part more is played while the
sockets die. Then, as docs/persistence.md and docs/protocol.md promise:

- the clients on the killed process see their socket drop (1006, no ERROR); relayed
  ones get an ERROR and a close from their own process (4010 once the owner is seen
  dead, or 1013 on a direct route that closed), with the documented texts;
- every client resumes through a surviving process (a refusal meanwhile is a documented
  1013 or 4010 and is retried), to the same session: the same ``incarnation``, not
  ``fresh``, and a ``replay`` from the position it last saw, which the restored session
  therefore holds (no client has seen a change the store does not hold; a client ahead
  of it would get a ``full`` reply);
- after the rest of the case, every client converges to a fresh pull, with no ERROR
  since its resume, and the ledger holds every marker of every client once, in each
  client's order (insertions of several clients into one list all stay,
  docs/convergence.md): no acknowledged change lost at the kill, and the changes in
  flight or made while the sockets died, resent after the resume, never applied twice;
- in half the cases, the process that restored the session is killed in turn, and the
  clients resume through the last one, which restores it from the snapshot and the
  records of both lives: the same checks, a marker more from each client;
- each killed process, started again, takes sessions and relays again.

CI sends ``CI_EXAMPLES["owner killed"]`` cases; ``DOCSYNC_SESSION_FUZZ_*`` run it long
(``tests/hardening/session_fuzz.py``), ``DOCSYNC_SESSION_FUZZ_STORE=database`` keeps
the sessions in the SQLite database the processes share instead of Redis, and
``DOCSYNC_SESSION_FUZZ_SNAPSHOT_INTERVAL=3600`` takes no snapshot after a session's first,
so every restore is the whole journal's replay (CI's 0.5 s mixes snapshots and journal).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis.asyncio as aioredis
import websockets
from hypothesis import strategies as st

from docsync.client import ClientSession, ServerError
from docsync.protocol import ACK, OK, RESUME_REPLY, Message, new_message
from docsync.server.persistence import decode_snapshot
from docsync.testing import EVENT_WAIT, RawSocket, SiteUnderTest
from tests.hardening.fuzz_frames import messages, with_ids
from tests.hardening.fuzz_sessions import Drawn, apply_edit, callback_patches, edits
from tests.hardening.harness import SECRET_KEY, find_model, open_client, open_raw, pull_json
from tests.hardening.session_fuzz import (
    SEED,
    FuzzTarget,
    answered_or_closed,
    check_close,
    check_log,
    check_messages,
    converged,
    ids_of,
    reply_to,
    reply_to_request,
    run_fuzz,
)
from tests.hardening.test_fuzz import DOCUMENTED_CLOSES, LoopThread
from tests.hardening.test_fuzz_resumes import _marker_frames, _same_answer, _with_base
from tests.persistence.apps import Notes

from .conftest import Cluster

pytestmark = [pytest.mark.cluster, pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")]

APP = "workers_ledger"
#: Where each case's clients are: the first on the owner, then on the other process with a direct route, then on 2.
ROLES = ("on the owner", "relayed directly", "relayed over Redis")
#: The process without a direct route: its relays go over the channel layer.
LAYER_ONLY = 2
#: What a socket relayed to a session whose owner died is told before its close (protocol.md, close codes).
OWNER_KILLED_CLOSES = {
    4010: ("the process holding this session went away; reconnect",),
    1013: (
        "the process holding this session cannot be reached; try again",
        "the route to the process holding this session closed; try again",
        "the process holding this session is unavailable; try again",
    ),
}
#: The session store: "redis" (the cluster's), or "database" (the SQLite database the processes share).
STORE = os.environ.get("DOCSYNC_SESSION_FUZZ_STORE", "redis")
#: Snapshots now and then within a case: a kill finds the changes after the last one in the journal.
#: ``DOCSYNC_SESSION_FUZZ_SNAPSHOT_INTERVAL=3600`` leaves each session its first snapshot only, so
#: every restore replays the whole journal.
SNAPSHOT_INTERVAL = os.environ.get("DOCSYNC_SESSION_FUZZ_SNAPSHOT_INTERVAL", "0.5")
#: Tries of a client's resume through the surviving processes (each bounded by the client's 30 s wait).
RESUME_TRIES = 20


@pytest.fixture(scope="module")
def killed_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzTarget]:
    """Three processes serving the hardening settings, sessions saved in the cluster's Redis; 2 relays over Redis."""
    running = Cluster(
        tmp_path_factory.mktemp("owner-killed"),
        3,
        settings="tests.cluster.settings_fuzz",
        process_env={LAYER_ONLY: {"DOCSYNC_PEER_ADDRESS": ""}},
        DJANGO_SECRET_KEY=SECRET_KEY,
        DJANGO_DEBUG="0",
        DOCSYNC_LOG_LEVEL="WARNING",
        DOCSYNC_PERSISTENCE=STORE,
        DOCSYNC_SNAPSHOT_INTERVAL=SNAPSHOT_INTERVAL,
        DOCSYNC_NEW_SESSIONS_PER_CLIENT_PER_SECOND="1000",
    )
    try:
        yield FuzzTarget(running)
    finally:
        running.stop()


@dataclass
class OwnerKilled:
    owner: int  # 0 or 1: a process with a direct route
    fuzzers: int  # raw sockets sending fuzzed messages (0 or 1)
    schedule: list[tuple[int, Any]]  # (actor, what): actors 0-2 the clients, 3 the fuzzer
    kill_at: int  # the owner is killed once this many actions of the schedule were made
    during: int  # actions made after the kill, before the sockets' closes are waited for
    kill_delay: int  # milliseconds after them
    pauses: list[int]  # milliseconds between an actor's actions (cycled)
    fuzzer_step: int  # which other process relays the fuzzer
    resume_steps: list[int]  # through which surviving process each client resumes
    pull_step: int  # through which surviving process fresh pulls go
    kill_again: bool  # then the process that restored the session is killed too


@st.composite
def owner_killed_cases(draw: st.DrawFn) -> OwnerKilled:
    fuzzers = draw(st.integers(0, 1))
    fuzzed = callback_patches() | messages(corrupt=draw(st.integers(0, 3)) == 0)
    actions = st.integers(0, 2 + fuzzers).flatmap(
        lambda actor: st.tuples(st.just(actor), edits if actor < 3 else fuzzed)
    )
    schedule = draw(st.lists(actions, min_size=4, max_size=16))
    during = draw(st.integers(0, 4))
    return OwnerKilled(
        owner=draw(st.integers(0, 1)),
        fuzzers=fuzzers,
        schedule=schedule,
        kill_at=draw(st.integers(1, max(1, len(schedule) - during))),
        during=during,
        kill_delay=draw(st.sampled_from([0, 0, 2, 20])),
        pauses=draw(st.lists(st.sampled_from([0, 0, 1, 5]), min_size=1, max_size=4)),
        fuzzer_step=draw(st.integers(0, 5)),
        resume_steps=draw(st.lists(st.integers(0, 5), min_size=3, max_size=3)),
        pull_step=draw(st.integers(0, 5)),
        kill_again=draw(st.booleans()),
    )


def _close_of(client: ClientSession, what: str, since: int = 0) -> tuple[int | None, str | None]:
    """A client's close after the kill: 1006 with no ERROR (since ``since``), or a documented code after its ERROR."""
    code = client.close_code
    if code == 1006:
        told = client.errors[since:]
        assert not told, f"{what}: a dropped socket was sent {[e.content for e in told]}"
        return code, None
    assert code in OWNER_KILLED_CLOSES, f"{what}: closed with {code} ({client.close_reason})"
    assert client.errors, f"{what}: closed with {code} without an ERROR first"
    last = client.errors[-1].content
    assert last.get("code") == f"close-{code}" and last.get("text") in OWNER_KILLED_CLOSES[code], (
        f"{what}: ERROR {last} before close {code}"
    )
    return code, str(last["text"])


def ledger(client: ClientSession) -> Notes:
    found = client.document.get_model_by_name("ledger")
    assert isinstance(found, Notes), found
    return found


async def _stored_seq(cluster: SiteUnderTest, session_id: str) -> int | None:
    """The position of the session's snapshot in the Redis store (None: another store, or none)."""
    if STORE != "redis":
        return None
    store = aioredis.Redis.from_url(cluster.redis.url)  # type: ignore[union-attr]
    try:
        data = await store.get(f"docsync:snapshot:{session_id}")
    finally:
        await store.aclose()
    if not isinstance(data, bytes):
        return None
    return decode_snapshot(data, app_path=APP, session_id=session_id, max_bytes=1 << 30).seq


async def _resume(client: ClientSession, ws_url: str, what: str, stats: collections.Counter[str]) -> None:
    """Resume ``client`` through ``ws_url``: retried (bounded) while a refusal says try again."""
    client.config["wsUrl"] = ws_url
    deadline = time.monotonic() + EVENT_WAIT
    for _ in range(RESUME_TRIES):
        try:
            await client.reconnect()
            return
        except ServerError as exc:
            assert exc.code in {f"close-{code}" for code in OWNER_KILLED_CLOSES}, f"{what}: resume refused: {exc}"
            refusal = client.errors[-1].content
            code = int(str(exc.code).removeprefix("close-"))
            assert refusal["text"] in OWNER_KILLED_CLOSES[code], f"{what}: resume refused with {refusal}"
            stats[f"resume refused {code}"] += 1
        assert time.monotonic() < deadline, f"{what}: no resume within {EVENT_WAIT} s"
        await asyncio.sleep(0.2)
    raise AssertionError(f"{what}: no resume in {RESUME_TRIES} tries")


async def _owner_killed_case(target: FuzzTarget, case: OwnerKilled, stats: collections.Counter[str]) -> None:
    cluster = target.site
    owner = case.owner
    page = target.page_config(APP, owner)
    clients = [await open_client(target.via(page, owner))]  # the first connection: its process owns the session
    clients += [await open_client(target.via(page, hop)) for hop in range(3) if hop != owner]
    survivors = [hop for hop in range(3) if hop != owner]
    fuzz_hop = target.other(owner, case.fuzzer_step)
    fuzzers = [await open_raw(target.via(page, fuzz_hop)["wsUrl"], page["token"]) for _ in range(case.fuzzers)]
    incarnation = clients[0].incarnation
    what = f"owner {owner} killed after {case.kill_at} of {str(case.schedule)[:1500]}"
    ids = ids_of(clients[0].document)
    # Never the ledger's id: the markers there must be the clients' alone.
    frame_ids = [ids[name] for name in ("source", "slider", "text", "range", "boxes", "toggle", "root", "log")]
    markers: list[list[str]] = [[], [], []]
    sent = [0] * (3 + case.fuzzers)

    async def act(actor: int, actions: list[Any]) -> None:
        for action in actions:
            n = sent[actor]
            sent[actor] += 1
            if actor < 3:
                document = clients[actor].document
                stats["edits" if apply_edit(document, action) else "edits refused locally"] += 1
                marker = f"c{actor}-{n}"
                ledger(clients[actor]).items.append(marker)  # in the same turn as the edit: one patch
                markers[actor].append(marker)
            else:
                sock = fuzzers[actor - 3]
                frames = action.frames(ids, f"fz-{n}") if isinstance(action, Drawn) else with_ids(action, frame_ids)
                with contextlib.suppress(websockets.ConnectionClosed):
                    await sock.send_frames(*frames)
            await asyncio.sleep(case.pauses[(actor + n) % len(case.pauses)] / 1000)

    async def play(schedule: list[tuple[int, Any]]) -> None:
        actors = range(3 + case.fuzzers)
        await asyncio.gather(*(act(actor, [a for who, a in schedule if who == actor]) for actor in actors))

    async def read(sock: RawSocket) -> None:
        with contextlib.suppress(websockets.ConnectionClosed, asyncio.TimeoutError):
            while True:
                await sock.read_message(timeout=3 * EVENT_WAIT)

    async def all_converged(config: dict[str, Any], errors_before: list[int]) -> None:
        for client in clients:
            await client.sync(EVENT_WAIT)
        latest = None
        for n, client in enumerate(clients):
            latest = await converged(client, config, what)
            check_messages(client, what)
            assert len(client.errors) == errors_before[n], (
                f"{what}: client {n} was sent {[e.content for e in client.errors[errors_before[n] :]]} after resuming"
            )
            # (``close_code`` still tells the close before the resume.) Edits may lose to
            # others' (docs/convergence.md); the ledger's insertions never do.
            assert client.connected.is_set(), what
            assert not [lost for lost in client.changes_lost if "ledger.items" in lost.changes], (
                what,
                client.changes_lost,
            )
            stats["changes lost to others' (convergence)"] += len(client.changes_lost)
        assert latest is not None
        logged = list(find_model(latest.doc, "ledger")["attributes"]["items"])
        # Every client's markers once, in its order: nothing acknowledged lost, nothing resent applied twice.
        assert sorted(logged) == sorted(m for mine in markers for m in mine), f"{what}: log {logged}, sent {markers}"
        for mine in markers:
            assert [m for m in logged if m in set(mine)] == mine, f"{what}: log {logged}, one client's {mine}"
        stats["markers"] += len(logged)
        stats["clients converged"] += len(clients)

    async def killed_again() -> None:
        # The process that restored the session (the directory names it) is killed in turn:
        # restored again, by the last process, from the store's snapshot and the records of both lives.
        directory = aioredis.Redis.from_url(cluster.redis.url)  # type: ignore[union-attr]
        try:
            holder = await directory.get(f"docsync:owner:{clients[0].id}")
        finally:
            await directory.aclose()
        assert isinstance(holder, bytes), f"{what}: no process holds the session ({holder!r})"
        pids = [server.pid if server.process is not None else None for server in cluster.servers]
        second = pids.index(int(holder.rsplit(b":", 1)[1]))
        last = next(hop for hop in survivors if hop != second)
        cluster.servers[second].kill()
        seen = [0] * len(clients)

        async def dies_and_resumes(n: int, client: ClientSession) -> None:
            await client.wait_for(lambda: not client.connected.is_set(), EVENT_WAIT)
            seen[n] = client.last_seq
            code, text = _close_of(client, f"{what}, then {second}: client {n}", since=errors_after_first[n])
            stats[f"second kill: closed {code} {text or ''}".strip()] += 1
            await _resume(client, cluster.ws_url(APP, last), f"{what}, then {second}: client {n}", stats)

        errors_after_first = [len(client.errors) for client in clients]
        await asyncio.gather(*(dies_and_resumes(n, client) for n, client in enumerate(clients)))
        errors_before = [len(client.errors) for client in clients]
        for n, client in enumerate(clients):
            live = client.live
            assert live is not None and not live.fresh and client.incarnation == incarnation, (what, n, live)
            assert live.mode == "replay" and live.seq >= seen[n], f"{what}: client {n} saw {seen[n]}, resumed {live}"
            marker = f"c{n}-again"
            ledger(client).items.append(marker)
            markers[n].append(marker)
        await all_converged(target.via(page, last), errors_before)
        stats["killed again"] += 1

    readers = [asyncio.ensure_future(read(sock)) for sock in fuzzers]
    try:
        await play(case.schedule[: case.kill_at])
        await asyncio.sleep(case.kill_delay / 1000)
        stats["patches in flight at the kill"] += sum(client.pending for client in clients)
        cluster.servers[owner].kill()  # SIGKILL, by pid
        stored = await _stored_seq(cluster, clients[0].id)
        await play(case.schedule[case.kill_at : case.kill_at + case.during])
        stats["actions while the sockets died"] += len(case.schedule[case.kill_at : case.kill_at + case.during])
        seen = [0] * len(clients)

        async def dies_and_resumes(n: int, client: ClientSession, step: int) -> None:
            # Its socket closes as documented (bounded: EVENT_WAIT); it resumes at once, through a
            # survivor, as a page does: the first to arrive claims the session and restores it.
            await client.wait_for(lambda: not client.connected.is_set(), EVENT_WAIT)
            seen[n] = client.last_seq  # all it was told
            code, text = _close_of(client, f"{what}: client {n}")
            stats[f"{ROLES[n]}: closed {code} {text or ''}".strip()] += 1
            await _resume(client, cluster.ws_url(APP, target.other(owner, step) % 3), f"{what}: client {n}", stats)

        resumes = [
            dies_and_resumes(n, c, step) for n, (c, step) in enumerate(zip(clients, case.resume_steps, strict=True))
        ]
        await asyncio.gather(*resumes)
        for sock, reader in zip(fuzzers, readers, strict=True):
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(reader), EVENT_WAIT)
            assert reader.done(), f"{what}: a fuzzer's socket stayed open after its session's owner died"
            check_messages(sock, what)
            check_close(sock, what, {**DOCUMENTED_CLOSES, **OWNER_KILLED_CLOSES})
            stats[f"fuzzer closed {sock.close_code}"] += 1
        # (How often the journal, not the snapshot, held what clients had seen.)
        stats["kills after changes the last snapshot does not hold"] += stored is not None and stored < max(seen)
        errors_before = [len(client.errors) for client in clients]
        for n, client in enumerate(clients):
            live = client.live
            assert live is not None and not live.fresh, f"{what}: client {n} resumed fresh: {live}"
            assert client.incarnation == incarnation, f"{what}: client {n} resumed another incarnation"
            # A replay: the restored session holds the position the client last saw (a client ahead gets "full").
            assert live.mode == "replay" and live.seq >= seen[n], f"{what}: client {n} saw {seen[n]}, resumed {live}"
            stats["patches replayed"] += live.replayed
        # The rest of the case: the fuzzer comes back through a survivor as a new socket.
        for i in range(case.fuzzers):
            await fuzzers[i].close()
            fuzzers[i] = await open_raw(target.via(page, fuzz_hop)["wsUrl"], page["token"])
            readers[i] = asyncio.ensure_future(read(fuzzers[i]))
        await play(case.schedule[case.kill_at + case.during :])
        for i, sock in enumerate(fuzzers):  # answered, or closed with a documented code
            await answered_or_closed(sock, readers[i], what)
        await all_converged(target.via(page, target.other(owner, case.pull_step) % 3), errors_before)
        stats["survivors"] += len(survivors)
        if case.kill_again:
            for sock in fuzzers:
                await sock.close()
            await killed_again()
    finally:
        for client in clients:
            await client.close()
        for sock in fuzzers:
            await sock.close()
        for reader in readers:
            reader.cancel()


async def _takes_sessions(target: FuzzTarget, index: int, what: str) -> None:
    """Process ``index`` makes a session and relays one held elsewhere: a client on each converges."""
    others = [hop for hop in range(3) if hop != index]
    page = target.page_config(APP, index)
    mine = await open_client(target.via(page, index))
    relayed = await open_client(target.via(page, others[0]))
    elsewhere = target.page_config(APP, others[1])
    holder = await open_client(target.via(elsewhere, others[1]))
    through = await open_client(target.via(elsewhere, index))
    try:
        mine.document.get_model_by_name("slider").value = 7  # type: ignore[union-attr]
        through.document.get_model_by_name("slider").value = 8  # type: ignore[union-attr]
        for client in (mine, relayed, holder, through):
            await client.sync(EVENT_WAIT)
        for client, config in ((mine, page), (relayed, page), (holder, elsewhere), (through, elsewhere)):
            await converged(client, target.via(config, others[1]), what)
            assert not client.errors and client.close_code is None, (what, client.errors, client.close_code)
        for client, value in ((relayed, 7), (holder, 8)):
            assert client.document.get_model_by_name("slider").value == value, what  # type: ignore[union-attr]
    finally:
        for client in (mine, relayed, holder, through):
            await client.close()


def test_a_session_whose_owner_is_killed_mid_case_is_restored_with_every_change_once(
    killed_cluster: FuzzTarget, loop: LoopThread
) -> None:
    cluster = killed_cluster.site
    log_start = killed_cluster.log_mark()
    stats: collections.Counter[str] = collections.Counter()

    def case(drawn: OwnerKilled) -> None:
        restarted = []
        try:
            loop.run(_owner_killed_case(killed_cluster, drawn, stats), 12 * EVENT_WAIT)
        finally:
            for index, server in enumerate(cluster.servers):
                if server.process is None:  # killed: started again on its port
                    cluster.restart(index)
                    restarted.append(index)
        stats["restarts"] += len(restarted)
        for index in restarted:
            loop.run(_takes_sessions(killed_cluster, index, f"process {index} started again"))

    run_fuzz("owner killed", owner_killed_cases(), case, stats)
    assert stats["restarts"] == stats["cases"] + stats["killed again"] >= 1 and stats["clients converged"] == 3 * (
        stats["cases"] + stats["killed again"]
    ), stats
    assert stats["on the owner: closed 1006"] == stats["cases"], stats  # dropped, no ERROR
    check_log(killed_cluster, log_start, "owner killed fuzz")
    print(f"owner killed fuzz: {dict(stats)}, seed {SEED}")


def test_a_message_relayed_on_the_direct_route_to_a_killed_owner_is_refused_as_documented(
    killed_cluster: FuzzTarget, loop: LoopThread
) -> None:
    """Sent after the route closed: ERROR ``the process holding this session cannot be reached; try again``, 1013.

    protocol.md names that text; the relaying process said ``... cannot be reached``
    alone. The change is kept by the client and resent on its resume, applied once; the
    one a socket relayed over Redis sent into the dead owner's channel too.
    """
    cluster = killed_cluster.site

    async def case() -> None:
        page = killed_cluster.page_config(APP, 0)
        clients = [await open_client(killed_cluster.via(page, hop)) for hop in (0, 1, LAYER_ONLY)]
        try:
            cluster.servers[0].kill()
            await clients[0].wait_for(lambda: not clients[0].connected.is_set(), EVENT_WAIT)
            ledger(clients[2]).items.append("after the kill 2")  # into the dead owner's channel
            # Until the relaying process has seen the route close (a change sent before that is
            # lost with the route, unanswered): bounded, in count and time.
            sent = []
            for i in range(50):
                if not clients[1].connected.is_set():
                    break
                sent.append(f"after the kill 1-{i}")
                ledger(clients[1]).items.append(sent[-1])
                with contextlib.suppress(TimeoutError):
                    await clients[1].wait_for(lambda: not clients[1].connected.is_set(), 0.1)
            for client in clients:
                await client.wait_for(lambda c=client: not c.connected.is_set(), EVENT_WAIT)  # type: ignore[misc]
            told = [(c.close_code, [e.content["text"] for e in c.errors]) for c in clients]
            assert told == [
                (1006, []),
                (1013, ["the process holding this session cannot be reached; try again"]),
                (4010, ["the process holding this session went away; reconnect"]),
            ], told
            stats: collections.Counter[str] = collections.Counter()
            for n, client in enumerate(clients):
                await _resume(client, cluster.ws_url(APP, 1 + n % 2), f"client {n}", stats)
                assert client.live is not None and client.live.mode == "replay", client.live
                # Its resent changes answered before the next client resumes: client 1's go
                # through a relay, client 2's straight to the new owner, which applied them
                # first once (CI); the order asserted below is the resumes' then.
                await client.sync(EVENT_WAIT)
            for client in clients:
                await client.sync(EVENT_WAIT)
                await converged(client, killed_cluster.via(page, 1), "after the kill")
            # Each change once: resent on the resumes (client 1's, then client 2's), none lost, none twice.
            assert ledger(clients[0]).items == [*sent, "after the kill 2"], ledger(clients[0]).items
        finally:
            for client in clients:
                await client.close()

    try:
        loop.run(case())
    finally:
        if cluster.servers[0].process is None:
            cluster.restart(0)


def test_patches_answered_before_the_kill_are_answered_again_after_the_restore_never_applied_twice(
    killed_cluster: FuzzTarget, loop: LoopThread
) -> None:
    """A client that missed the OKs (as one whose socket dropped may) resumes naming its patches, and resends them.

    The restored session answers them as the owner did before it died, from the answers
    its snapshot and journal saved (persistence.md, *What the client sees*), and applies
    none again: each marker is in the document once.
    """
    cluster = killed_cluster.site

    async def case() -> None:
        page = killed_cluster.page_config(APP, 0)
        holder = await open_client(killed_cluster.via(page, 0))  # process 0 owns the session
        log = ids_of(holder.document)["log"]
        client_id = "killed-owner-resend"
        sock = await open_raw(killed_cluster.via(page, 1)["wsUrl"], page["token"])  # relayed on the direct route
        second: RawSocket | None = None
        try:
            pulled = await sock.request(new_message("PULL-DOC-REQ", {"client_id": client_id}), timeout=EVENT_WAIT)
            first_seq, incarnation = pulled.content["seq"], pulled.content["incarnation"]
            base = first_seq
            sent: list[tuple[str, list[str | bytes]]] = []
            firsts: dict[str, Message] = {}
            for i in range(3):
                msgid = f"k{i}"
                sent.append((msgid, _with_base(_marker_frames(msgid, log, f"{client_id}-m{i}"), base)))
                await sock.send_frames(*sent[-1][1])
                answer = await reply_to(sock, msgid)
                assert answer is not None and answer.msgtype == OK, answer
                firsts[msgid], base = answer, answer.content["seq"]
            cluster.servers[0].kill()
            await sock.until_closed(EVENT_WAIT)
            check_close(sock, "a relayed socket of a killed owner", OWNER_KILLED_CLOSES)
            request = {"last_seq": first_seq, "pending": [m for m, _ in sent], "client_id": client_id}
            request["incarnation"] = incarnation
            for _ in range(RESUME_TRIES):  # bounded: each try by the socket's own waits
                second = await open_raw(killed_cluster.via(page, LAYER_ONLY)["wsUrl"], page["token"])
                if second.messages and second.messages[0].msgtype == ACK:
                    break
                check_close(second, "a resume before the owner is seen dead", OWNER_KILLED_CLOSES)
                await asyncio.sleep(0.2)
            assert second is not None and second.messages[0].msgtype == ACK, second.messages if second else None
            await second.send_frames('{"msgid": "resume", "msgtype": "RESUME-REQ"}', "{}", json.dumps(request))
            reply = await reply_to_request(second, "resume")
            assert reply is not None and reply.msgtype == RESUME_REPLY, reply
            assert reply.content["mode"] == "replay" and reply.content.get("fresh") is not True, reply.content
            answers = {answer["msgid"]: answer for answer in reply.content.get("answers", [])}
            assert sorted(answers) == [msgid for msgid, _ in sent], f"answered {answers}, pending {request}"
            for msgid, frames in sent:  # each answered as first, from the saved answers, then resent and answered so
                assert _same_answer(firsts[msgid], answers[msgid]), (msgid, answers, firsts[msgid].content)
                await second.send_frames(*frames)
                again = await reply_to(second, msgid)
                assert again is not None and again.msgtype == OK, again
                assert again.content.get("applied_seq") == firsts[msgid].content.get("applied_seq"), (again, msgid)
            rows = find_model(await pull_json(killed_cluster.via(page, 1)), "log")["attributes"]["data"]["m"]
            assert rows == [f"{client_id}-m{i}" for i in range(3)], rows
        finally:
            for raw in (sock, second):
                if raw is not None:
                    await raw.close()
            await holder.close()

    try:
        loop.run(case())
    finally:
        if cluster.servers[0].process is None:
            cluster.restart(0)
