"""The session fuzzers across processes: clients of one session on different processes of a cluster.

Three daphne processes and a private redis-server (``Cluster``) serve the hardening
settings. Each case draws where its connections land (``FuzzTarget``'s hops): the first
connection of a session makes its process the owner, the others are relayed to it.
Pushes and fuzzed patches go through relays; a resume lands on another process than the
connection it replaces; clients on different processes edit while raw sockets send
fuzzed frames through a relaying process; every case converges to a fresh pull, and
checks what the single-process fuzzers check (``tests/hardening/session_fuzz.py``).

A fuzzed frame sequence sent through a relay earns the same answers, ERROR texts and
close code as the same sequence sent straight to the owner of an identical session, and
does not disturb the sessions relayed over the same processes meanwhile (bystanders
doing round trips, one relayed through each process).

CI sends ``CI_EXAMPLES["relayed ..."]`` cases of each; the ``DOCSYNC_SESSION_FUZZ_*``
variables run them long, as the single-process fuzzers. Relays go on the direct routes
between processes; ``DOCSYNC_SESSION_FUZZ_RELAY=layer`` sends them over the channel
layer (Redis) instead.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import strategies as st

from docsync.protocol import ACK, ERROR, OK, PATCH_DOC, SERVER_INFO_REPLY
from docsync.testing import EVENT_WAIT, RawSocket
from tests.hardening.fuzz_frames import Frame, frame_sequences, with_ids
from tests.hardening.harness import (
    SECRET_KEY,
    find_model,
    open_client,
    open_raw,
    pull_json,
    set_value_patch,
    token_payload,
)
from tests.hardening.session_fuzz import SEED, FuzzTarget, check_log, run_fuzz
from tests.hardening.settings import MAX_FRAME_BYTES
from tests.hardening.test_fuzz import DOCUMENTED_CLOSES, Bystander, LoopThread, _check_documented_close, _check_messages
from tests.hardening.test_fuzz import _exchange as exchange
from tests.hardening.test_fuzz import _model_ids as model_ids
from tests.hardening.test_fuzz_callbacks import fuzz_callbacks
from tests.hardening.test_fuzz_interleaved import fuzz_interleaved
from tests.hardening.test_fuzz_pushes import fuzz_pushes
from tests.hardening.test_fuzz_resumes import fuzz_resumes

from .conftest import Cluster

pytestmark = [pytest.mark.cluster, pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")]

#: "peers" (direct routes between processes) or "layer" (the channel layer): how relays go.
RELAY = os.environ.get("DOCSYNC_SESSION_FUZZ_RELAY", "peers")
#: Apps whose sessions the mirrored frames go to: no callbacks, so that two sessions given the same frames stay equal.
MIRRORED_APPS = ("limits", "all_models")


@pytest.fixture(scope="module")
def relay_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzTarget]:
    """Three processes serving the hardening settings; sessions expire a second after their last connection."""
    running = Cluster(
        tmp_path_factory.mktemp("relayed-fuzz"),
        3,
        settings="tests.cluster.settings_fuzz",
        DJANGO_SECRET_KEY=SECRET_KEY,
        DJANGO_DEBUG="0",
        DOCSYNC_LOG_LEVEL="WARNING",
        DOCSYNC_UNUSED_SESSION_LIFETIME="1.0",
        DOCSYNC_CHECK_UNUSED_SESSIONS="0.2",
        # Every case makes sessions, all as one client: past the default 2 a second.
        DOCSYNC_NEW_SESSIONS_PER_CLIENT_PER_SECOND="1000",
        **({"DOCSYNC_PEER_ADDRESS": ""} if RELAY == "layer" else {}),
    )
    try:
        yield FuzzTarget(running)
    finally:
        running.stop()


def test_relayed_pushes_leave_the_document_or_replace_it_for_every_tab(
    relay_cluster: FuzzTarget, loop: LoopThread
) -> None:
    stats = fuzz_pushes(relay_cluster, loop, "relayed push")
    assert stats["refused"] >= 1 and stats["relayed connections"] >= 1, stats


def test_relayed_resumes_on_another_process_apply_nothing_twice(relay_cluster: FuzzTarget, loop: LoopThread) -> None:
    stats = fuzz_resumes(relay_cluster, loop, "relayed resume")
    # The first case (ANSWERED_RESUME) drops a relayed connection and resumes on the owner.
    assert stats["dropped relayed, resumed direct"] >= 1 and stats["answers"] >= 1, stats


def test_relayed_fuzzed_values_fed_to_callbacks_are_reported(relay_cluster: FuzzTarget, loop: LoopThread) -> None:
    stats = fuzz_callbacks(relay_cluster, loop, "relayed callbacks")
    assert stats["accepted"] + stats["refused"] >= 1, stats


def test_relayed_interleaved_fuzzed_and_valid_connections_converge(relay_cluster: FuzzTarget, loop: LoopThread) -> None:
    stats = fuzz_interleaved(relay_cluster, loop, "relayed interleaved")
    # Every fuzzer goes through a process that does not own its session.
    assert stats["fuzzers answered"] + stats["fuzzers closed"] >= 1, stats


# -- the same frames, relayed and direct --------------------------------------------------------


@dataclass
class Mirrored:
    """A frame sequence for two new sessions of ``app``: straight to one's owner, through a relay to the other's."""

    app: str
    frames: list[Frame]
    owner: int  # the hop of both sessions' owner
    step: int  # which other process relays


mirrored_cases = st.builds(
    Mirrored, st.sampled_from(MIRRORED_APPS), frame_sequences(), st.integers(0, 5), st.integers(0, 5)
)


async def _opened(target: FuzzTarget, app: str, owner: int, hop: int) -> tuple[dict[str, Any], RawSocket, RawSocket]:
    """A new session owned by process ``owner`` (a socket there holds it), and a socket landing by ``hop``."""
    page = target.page_config(app, owner)
    holder = await open_raw(target.via(page, owner)["wsUrl"], page["token"])
    assert holder.messages and holder.messages[0].msgtype == ACK, holder.errors()
    sock = await open_raw(target.via(page, hop)["wsUrl"], page["token"])
    assert sock.messages and sock.messages[0].msgtype == ACK, sock.errors()
    return page, holder, sock


#: The test's sentinel header as an ERROR shows it (its msgid from a counter).
SENTINEL_HEADER = re.compile(r"\{'msgid': '\d+', 'msgtype': 'SERVER-INFO-REQ'\}")


def answers(sock: RawSocket, page: dict[str, Any], ids: list[str], frames: list[Frame]) -> list[Any]:
    """What ``sock`` was told, with what differs between two equal sessions (ids, incarnations) named alike.

    The replies to the test's own requests (the pull of the ids, the sentinel: msgids
    from a counter) are named alike too.
    """
    sent = " ".join(frame for frame in frames if isinstance(frame, str))
    ours = {sock.messages[1].reqid} | {
        m.reqid for m in sock.messages if m.msgtype == SERVER_INFO_REPLY and json.dumps(m.reqid) not in sent
    }
    names = {model_id: f"@model{i}@" for i, model_id in enumerate(ids)}
    names[token_payload(page["token"])["sid"]] = "@session@"
    pattern = re.compile("|".join(re.escape(name) for name in sorted(names, key=len, reverse=True)))
    told: list[Any] = []
    for message in sock.messages[1:]:  # after the ACK
        if message.msgtype == PATCH_DOC and message.reqid is None:
            continue  # the session's changes: none here, but an order between them and answers is not promised
        content = dict(message.content)
        content.pop("incarnation", None)
        if message.msgtype == SERVER_INFO_REPLY:
            content = {}
        text = pattern.sub(lambda match: names[match.group(0)], json.dumps(content, sort_keys=True))
        text = SENTINEL_HEADER.sub("@sentinel@", text)  # the sentinel's header shown in an ERROR (taken as a buffer's)
        told.append((message.msgtype, "@ours@" if message.reqid in ours else message.reqid, text))
    return [*told, ("closed", sock.close_code, SENTINEL_HEADER.sub("@sentinel@", sock.close_reason or ""))]


async def _mirrored_case(target: FuzzTarget, case: Mirrored, stats: collections.Counter[str]) -> None:
    relay = target.other(case.owner, case.step)
    direct_page, direct_holder, direct = await _opened(target, case.app, case.owner, case.owner)
    relayed_page, relayed_holder, relayed = await _opened(target, case.app, case.owner, relay)
    try:
        direct_ids, relayed_ids = await model_ids(direct), await model_ids(relayed)
        what = f"{case.app} frames {[f[:80] for f in case.frames][:12]!r}"
        ends = await asyncio.gather(
            exchange(direct, with_ids(case.frames, direct_ids)), exchange(relayed, with_ids(case.frames, relayed_ids))
        )
        for sock, (closed, answered) in zip((direct, relayed), ends, strict=True):
            _check_messages(sock, what)
            if closed:
                _check_documented_close(sock, DOCUMENTED_CLOSES, what)
            else:
                assert answered, f"{what}: the sentinel got no answer and the connection stayed open"
        told_direct = answers(direct, direct_page, direct_ids, case.frames)
        told_relayed = answers(relayed, relayed_page, relayed_ids, case.frames)
        assert told_relayed == told_direct, f"{what}: relayed\n{told_relayed}\ndirect\n{told_direct}"
        stats["closed" if ends[0][0] else "answered"] += 1
        stats["errors"] += sum(1 for m in direct.messages if m.msgtype == ERROR)
    finally:
        for sock in (direct, relayed, direct_holder, relayed_holder):
            await sock.close()


def test_fuzzed_frames_through_a_relay_are_refused_as_direct_ones(relay_cluster: FuzzTarget, loop: LoopThread) -> None:
    log_start = relay_cluster.log_mark()
    # A session owned by each process, relayed through the next: every relay carries one.
    bystanders = []
    holders = []
    for owner in range(relay_cluster.processes):
        page = relay_cluster.page_config("echo", owner)
        holders.append(loop.run(open_client(relay_cluster.via(page, owner))))
        bystanders.append(Bystander(relay_cluster.via(page, owner + 1), {}))
    running = [asyncio.run_coroutine_threadsafe(bystander.run(), loop.loop) for bystander in bystanders]
    stats: collections.Counter[str] = collections.Counter()
    try:
        run_fuzz(
            "relayed frames",
            mirrored_cases,
            lambda case: loop.run(_mirrored_case(relay_cluster, case, stats), 6 * EVENT_WAIT),
            stats,
        )
    finally:
        for bystander in bystanders:
            bystander.stopping = True
        for future in running:
            with contextlib.suppress(Exception):
                future.result(3 * EVENT_WAIT)
        held = [(holder.errors, holder.close_code) for holder in holders]
        for holder in holders:
            loop.run(holder.close())
    for bystander in bystanders:
        assert not bystander.failures, bystander.failures[:5]
        assert bystander.latencies, "a bystander made no round trip"
    for errors, close_code in held:  # the sessions' owners' own connections: undisturbed too
        assert not errors and close_code is None, (errors, close_code)
    assert stats["answered"] >= 1, stats
    check_log(relay_cluster, log_start, "relayed frame fuzz")
    trips = [len(bystander.latencies) for bystander in bystanders]
    print(f"relayed frames fuzz ({RELAY}): {dict(stats)}, bystanders' round trips {trips}, seed {SEED}")


#: Frames a relaying process refuses itself after a patch, and the close each earns.
REFUSED_FRAMES = {
    "unknown type": (['{"msgid": "bad", "msgtype": ""}', "{}", "{}"], 1002),
    "frame too large": (["x" * (MAX_FRAME_BYTES + 1)], 1009),
    # Past the 200 patches a connection may send at once (MAX_PATCHES_PER_SECOND's burst).
    "too many patches": (
        [
            f'{{"msgid": "more{i}", "msgtype": "PATCH-DOC"}}' if j == 0 else ("{}" if j == 1 else '{"events": []}')
            for i in range(300)
            for j in range(3)
        ],
        4029,
    ),
}


@pytest.mark.parametrize("refused", sorted(REFUSED_FRAMES))
def test_a_refused_relayed_socket_hears_the_answers_to_what_it_sent_before(
    relay_cluster: FuzzTarget, loop: LoopThread, refused: str
) -> None:
    """As from its owner: the patches before the refused frame are answered, then the ERROR and close come.

    The relaying process refused the frame at once and closed, while the owner's OK to
    the patch was still on its way back: the client never heard whether its patch was
    applied (it was). Found by the mirrored fuzz above.
    """
    frames, code = REFUSED_FRAMES[refused]

    async def case() -> None:
        page = relay_cluster.page_config("limits", 0)
        holder = await open_raw(relay_cluster.via(page, 0)["wsUrl"], page["token"])  # process 0 owns the session
        sock = await open_raw(relay_cluster.via(page, 1)["wsUrl"], page["token"])
        try:
            slider = find_model((await sock.pull()).content["doc"], "slider")["id"]
            patch = set_value_patch(slider, "value", 5)
            await sock.send_message(patch)
            await sock.send_frames(*frames)  # at once: the OK is still on its way
            await sock.until_closed(EVENT_WAIT)
            told = [(m.msgtype, m.reqid, m.content.get("code")) for m in sock.messages[2:]]  # after ACK and pull
            assert told[-1] == (ERROR, None, f"close-{code}") and sock.close_code == code, (told[-3:], sock.close_code)
            sent = [patch.msgid, *(f"more{i}" for i in range(300))]
            # Every patch before the refused one answered, in order (past the burst for 4029).
            assert told[:-1] == [(OK, msgid, None) for msgid in sent[: len(told) - 1]], told[:5]
            assert len(told) - 1 >= (200 if code == 4029 else 1), len(told)
            pulled = await pull_json(relay_cluster.via(page, 2))
            assert find_model(pulled, "slider")["attributes"]["value"] == 5, pulled
        finally:
            await sock.close()
            await holder.close()

    loop.run(case())
