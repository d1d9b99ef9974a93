"""Random and mutated frame sequences against a running server, for a bounded time.

Each hypothesis example is one websocket: it gets a token (a page's, a new session's,
or a bad one), sends frames drawn from ``fuzz_frames``, then a SERVER-INFO-REQ
sentinel. The server must answer the sentinel or close with a documented code right
after an ERROR naming it; every message it sends must be one the protocol knows, and
no error may carry a traceback. Meanwhile a bystander session does slider round trips,
all of which must succeed (their p99 is printed: a speed, not a test). Afterwards the process still serves, logged no
unhandled exception, and every fuzzed session expires.

CI sends ``EXAMPLES`` (120) of hypothesis's random draws. For a longer run:
``DOCSYNC_FUZZ_EXAMPLES=3000 DOCSYNC_FUZZ_SEED=<n>`` (the seed makes the draws
repeatable: a failure is rebuilt by rerunning with the same seed and count), with
``DOCSYNC_FUZZ_SECONDS`` the time after which no new example is sent (300 by default;
pass ``--timeout`` above it, pytest-timeout caps a test at 300 s).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import statistics
import threading
import time
from collections.abc import Coroutine, Iterator
from typing import Any

import pytest
import websockets
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from docsync.protocol import ACK, ERROR, OK, PULL_DOC_REPLY, SERVER_INFO_REPLY, new_message, pull_doc_req
from docsync.testing import EVENT_WAIT, RawSocket

from .fuzz_frames import frame_sequences, with_ids
from .harness import Database, Site, mint_token, open_client, pull_json, wait_until_sync
from .test_errors import LEAKS

#: Examples sent once every kind below is met; more draws are not sent. A count, not a
#: duration, so that a loaded machine sends as many as a quiet one.
EXAMPLES = int(os.environ.get("DOCSYNC_FUZZ_EXAMPLES", "120"))
#: A safety net only (a loaded machine sends EXAMPLES in well under it): the run's time bound.
FUZZ_SECONDS = float(os.environ.get("DOCSYNC_FUZZ_SECONDS", "300"))
#: Draws cost ~20 ms even when not sent, so the count bounds the run too. About a third
#: of the draws are needed to meet every kind below; the rest are headroom.
MAX_EXAMPLES = max(450, 2 * EXAMPLES)
#: Hypothesis's seed when set (repeatable draws), else a random one each run, as in CI.
SEED = os.environ.get("DOCSYNC_FUZZ_SEED")
RATE = 50
LIFETIME = 1.0
FUZZED_APPS = ("limits", "all_models")
ALLOWED_TYPES = {"ACK", "OK", "ERROR", "PULL-DOC-REPLY", "PATCH-DOC", "PUSH-DOC", "SERVER-INFO-REPLY", "RESUME-REPLY"}
#: close code -> how the ERROR sent before it begins
DOCUMENTED_CLOSES = {
    1002: ("",),
    1009: ("frame too large", "message too large", "too many buffers"),
    # Every client message counts against a rate (protocol.md §12).
    4029: (
        "too many patches per second",
        "too many document requests per second",
        "too many resets per second",
        "too many requests per second",
        "too many messages per second",
        "this client sends too many",  # (its client's buckets, §11: off on this site)
    ),
}


class Enough(Exception):
    """Ends a fuzz's draws early: enough was sent, or its time is up (hypothesis re-raises it)."""


class LoopThread:
    """An event loop in a thread: the bystander runs there, and each example's socket."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine: Coroutine[Any, Any, Any], timeout: float = 3 * EVENT_WAIT) -> Any:
        # A bound against hanging, above the EVENT_WAIT the coroutines give their own events.
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


class Bystander:
    """Slider round trips on a session nobody fuzzes, timed."""

    def __init__(self, config: dict[str, Any], headers: dict[str, str]) -> None:
        self.config = config
        self.headers = headers  # its browser's cookie: the session is that visitor's
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self.stopping = False

    async def run(self) -> None:
        session = await open_client(self.config, headers=self.headers)
        slider, echo = session.document.get_model_by_name("slider"), session.document.get_model_by_name("echo")
        value = 0
        try:
            while not self.stopping:
                value += 1
                start = time.perf_counter()
                try:
                    slider.value = value  # type: ignore[union-attr]
                    await session.sync(EVENT_WAIT)
                    await session.wait_for(lambda v=value: echo.text == f"value={v:g}", EVENT_WAIT)  # type: ignore[union-attr]
                    self.latencies.append(time.perf_counter() - start)
                except Exception as exc:
                    self.failures.append(f"round trip {value}: {exc!r}")
                await asyncio.sleep(0.02)
            self.failures += [f"error: {m.content}" for m in session.errors]
        finally:
            await session.close()


@pytest.fixture(scope="module")
def fuzz_site(tmp_path_factory: pytest.TempPathFactory, database: Database) -> Iterator[Site]:
    site = Site(
        tmp_path_factory.mktemp("fuzz"),
        database,
        DOCSYNC_MAX_PATCHES_PER_SECOND=str(RATE),
        DOCSYNC_UNUSED_SESSION_LIFETIME=str(LIFETIME),
        # The fuzz makes a session every few examples, all as one client: a long run went
        # past the 200 at once and 2 a second (close 4029), a limit tested elsewhere.
        DOCSYNC_NEW_SESSIONS_PER_CLIENT_PER_SECOND="1000",
        # Its bursts, all as one client, went past the client's 1,000 messages at once (close
        # 4029 with the client's ERROR, CI of 2026-12-07): tested on sites of their own.
        DOCSYNC_MAX_PATCHES_PER_SECOND_PER_CLIENT="none",
        DOCSYNC_MAX_DOCUMENT_REQUESTS_PER_SECOND_PER_CLIENT="none",
        # And the JSON values it sends (its draws of large values, back to back, one client).
        DOCSYNC_MAX_VALUES_PER_SECOND_PER_CLIENT="none",
        DOCSYNC_MAX_WEBSOCKET_FRAMES_PER_SECOND_PER_CLIENT="none",
    )
    site.start()
    try:
        yield site
    finally:
        site.stop()


async def _connect(url: str, token: str | None, headers: dict[str, str] | None = None) -> RawSocket:
    sock = await RawSocket.connect(url, token, headers=headers)
    with contextlib.suppress(websockets.ConnectionClosed):
        await sock.read_message()
    return sock


async def _model_ids(sock: RawSocket) -> list[str]:
    """The session's model ids, a ColumnDataSource's first: ``fuzz_frames`` aims its arrays at the first."""
    reply = await sock.request(pull_doc_req())
    assert reply.msgtype == PULL_DOC_REPLY, reply
    models = reply.content["doc"]["models"]
    return [m["id"] for m in sorted(models, key=lambda m: m["name"] != "ColumnDataSource")]


async def _exchange(sock: RawSocket, frames: list[str | bytes]) -> tuple[bool, bool]:
    """Send ``frames`` and the sentinel; return (closed by the server, sentinel answered)."""
    done = asyncio.Event()

    async def read() -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            while True:
                await sock.read_message(timeout=60)
        done.set()

    reader = asyncio.create_task(read())
    with contextlib.suppress(websockets.ConnectionClosed):
        for frame in frames:
            await sock.socket.send(frame)
    sentinel = new_message("SERVER-INFO-REQ")
    with contextlib.suppress(websockets.ConnectionClosed):
        await sock.send_message(sentinel)

    def answered() -> bool:
        return any(m.reqid == sentinel.msgid and m.msgtype == SERVER_INFO_REPLY for m in sock.messages)

    deadline = time.monotonic() + EVENT_WAIT  # one of the two must come: an event, not a speed
    while not (done.is_set() or answered()) and time.monotonic() < deadline:
        await asyncio.sleep(0.005)
    closed_by_server = done.is_set()
    was_answered = answered()
    await sock.close()
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(reader, 10)
    return closed_by_server, was_answered


def _check_messages(sock: RawSocket, what: str) -> None:
    for message in sock.messages:
        assert message.msgtype in ALLOWED_TYPES, f"{what}: unknown message {message.msgtype}"
        if message.msgtype == ERROR:
            text = message.content.get("text")
            assert isinstance(text, str), f"{what}: ERROR without text {message.content}"
            leaks = [marker for marker in LEAKS if marker in text]
            assert not leaks, f"{what}: ERROR shows {leaks}: {text[:300]}"


def _check_documented_close(sock: RawSocket, allowed: dict[int, tuple[str, ...]], what: str) -> None:
    code = sock.close_code
    assert code in allowed, f"{what}: closed with {code} ({sock.close_reason}); messages {sock.messages[-3:]}"
    last = sock.messages[-1] if sock.messages else None
    assert last is not None and last.msgtype == ERROR, f"{what}: closed with {code} without an ERROR first"
    assert last.content.get("code") == f"close-{code}", f"{what}: ERROR {last.content} before close {code}"
    assert str(last.content["text"]).startswith(allowed[code]), f"{what}: {last.content} for {code}"


# The websockets clients of the bystander (another thread) use the random module while
# hypothesis draws, which hypothesis mistakes for a strategy using it.
@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
def test_fuzzed_frames_never_break_the_server(fuzz_site: Site) -> None:
    browser = fuzz_site.browser()
    pool = {app: [browser.page_config(app) for _ in range(2)] for app in FUZZED_APPS}
    bystander = Bystander(browser.page_config("echo"), browser.cookie_header())
    runner = LoopThread()
    bystanding = asyncio.run_coroutine_threadsafe(bystander.run(), runner.loop)
    stats = {"examples": 0, "server_closes": 0, "answered": 0, "refused_tokens": 0}
    replies: collections.Counter[str] = collections.Counter()
    deadline = time.monotonic() + FUZZ_SECONDS

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def fuzz(data: st.DataObject) -> None:
        # Everything is drawn first, the same way every time: hypothesis replays choices.
        app = data.draw(st.sampled_from(FUZZED_APPS), label="app")
        mode = data.draw(st.sampled_from(["pool"] * 6 + ["new"] * 2 + ["forged", "none", "other_app"]), label="mode")
        forged = data.draw(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789.-_", min_size=1, max_size=80))
        pooled = data.draw(st.integers(0, len(pool[app]) - 1), label="pooled session")
        frames = data.draw(frame_sequences(), label="frames")
        enough = stats["examples"] >= EXAMPLES and min(stats["server_closes"], stats["answered"]) >= 10
        if (enough and stats["refused_tokens"] >= 5) or time.monotonic() > deadline:
            raise Enough  # the remaining draws would not be sent, yet cost ~20 ms each
        stats["examples"] += 1
        url = fuzz_site.ws_url(app)
        if mode in ("forged", "none", "other_app"):
            token = {"forged": forged, "none": None, "other_app": mint_token("fuzz-other-app", "echo", None)}[mode]
            sock = runner.run(_connect(url, token))
            with contextlib.suppress(websockets.ConnectionClosed):
                runner.run(sock.read_message(timeout=EVENT_WAIT))
            _check_messages(sock, f"{mode} token")
            _check_documented_close(sock, {1008: ("",)}, f"{mode} token")
            stats["refused_tokens"] += 1
            return
        config = pool[app][pooled] if mode == "pool" else browser.page_config(app)
        sock = runner.run(_connect(url, config["token"], browser.cookie_header()))
        if mode == "pool" and sock.errors() == ["token expired"]:
            # A page's token opens connections for a limited time (protocol.md §4): a long
            # run outlives the pool's pages, and a browser would load the page again.
            config = pool[app][pooled] = browser.page_config(app)
            sock = runner.run(_connect(url, config["token"], browser.cookie_header()))
        assert sock.messages and sock.messages[0].msgtype == ACK, f"refused a valid token: {sock.errors()}"
        frames = with_ids(frames, runner.run(_model_ids(sock)))
        what = f"{app} frames {[f[:80] for f in frames][:12]!r}"
        closed, answered = runner.run(_exchange(sock, frames))
        _check_messages(sock, what)
        replies.update(m.msgtype for m in sock.messages)
        if closed:
            _check_documented_close(sock, DOCUMENTED_CLOSES, what)
            stats["server_closes"] += 1
        else:
            assert answered, f"{what}: the sentinel got no answer and the connection stayed open"
            stats["answered"] += 1

    if SEED is not None:
        fuzz = seed(int(SEED))(fuzz)
    try:
        with contextlib.suppress(Enough):
            fuzz()
    finally:
        bystander.stopping = True
        bystanding.result(30)
        runner.stop()

    # Enough was thrown, of every kind.
    assert stats["examples"] >= 100 and stats["server_closes"] >= 10 and stats["answered"] >= 10, stats
    assert stats["refused_tokens"] >= 5, stats
    # Fuzzed patches were applied, and refused, by the session code behind the framing.
    assert replies["OK"] >= 50 and replies["ERROR"] >= 50 and replies["PULL-DOC-REPLY"] > 0, replies
    # The bystander's every round trip worked (each within its 5 s waits); how fast is printed below.
    assert not bystander.failures, bystander.failures[:5]
    assert len(bystander.latencies) >= 50
    p99 = statistics.quantiles(bystander.latencies, n=100)[98]
    # The process is alive and serves: a new session round-trips.
    assert fuzz_site.alive
    asyncio.run(_still_serves(fuzz_site))
    log = fuzz_site.log_text()
    assert "Exception inside application" not in log and "Traceback" not in log, log[-3000:]
    # No session leaks: with no connection left, every fuzzed session expires.
    wait_until_sync(
        lambda: not [r for app in FUZZED_APPS for r in fuzz_site.live_rows(app)],
        10 * LIFETIME + 5,
        "the fuzzed sessions to expire",
    )
    trips = len(bystander.latencies)
    print(f"fuzz: {stats}, replies {dict(replies)}, bystander p99 {p99 * 1000:.1f} ms over {trips} round trips")


async def _still_serves(site: Site) -> None:
    config = site.browser().page_config("limits")
    session = await open_client(config)
    try:
        session.document.get_model_by_name("slider").value = 42.0  # type: ignore[union-attr]
        await session.sync(EVENT_WAIT)
        assert not session.errors
        assert any(m.msgtype == OK for m in session.received)
    finally:
        await session.close()
    doc = await pull_json(config)
    assert next(m for m in doc["models"] if m["name"] == "Slider")["attributes"]["value"] == 42.0
