"""RESUME-REQ naming real pending msgids: a client's patches, a dropped connection, a fuzzed resume.

The client streams markers into ``log`` and sends fuzzed patches, reads some answers,
closes or aborts its connection, and resumes with a RESUME-REQ naming its real pending
msgids mixed with fuzzed ones (and a real or fuzzed position, client id and
incarnation), then resends what was not answered (or everything). The reply is
RESUME-REPLY or ERROR ``bad-request``; its answers match the first ones; a resent patch
the server saw is answered as the first time; no marker is applied twice, none
answered as applied is lost; a watching tab converges. Budget and variables:
``session_fuzz``.
"""

from __future__ import annotations

import collections
import json
from dataclasses import dataclass
from typing import Any

import pytest
import websockets
from hypothesis import strategies as st

from docsync.client import ClientSession
from docsync.protocol import ERROR, OK, PULL_DOC_REPLY, Message, new_message
from docsync.testing import EVENT_WAIT

from .fuzz_frames import scalars
from .fuzz_sessions import Drawn, callback_patches
from .harness import Site, open_client, open_raw
from .session_fuzz import (
    SEED,
    FuzzTarget,
    check_close,
    check_log,
    check_messages,
    converged,
    ids_of,
    pull,
    reply_to,
    reply_to_request,
    run_fuzz,
)
from .test_fuzz import LoopThread


@dataclass
class Step:
    """A patch the resuming client sends: a marker streamed into ``log``, or a fuzzed one."""

    marker: bool
    drawn: Drawn | None
    base: str  # "last", "none", or "odd"
    wait: bool  # read its answer before sending the next
    reuse: bool  # under the msgid of an earlier step


@dataclass
class ResumeCase:
    steps: list[Step]
    drop: str  # how the first connection ends: "close" or "abort"
    last_seq: str  # "real", "zero", "ahead", "odd"
    client_id: str  # "same", "other", "none", "odd"
    incarnation: str  # "real", "none", "other", "odd"
    real_pending: bool  # pending: every unanswered msgid, as a client sends, before those drawn
    pending: list[str]  # "unanswered", "answered", "fuzzed"
    pending_odd: Any  # not a list of strings, now and then
    fuzzed_ids: list[str]
    resend: str  # after the reply: "none", "protocol" (what was not answered), "all" (answered in the reply too)
    #: Where the watching tab (the owner), the first connection, the resume (another process than the first) and
    #: fresh pulls land (``FuzzTarget``).
    hops: list[int]


#: A ``pending`` that is not a list of strings.
odd_pending = (
    scalars
    | st.lists(st.integers() | st.none(), min_size=1, max_size=2)
    | st.dictionaries(st.text(max_size=3), scalars, max_size=2)
)
steps = st.builds(
    Step,
    st.integers(0, 2).map(bool),
    callback_patches() | st.none(),
    st.sampled_from(["last"] * 4 + ["none", "odd"]),
    st.booleans(),
    st.integers(0, 9).map(lambda n: n == 0),
)
resume_cases = st.builds(
    ResumeCase,
    st.lists(steps, min_size=1, max_size=8),
    st.sampled_from(["close", "abort"]),
    st.sampled_from(["real"] * 4 + ["zero", "ahead", "odd"]),
    st.sampled_from(["same"] * 8 + ["other", "none", "odd"]),
    st.sampled_from(["real"] * 4 + ["none", "other", "odd"]),
    st.integers(0, 3).map(bool),
    st.lists(st.sampled_from(["unanswered"] * 3 + ["answered", "fuzzed"]), max_size=10),
    st.integers(0, 7).flatmap(lambda n: st.none() if n else odd_pending),
    st.lists(st.text(max_size=10), min_size=1, max_size=3),
    st.sampled_from(["none", "protocol", "protocol", "all"]),
    st.lists(st.integers(0, 5), min_size=4, max_size=4),
)

#: Run before the drawn cases, so that every run sees a resume answer patches (30 drawn
#: cases may by chance name no patch the server answered: CI failed so once). One marker,
#: its OK awaited, then the socket aborted; ``pending`` names it. The OK is awaited: aborted
#: before it, a relayed marker may still be on its way to the owner when the resume reaches
#: it, and the reply then rightly answers nothing (CI failed so once, in the cluster fuzz).
ANSWERED_RESUME = ResumeCase(
    steps=[Step(marker=True, drawn=None, base="last", wait=True, reuse=False)],
    drop="abort",
    last_seq="real",
    client_id="same",
    incarnation="real",
    real_pending=True,
    pending=["answered"],
    pending_odd=None,
    fuzzed_ids=["x"],
    resend="protocol",
    hops=[0, 1, 1, 0],  # in a cluster: the first connection relayed, the resume on the owner
)

_clients = iter(range(1, 1 << 62))
ODD_BASES = [-1, 10**9, "x", 1.5]
ODD_SEQS = ["x", 1.5, -1, 2**64, None]
ODD_CLIENT_IDS = ["", "x" * 65, 5, None]


def _marker_frames(msgid: str, log: str, marker: str) -> list[str | bytes]:
    event = {"kind": "ColumnsStreamed", "model": {"id": log}, "attr": "data", "data": {"m": [marker]}, "rollover": None}
    return [json.dumps({"msgid": msgid, "msgtype": "PATCH-DOC"}), "{}", json.dumps({"events": [event]})]


def _with_base(frames: list[str | bytes], base: Any) -> list[str | bytes]:
    content = json.loads(frames[2])
    if not isinstance(content, dict):
        return frames
    if base is None:
        content.pop("base", None)
    else:
        content["base"] = base
    return [frames[0], frames[1], json.dumps(content, allow_nan=True), *frames[3:]]


def _same_answer(first: Message, answer: dict[str, Any]) -> bool:
    """Whether a RESUME-REPLY's answer says what the first answer to that patch said."""
    if first.msgtype == OK:
        return answer.get("seq") == first.content.get("applied_seq") and answer.get("rejected") == first.content.get(
            "rejected"
        )
    return answer.get("code") == first.content.get("code") and answer.get("error") == first.content.get("text")


def _only_missed(replay: dict[str, Any], request: dict[str, Any], client_id: str, last_seq: int, what: str) -> None:
    """A replay sends the changes after the position the client named, in order, without the client's own."""
    seqs = [patch.get("seq") for patch in replay.get("patches", [])]
    assert all(isinstance(seq, int) for seq in seqs), f"{what}: replayed positions {seqs}"
    assert seqs == sorted(set(seqs)), f"{what}: replayed positions out of order or twice: {seqs}"
    if request["last_seq"] == last_seq and seqs:
        assert seqs[0] > last_seq, f"{what}: replayed {seqs} from {last_seq}: a change the client had, again"
    if request.get("client_id") == client_id:
        mine = [
            marker
            for patch in replay.get("patches", [])
            for event in patch.get("events", [])
            if event.get("kind") == "ColumnsStreamed"
            for marker in (event.get("data") or {}).get("m", [])
            if isinstance(marker, str) and marker.startswith(f"{client_id}-m")
        ]
        assert not mine, f"{what}: the client's own changes replayed to it: {mine}"


async def _resume_case(target: FuzzTarget, case: ResumeCase, stats: collections.Counter[str]) -> None:
    owning, dropping, step, pulling = case.hops
    page = target.page_config("workers", owning)
    watcher = await open_client(target.via(page, owning))
    config = target.via(page, pulling)
    resuming = target.other(dropping, step)
    if target.processes > 1:
        first, second = (target.index(hop) != target.index(owning) for hop in (dropping, resuming))
        stats[f"dropped {'relayed' if first else 'direct'}, resumed {'relayed' if second else 'direct'}"] += 1
    try:
        await _resume_steps(config, target.via(page, dropping), target.via(page, resuming), watcher, case, stats)
        await converged(watcher, config, "a tab watching a resume")
        assert not watcher.errors, watcher.errors
    finally:
        await watcher.close()


async def _resume_steps(
    config: dict[str, Any],
    dropping: dict[str, Any],
    resuming: dict[str, Any],
    watcher: ClientSession,
    case: ResumeCase,
    stats: collections.Counter[str],
) -> None:
    """Patches on a connection by ``dropping``, dropped; a resume by ``resuming``; fresh pulls by ``config``."""
    ids = ids_of(watcher.document)
    log = ids["log"]
    fuzz_ids = {name: model_id for name, model_id in ids.items() if name != "log"}
    client_id = f"resume-{next(_clients)}"
    first = await open_raw(dropping["wsUrl"], dropping["token"])
    pulled = await first.request(new_message("PULL-DOC-REQ", {"client_id": client_id}), timeout=EVENT_WAIT)
    assert pulled.msgtype == PULL_DOC_REPLY, pulled.content
    last_seq, incarnation = pulled.content["seq"], pulled.content["incarnation"]
    sent: list[tuple[str, list[str | bytes], str | None]] = []  # msgid, frames, marker
    closed = False
    for i, step in enumerate(case.steps):
        msgid = sent[0][0] if step.reuse and sent else f"r{i}"
        marker = f"{client_id}-m{i}" if step.marker or step.drawn is None else None
        frames = _marker_frames(msgid, log, marker) if marker else step.drawn.frames(fuzz_ids, msgid)  # type: ignore[union-attr]
        base = {"last": last_seq, "none": None, "odd": ODD_BASES[i % len(ODD_BASES)]}[step.base]
        frames = _with_base(frames, base)
        sent.append((msgid, frames, marker))
        try:
            await first.send_frames(*frames)
        except websockets.ConnectionClosed:
            closed = True
            break
        if step.wait:
            reply = await reply_to(first, msgid)
            if reply is None:
                closed = True
                break
            if reply.msgtype == OK:
                last_seq = max(last_seq, reply.content.get("seq", last_seq))
    check_messages(first, "before a resume")
    if closed:
        check_close(first, f"patches before a resume {[f[:200] for f in sent[-1][1]]}")
        stats["closed"] += 1
    elif case.drop == "abort":
        first.socket.transport.abort()
    else:
        await first.close()
    # What the client saw answered on its first connection.
    answered = {m.reqid: m for m in first.messages if m.msgtype in (OK, ERROR) and m.reqid is not None}
    counts = collections.Counter(msgid for msgid, _, _ in sent)
    unique = {msgid for msgid, n in counts.items() if n == 1}
    unanswered = [msgid for msgid, _, _ in sent if msgid not in answered]
    answered_ids = [msgid for msgid, _, _ in sent if msgid in answered]
    pending: Any = list(unanswered) if case.real_pending else []
    for i, kind in enumerate(case.pending):
        chosen = {"unanswered": unanswered, "answered": answered_ids, "fuzzed": case.fuzzed_ids}[kind]
        if chosen:
            pending.append(chosen[i % len(chosen)])
    if case.pending_odd is not None:
        pending = case.pending_odd
    content: dict[str, Any] = {
        "last_seq": {"real": last_seq, "zero": 0, "ahead": last_seq + 1000, "odd": ODD_SEQS[len(sent) % 5]}[
            case.last_seq
        ],
        "pending": pending,
    }
    if case.client_id != "none":
        content["client_id"] = {"same": client_id, "other": f"{client_id}-x", "odd": ODD_CLIENT_IDS[len(sent) % 4]}[
            case.client_id
        ]
    if case.incarnation != "none":
        content["incarnation"] = {"real": incarnation, "other": "0" * 16, "odd": 12}[case.incarnation]
    history = [(msgid, marker, step) for (msgid, _, marker), step in zip(sent, case.steps, strict=False)]
    what = f"RESUME-REQ {json.dumps(content)[:400]} after {history}"
    second = await open_raw(resuming["wsUrl"], resuming["token"])
    try:
        # Written here: docsync's encoder refuses what a fuzzed request may hold (2**64).
        await second.send_frames('{"msgid": "resume", "msgtype": "RESUME-REQ"}', "{}", json.dumps(content))
        reply = await reply_to_request(second, "resume")
        check_messages(second, what)
        if reply is None:
            check_close(second, what)
            stats["resume closed"] += 1
            return
        finals: dict[str, dict[str, Any] | Message] = {m: answered[m] for m in answered if m in unique}
        if reply.msgtype == ERROR:
            assert reply.content.get("code") == "bad-request", f"{what}: {reply.content}"
            stats["resume refused"] += 1
        else:
            assert reply.msgtype == "RESUME-REPLY", f"{what}: {reply.msgtype}"
            assert reply.content.get("mode") in ("replay", "full"), f"{what}: {reply.content}"
            stats[f"resumed {reply.content['mode']}"] += 1
            if reply.content["mode"] == "replay":
                _only_missed(reply.content, content, client_id, last_seq, what)
                stats["replayed patches"] += len(reply.content.get("patches", []))
            names = set(pending) if isinstance(pending, list) else set()
            for answer in reply.content.get("answers", []):
                msgid = answer.get("msgid")
                assert msgid in names, f"{what}: an answer to a msgid not pending: {answer}"
                stats["answers"] += 1
                if content.get("client_id") == client_id and msgid in unique:
                    if msgid in answered:
                        assert _same_answer(answered[msgid], answer), (
                            f"{what}: {answer} but first {answered[msgid].content}"
                        )
                    finals[msgid] = answer
            if case.resend != "none" and content.get("client_id") == client_id:
                said = (
                    {a.get("msgid") for a in reply.content.get("answers", [])} if case.resend == "protocol" else set()
                )
                for msgid, frames, _ in sent:
                    if msgid in answered or msgid in said:
                        continue
                    await second.send_frames(*frames)
                    again = await reply_to(second, msgid)
                    check_messages(second, what)
                    if again is None:
                        check_close(second, what)
                        break
                    stats["resent"] += 1
                    if msgid in unique:
                        if msgid in finals and not isinstance(finals[msgid], Message):
                            # A patch the server saw is answered as the first time.
                            assert _same_answer(again, finals[msgid]), f"{what}: resent {msgid}: {again.content}"  # type: ignore[arg-type]
                        finals[msgid] = again
    finally:
        await second.close()
    # No marker applied twice; none answered as applied lost.
    doc = await pull(config)
    rows = next(m for m in doc.doc["models"] if m["id"] == log)["attributes"]["data"]["m"]
    seen = collections.Counter(rows)
    assert all(n == 1 for n in seen.values()), f"{what}: markers applied twice: {seen}"
    for msgid, _, marker in sent:
        final = finals.get(msgid)
        if marker is None or final is None:
            continue
        fields = final.content if isinstance(final, Message) else final
        is_ok = isinstance(final, Message) and final.msgtype == OK and "applied_seq" in fields
        applied = is_ok or (not isinstance(final, Message) and "seq" in fields)
        if applied and fields.get("rejected", 0) == 0:
            stats["markers applied"] += 1
            assert seen[marker] == 1, f"{what}: marker {marker} answered {fields} but not in the document"


def fuzz_resumes(target: FuzzTarget, loop: LoopThread, name: str = "resume") -> collections.Counter[str]:
    """Run a resume that surely answers, then ``examples(name)`` drawn ones against ``target``; return the counts."""
    log_start = target.log_mark()
    stats: collections.Counter[str] = collections.Counter()
    loop.run(_resume_case(target, ANSWERED_RESUME, stats), 6 * EVENT_WAIT)
    assert stats["answers"] >= 1, stats
    run_fuzz(name, resume_cases, lambda case: loop.run(_resume_case(target, case, stats), 6 * EVENT_WAIT), stats)
    check_log(target, log_start, f"{name} fuzz")
    print(f"{name} fuzz: {dict(stats)}, seed {SEED}")
    return stats


@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
def test_resumes_naming_real_pending_patches_apply_nothing_twice(
    session_fuzz_site: Site, fuzz_loop: LoopThread
) -> None:
    stats = fuzz_resumes(FuzzTarget(session_fuzz_site), fuzz_loop)
    assert stats["resumed replay"] + stats["resumed full"] >= 5 and stats["answers"] >= 1, stats
