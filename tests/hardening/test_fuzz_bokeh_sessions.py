"""Session fuzzers for the Bokeh dialect: pushes, callbacks fed fuzzed values, interleaved connections.

``test_fuzz_bokeh.py`` fuzzes one PATCH-DOC at a time; these reach what it cannot, against
a real daphne serving Bokeh apps over BokehJS's protocol (raw websockets, the page's token):

- pushes: the dialect takes no PUSH-DOC (docs/bokeh.md). Each case pushes the session's
  own document mutated (a value replaced, models dropped, the title, garbage): always
  ERROR ``push-not-allowed``, no other tab hears anything, a fresh pull is byte-identical,
  and the connection's next patch is applied;
- callbacks: PATCH-DOCs of 1 to 3 fuzzed values for the ``bk_workers`` app, whose
  callbacks compute with them (arithmetic, parsing, writes to other models and columns;
  some values make them raise). Each is answered OK, ERROR ``patch-refused`` (a refusal
  leaves a fresh pull byte-identical), or ``callback error: <type>`` (docs/bokeh.md: what
  the callbacks changed is sent); a watcher tab's document, the server's PATCH-DOCs
  applied, equals a fresh pull after each case, and the log holds tracebacks only under
  the callback errors;
- interleaved: 2 or 3 tabs of one ``bk_fuzzed`` session send 1-3 mutated patches each
  (``fuzz_bokeh.make_case``) at once; each is answered, or closed with a documented code;
  a watcher converges to a fresh pull.

Counts, not times: ``CASES`` per fuzzer (pushes, callbacks; interleaved rounds a third of
it) from seed ``SEED``. Longer runs, one file at a time:
``DOCSYNC_BOKEH_SESSION_FUZZ_CASES=100000 DOCSYNC_BOKEH_SESSION_FUZZ_SEED=<n>
DOCSYNC_BOKEH_SESSION_FUZZ_SECONDS=600`` (no new case starts after the seconds, once the
CI's cases have run; pass ``--timeout`` above them, pytest-timeout caps a test at 300 s).
Every session is opened by this one client, the interleaved fuzz's a session per round, so
the site lifts the per-client session limits (tested in ``test_client_limits.py``): a long
run would otherwise meet the client's rate of new sessions after a few minutes.
"""

from __future__ import annotations

import asyncio
import collections
import copy
import json
import os
import random
import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import websockets

from docsync.protocol import ERROR, OK, PATCH_DOC

from .bokeh_tabs import Session, Tab, definitions
from .harness import Database, Site, running_site
from .test_errors import LEAKS

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")

from docsync.bokeh.dialect import PUSH_REFUSAL

from .fuzz_bokeh import Case, make_case
from .test_fuzz_bokeh import DOCUMENTED_CLOSES, Watcher, _send, canonical, decoded, difference, ids_of

CASES = int(os.environ.get("DOCSYNC_BOKEH_SESSION_FUZZ_CASES", "20"))
SEED = int(os.environ.get("DOCSYNC_BOKEH_SESSION_FUZZ_SEED", "0"))
SECONDS = float(os.environ.get("DOCSYNC_BOKEH_SESSION_FUZZ_SECONDS", "3600"))
#: Cases every run checks, however long they take.
MIN_CASES = min(CASES, 20)
PER_SESSION = 25
CALLBACK_ERROR = "error in a callback of session"
#: The close of a connection sending more requests a second than it may (protocol.md §11).
RATE_CLOSE = 4029


@pytest.fixture(scope="module")
def bokeh_site(tmp_path_factory: pytest.TempPathFactory, database: Database) -> Iterator[Site]:
    yield from running_site(
        tmp_path_factory,
        database,
        "bokeh-session-fuzz",
        DJANGO_SETTINGS_MODULE="tests.hardening.bokeh_settings",
        DOCSYNC_NEW_SESSIONS_PER_CLIENT_PER_SECOND="0",
        DOCSYNC_MAX_SESSIONS_PER_CLIENT="none",
    )


def _more(done: int, started: float, cases: int = CASES, least: int = MIN_CASES) -> bool:
    return done < cases and (done < least or time.monotonic() - started < SECONDS)


def _check_log(site: Site, start: int, what: str) -> None:
    """Tracebacks only under the app's callback errors; no connection closed 1011."""
    log = site.log_text()[start:]
    assert "Exception inside application" not in log, (log[-3000:], what)
    assert log.count("Traceback") <= log.count(CALLBACK_ERROR), (log[-3000:], what)


async def _converges(watcher: Watcher, what: str) -> None:
    """The watcher's document, what it heard applied, equals a fresh pull's."""
    for patch in await watcher.heard():
        watcher.document.apply_json_patch(_serialized(patch))
    after = await watcher.pull()
    fresh = decoded(orjson.loads(after)["doc"])
    mine, theirs = canonical(watcher.document), canonical(fresh)
    assert mine == theirs, f"the watcher's document diverged: {_difference(mine, theirs)}; {what}"
    watcher.document, watcher.text = fresh, after


def _difference(mine: bytes, theirs: bytes) -> str:
    """The first property whose value differs between two ``canonical`` states (``difference``, narrowed)."""
    a, b = orjson.loads(mine), orjson.loads(theirs)
    for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key) and isinstance(a.get(key), list) and isinstance(b.get(key), list):
            ours, pulled = dict(a[key][1]["entries"]), dict(b[key][1]["entries"])
            for name in sorted(set(ours) | set(pulled)):
                if ours.get(name) != pulled.get(name):
                    return f"{key}.{name}: watcher {str(ours.get(name))[:300]} != pulled {str(pulled.get(name))[:300]}"
    return difference(mine, theirs)


def _serialized(patch: Any) -> Any:
    import warnings

    from bokeh.core.serialization import Buffer, Serialized

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        buffers = [Buffer(buffer_id, bytes(payload)) for buffer_id, payload in patch.buffers]
        return Serialized(patch.content, buffers)


# --- pushes ---------------------------------------------------------------------------

_GARBAGE: list[Any] = [None, 0, -1, 2**70, 1e308, "", "x" * 300, [], {}, {"type": "map"}, {"type": "object"}, [[[]]]]


def _garbage(rng: random.Random) -> Any:
    return copy.deepcopy(rng.choice(_GARBAGE))  # (not one list put in two places, or in itself)


def _pushed(rng: random.Random, doc: dict[str, Any]) -> Any:
    """The session's document, mutated (or something else altogether)."""
    doc = copy.deepcopy(doc)
    roll = rng.random()
    if roll < 0.1:
        return _garbage(rng)
    if roll < 0.2:
        return {**doc, "title": rng.choice(["pushed", "", 5, None])}
    if roll < 0.3:
        return {**doc, "roots": doc["roots"][: rng.randint(0, 1)]}
    # A value somewhere in it replaced.
    for _ in range(rng.randint(1, 3)):
        node: Any = doc
        for _ in range(rng.randint(1, 8)):
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            if not keys:
                break
            key = rng.choice(keys)
            if not isinstance(node[key], dict | list) or rng.random() < 0.25:
                node[key] = _garbage(rng)
                break
            node = node[key]
    return doc


async def _push_case(pusher: Tab, watcher: Watcher, seed: int, stats: collections.Counter[str]) -> bool:
    """Push the case of ``seed``; False when the pusher was closed for pushing too often (protocol.md: 4029)."""
    rng = random.Random(seed)
    what = f"push seed {seed}"
    doc = orjson.loads(watcher.text)["doc"]
    content = {"doc": _pushed(rng, doc)} if rng.random() < 0.9 else _garbage(rng)
    msgid = f"push{seed}"
    reply = None
    try:  # (as frames: the content may be no object)
        await pusher.send_frames(json.dumps({"msgid": msgid, "msgtype": "PUSH-DOC"}), "{}", json.dumps(content))
        while reply is None:
            message = await pusher.read_message()
            assert message.msgtype in (ERROR, PATCH_DOC), (message.msgtype, what)
            reply = message if message.reqid == msgid else None
    except websockets.ConnectionClosed:
        code = pusher.close_code
        assert code == RATE_CLOSE or code in DOCUMENTED_CLOSES, (code, pusher.errors(), what)
        stats[f"closed {code}"] += 1
    if reply is not None:
        _check_push_reply(reply, what, stats)
    assert not await watcher.heard(), f"a push reached another tab: {what}"
    assert await watcher.pull() == watcher.text, f"a refused push changed the document: {what}"
    return reply is not None


def _check_push_reply(reply: Any, what: str, stats: collections.Counter[str]) -> None:
    assert reply.msgtype == ERROR, (reply.content, what)
    if reply.content.get("code") == "push-not-allowed":
        assert reply.content["text"] == PUSH_REFUSAL, (reply.content, what)
        stats["refused push"] += 1
    else:  # (content that is no object: refused before it is read as a push)
        assert reply.content.get("text"), (reply.content, what)
        stats[f"refused {reply.content.get('code')}"] += 1


def test_every_push_is_refused_and_changes_nothing(bokeh_site: Site) -> None:
    async def run() -> collections.Counter[str]:
        stats: collections.Counter[str] = collections.Counter()
        started, done = time.monotonic(), 0
        while _more(done, started):
            session = Session(bokeh_site, "bk_workers")
            pusher, watcher = await session.tab(), Watcher(session, await session.tab())
            try:
                await watcher.start()
                for _ in range(PER_SESSION):
                    if not _more(done, started):
                        break
                    done += 1
                    if not await _push_case(pusher, watcher, SEED + done, stats):
                        await pusher.close()
                        pusher = await session.tab()
                # The pusher's connection goes on: its patch is applied, the watcher hears it.
                slider = ids_of_workers(orjson.loads(watcher.text)["doc"])["slider"]
                event = {"kind": "ModelChanged", "model": {"id": slider}, "attr": "value", "new": 7}
                assert (await pusher.patch([event])).msgtype == OK
                await _converges(watcher, "the patch after the pushes")
            finally:
                await pusher.close()
                await watcher.tab.close()
        stats["cases"] = done
        return stats

    logged = len(bokeh_site.log_text())
    stats = asyncio.run(run())
    print(f"bokeh push fuzz: {dict(stats)}, seed {SEED}")
    assert stats["cases"] >= MIN_CASES and stats["refused push"] >= MIN_CASES // 2, stats
    _check_log(bokeh_site, logged, "push fuzz")


# --- callbacks ------------------------------------------------------------------------

WORKERS = ("slider", "text", "source", "derived", "label", "total")


def ids_of_workers(doc_json: Any) -> dict[str, str]:
    """The ``bk_workers`` models' ids, by name."""
    named = {d.get("attributes", {}).get("name"): d["id"] for d in definitions(doc_json)}
    return {name: named[name] for name in WORKERS}


_NUMBERS: list[Any] = [
    0,
    1,
    -1,
    0.5,
    -0.0,
    999,
    1000,
    10**6,
    2**31,
    2**40,
    2**53 + 1,
    2**63 - 1,
    -(2**63),
    1e300,
    -1e-300,
]
_TEXTS = ["1", "-3", " 42 ", "", "x", "1e5", "99999999999999999999999", "0x10", "٣", "1_000", "9" * 400, "raise"]


def _number(rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.6:
        return rng.choice(_NUMBERS)
    if roll < 0.8:
        return rng.uniform(-1e6, 1e6)
    if roll < 0.9:
        return {"type": "number", "value": rng.choice(["nan", "inf", "-inf"])}
    return rng.choice(["7", None, True, [1], {"type": "map", "entries": []}])


def _callback_event(rng: random.Random, ids: dict[str, str]) -> dict[str, Any]:
    roll = rng.random()
    if roll < 0.3:
        return {"kind": "ModelChanged", "model": {"id": ids["slider"]}, "attr": "value", "new": _number(rng)}
    if roll < 0.55:
        text = rng.choice(_TEXTS) if rng.random() < 0.8 else str(rng.randint(-(10**25), 10**25))
        return {"kind": "ModelChanged", "model": {"id": ids["text"]}, "attr": "value", "new": text}
    if roll < 0.8:
        rows = rng.randint(0, 4)
        xs = [_number(rng) if rng.random() < 0.3 else float(rng.randint(-9, 9)) for _ in range(rows)]
        ys = [float(rng.randint(-9, 9)) for _ in range(rows if rng.random() < 0.9 else rows + 1)]
        data = {"type": "map", "entries": [["x", xs], ["y", ys]]}
        return {"kind": "ModelChanged", "model": {"id": ids["source"]}, "attr": "data", "new": data}
    data: dict[str, Any] = {"n": _number(rng) if rng.random() < 0.5 else rng.choice(_TEXTS)}
    if rng.random() < 0.2:
        del data["n"]
    if rng.random() < 0.3:
        data["label"] = rng.choice(_TEXTS)
    entries = [[key, value] for key, value in data.items()]
    return {"kind": "MessageSent", "msg_type": "work", "msg_data": {"type": "map", "entries": entries}}


async def _callback_case(
    site: Site, sender: Tab, watcher: Watcher, ids: dict[str, str], seed: int, stats: collections.Counter[str]
) -> bool:
    rng = random.Random(seed)
    events = [_callback_event(rng, ids) for _ in range(rng.randint(1, 3))]
    what = f"callback seed {seed}: {json.dumps(events)[:600]}"
    before = watcher.text
    outcome, result = await _send(sender, Case(seed, {"events": events}), f"cb{seed}")
    if outcome == "closed":
        code, errors = result
        assert code in DOCUMENTED_CLOSES and errors, (code, errors, what)
        stats[f"closed {code}"] += 1
    elif result.msgtype == ERROR:
        text = result.content.get("text")
        assert isinstance(text, str) and text.strip() and result.content.get("code") == "patch-refused", what
        assert not [m for m in LEAKS if m in text], (text, what)
        if text.startswith("callback error: "):
            stats["callback error"] += 1
        else:
            stats["refused"] += 1
            assert not await watcher.heard(), f"a refused patch reached another tab: {what}"
            assert await watcher.pull() == before, f"a refused patch changed the document: {what}"
    else:
        stats["applied"] += 1
    await _converges(watcher, what)
    return outcome != "closed"


def test_callbacks_fed_fuzzed_values_leave_a_session_that_converges(bokeh_site: Site) -> None:
    async def run() -> collections.Counter[str]:
        stats: collections.Counter[str] = collections.Counter()
        started, done = time.monotonic(), 0
        while _more(done, started):
            session = Session(bokeh_site, "bk_workers")
            sender, watcher = await session.tab(), Watcher(session, await session.tab())
            try:
                await watcher.start()
                ids = ids_of_workers(orjson.loads(watcher.text)["doc"])
                for _ in range(PER_SESSION):
                    if not _more(done, started):
                        break
                    done += 1
                    if not await _callback_case(bokeh_site, sender, watcher, ids, SEED + done, stats):
                        await sender.close()
                        sender = await session.tab()
            finally:
                await sender.close()
                await watcher.tab.close()
        stats["cases"] = done
        return stats

    logged = len(bokeh_site.log_text())
    stats = asyncio.run(run())
    print(f"bokeh callback fuzz: {dict(stats)}, seed {SEED}")
    assert stats["cases"] >= MIN_CASES and stats["applied"] >= 1 and stats["callback error"] >= 1, stats
    _check_log(bokeh_site, logged, "callback fuzz")


@pytest.mark.parametrize(
    ("events", "error"),
    [
        # int("0x10") raised in the text's callback: the text's change, made, reached no other tab.
        ([("text", "value", "0x10")], "ValueError"),
        # And the slider's change after it in the same patch was not made at all (the sender made it).
        ([("text", "value", "x"), ("slider", "value", 5)], "ValueError"),
        # The text's callback set the slider to 0, whose callback divided by it: the slider's 0 was kept unsent.
        ([("text", "value", "1000")], "ZeroDivisionError"),
    ],
    ids=["own", "after", "chained"],
)
def test_a_raising_callback_leaves_every_change_sent(
    bokeh_site: Site, events: list[tuple[str, str, Any]], error: str
) -> None:
    """Found by the callback fuzz (seed 4): every tab holds what the document holds after a callback raised."""

    async def run() -> None:
        session = Session(bokeh_site, "bk_workers")
        sender, watcher = await session.tab(), Watcher(session, await session.tab())
        try:
            await watcher.start()
            ids = ids_of_workers(orjson.loads(watcher.text)["doc"])
            sent = [{"kind": "ModelChanged", "model": {"id": ids[n]}, "attr": a, "new": v} for n, a, v in events]
            reply = await sender.patch(sent)
            refusal = {"text": f"callback error: {error}", "code": "patch-refused"}
            assert (reply.msgtype, reply.content) == (ERROR, refusal)
            await _converges(watcher, str(events))
            for name, attr, value in events:  # the sender's own changes: all made, as it made them
                assert getattr(watcher.document.get_model_by_id(ids[name]), attr) == value
        finally:
            await sender.close()
            await watcher.tab.close()

    asyncio.run(run())


# --- interleaved ----------------------------------------------------------------------


async def _sends(tab: Tab, cases: list[Case], stats: collections.Counter[str]) -> None:
    """Send ``cases`` one after another on ``tab``: each answered, or the tab closed with a documented code."""
    for case in cases:
        outcome, result = await _send(tab, case, f"il{case.seed}")
        if outcome == "closed":
            code, errors = result
            assert code in DOCUMENTED_CLOSES and errors, (code, errors, case.describe())
            stats[f"closed {code}"] += 1
            return
        assert result.msgtype in (OK, ERROR), (result.msgtype, case.describe())
        if result.msgtype == ERROR:
            assert result.content.get("code") == "patch-refused", (result.content, case.describe())
        stats["applied" if result.msgtype == OK else "refused"] += 1


def test_interleaved_tabs_of_one_session_converge(bokeh_site: Site) -> None:
    rounds = max(1, CASES // 3)

    async def run() -> collections.Counter[str]:
        stats: collections.Counter[str] = collections.Counter()
        started, done = time.monotonic(), 0
        while _more(done, started, rounds, max(1, MIN_CASES // 3)):
            seed = SEED + done
            rng = random.Random(seed)
            done += 1
            session = Session(bokeh_site, "bk_fuzzed")
            watcher = Watcher(session, await session.tab())
            tabs = [await session.tab() for _ in range(rng.randint(2, 3))]
            try:
                await watcher.start()
                ids = ids_of(orjson.loads(watcher.text)["doc"])
                plans = [
                    [make_case(seed * 10 + i * 3 + j, ids) for j in range(rng.randint(1, 3))] for i in range(len(tabs))
                ]
                await asyncio.gather(*(_sends(tab, plan, stats) for tab, plan in zip(tabs, plans, strict=True)))
                # The senders' replies are in: the watcher heard every applied patch before its own reply.
                await _converges(watcher, f"interleaved seed {seed}: {[[c.describe() for c in p] for p in plans]}")
                stats["tabs"] += len(tabs)
            finally:
                for tab in tabs:
                    await tab.close()
                await watcher.tab.close()
        stats["rounds"] = done
        return stats

    logged = len(bokeh_site.log_text())
    stats = asyncio.run(run())
    print(f"bokeh interleaved fuzz: {dict(stats)}, seed {SEED}")
    assert stats["rounds"] >= 1 and stats["applied"] >= 1, stats
    _check_log(bokeh_site, logged, "interleaved fuzz")
