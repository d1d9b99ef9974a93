"""Several connections on one session at once: docsync clients editing, raw sockets sending fuzzed messages.

One to three clients make valid edits while up to two raw sockets send fuzzed frames
(well-framed mostly), interleaved; then every raw socket is answered or was closed with
a documented code, and every client converges to a fresh pull with no ERROR. Budget
and variables: ``session_fuzz``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from dataclasses import dataclass
from typing import Any

import pytest
import websockets
from hypothesis import strategies as st

from docsync.testing import EVENT_WAIT, RawSocket

from .fuzz_frames import messages, with_ids
from .fuzz_sessions import Drawn, apply_edit, callback_patches, edits
from .harness import Site, open_client, open_raw
from .session_fuzz import (
    SEED,
    FuzzTarget,
    answered_or_closed,
    check_log,
    check_messages,
    converged,
    ids_of,
    responsive,
    run_fuzz,
)
from .test_fuzz import LoopThread


@dataclass
class Interleaved:
    clients: int  # docsync clients editing
    fuzzers: int  # raw sockets sending fuzzed messages
    schedule: list[tuple[int, Any]]  # (actor, what): an edit for a client, frames for a fuzzer
    pauses: list[int]  # milliseconds between an actor's actions (cycled)
    #: Where each client lands (the first is the owner), each fuzzer (through another process than the owner,
    #: in a cluster) and fresh pulls (``FuzzTarget``).
    client_hops: list[int]
    fuzzer_steps: list[int]
    pull_hop: int


@st.composite
def interleaved_cases(draw: st.DrawFn) -> Interleaved:
    clients = draw(st.integers(1, 3))
    fuzzers = draw(st.integers(1, 4 - clients)) if clients < 3 else draw(st.integers(0, 1))
    fuzzed = callback_patches() | messages(corrupt=draw(st.integers(0, 3)) == 0)
    actions = st.integers(0, clients + fuzzers - 1).flatmap(
        lambda actor: st.tuples(st.just(actor), edits if actor < clients else fuzzed)
    )
    schedule = draw(st.lists(actions, min_size=2, max_size=14))
    pauses = draw(st.lists(st.sampled_from([0, 0, 1, 5]), min_size=1, max_size=4))
    hops = st.integers(0, 5)
    client_hops = draw(st.lists(hops, min_size=clients, max_size=clients))
    fuzzer_steps = draw(st.lists(hops, min_size=fuzzers, max_size=fuzzers))
    return Interleaved(clients, fuzzers, schedule, pauses, client_hops, fuzzer_steps, draw(hops))


async def _interleaved_case(target: FuzzTarget, case: Interleaved, stats: collections.Counter[str]) -> None:
    owning = case.client_hops[0]
    page = target.page_config("workers", owning)
    config = target.via(page, case.pull_hop)
    clients = [await open_client(target.via(page, hop)) for hop in case.client_hops]
    relaying = [target.via(page, target.other(owning, step)) for step in case.fuzzer_steps]
    fuzzers = [await open_raw(via["wsUrl"], via["token"]) for via in relaying]
    stats["relayed clients"] += sum(target.index(hop) != target.index(owning) for hop in case.client_hops)
    try:
        ids = ids_of(clients[0].document)
        frame_ids = [ids[name] for name in ("source", "slider", "text", "range", "boxes", "toggle", "root", "log")]
        what = f"interleaved {case.clients} clients, {case.fuzzers} fuzzers: {str(case.schedule)[:1500]}"

        async def act(actor: int) -> None:
            mine = [action for who, action in case.schedule if who == actor]
            for n, action in enumerate(mine):
                if actor < case.clients:
                    stats["edits" if apply_edit(clients[actor].document, action) else "edits refused locally"] += 1
                else:
                    sock = fuzzers[actor - case.clients]
                    if isinstance(action, Drawn):
                        frames = action.frames(ids, f"fz{actor}-{n}")
                    else:
                        frames = with_ids(action, frame_ids)
                    with contextlib.suppress(websockets.ConnectionClosed):
                        await sock.send_frames(*frames)
                pause = case.pauses[(actor + n) % len(case.pauses)]
                await asyncio.sleep(pause / 1000)

        async def read(sock: RawSocket) -> None:
            with contextlib.suppress(websockets.ConnectionClosed, asyncio.TimeoutError):
                while True:
                    await sock.read_message(timeout=EVENT_WAIT)

        readers = [asyncio.ensure_future(read(sock)) for sock in fuzzers]
        await asyncio.gather(*(act(actor) for actor in range(case.clients + case.fuzzers)))
        for i, sock in enumerate(fuzzers):  # each fuzzer is answered, or was closed with a documented code
            closed = await answered_or_closed(sock, readers[i], what)
            stats["fuzzers closed" if closed else "fuzzers answered"] += 1
        for client in clients:
            await client.sync(EVENT_WAIT)
        latest = None
        for client in clients:
            latest = await converged(client, config, what)
            check_messages(client, what)
            assert not client.errors, f"{what}: a client was sent {[e.content for e in client.errors]}"
            assert client.close_code is None, f"{what}: a client was closed {client.close_code}"
        assert latest is not None
        stats["clients converged"] += len(clients)
        for sock, reader in zip(fuzzers, readers, strict=True):
            await sock.close()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(reader, 10)
    finally:
        for client in clients:
            await client.close()
        for sock in fuzzers:
            await sock.close()


def fuzz_interleaved(target: FuzzTarget, loop: LoopThread, name: str = "interleaved") -> collections.Counter[str]:
    """Run ``examples(name)`` interleaved cases against ``target``; check its log and it serves; return the counts."""
    log_start = target.log_mark()
    stats: collections.Counter[str] = collections.Counter()
    run_fuzz(
        name, interleaved_cases(), lambda case: loop.run(_interleaved_case(target, case, stats), 6 * EVENT_WAIT), stats
    )
    assert stats["clients converged"] >= stats["cases"], stats
    check_log(target, log_start, f"{name} fuzz")
    loop.run(responsive(target.page_config("workers")))
    print(f"{name} fuzz: {dict(stats)}, seed {SEED}")
    return stats


@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
def test_interleaved_fuzzed_and_valid_connections_converge(session_fuzz_site: Site, fuzz_loop: LoopThread) -> None:
    fuzz_interleaved(FuzzTarget(session_fuzz_site), fuzz_loop)
