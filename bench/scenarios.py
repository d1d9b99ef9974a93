"""The benchmark's scenarios, each bounded in count and time; all traffic to 127.0.0.1.

A scenario is ``async def name(target, params) -> dict`` returning metrics (numbers)
and, under ``"info"``, anything else worth keeping.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import itertools
import os
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from lean_client import OK, PATCH_DOC, BenchError, Flavour, Session, fetch_page, open_session
from procstat import cpu_seconds, rss_bytes, self_cpu_seconds, write_syscalls

BENCH_POINTS = 1000
BIG_POINTS = 1_000_000
MARK = 42.0  # a slider value no fresh session has


@dataclass
class Target:
    """Where the load goes: a flavour of client, a server URL, the server's pid."""

    flavour: Flavour
    base_url: str
    pid: int

    async def open(self, app: str = "bench", points: int = BENCH_POINTS, **kwargs: Any) -> Session:
        return await open_session(self.flavour, self.base_url, app, points, **kwargs)


def percentile(values: list[float], q: float) -> float:
    """Return the ``q``-th percentile (nearest rank) of ``values``."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


class CpuMeter:
    """CPU seconds used by the server and by this load generator, and the server's writes, over a stretch of time."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.server = cpu_seconds(pid)
        self.client = self_cpu_seconds()
        self.writes = write_syscalls(pid)
        self.started = time.perf_counter()

    def read(self) -> dict[str, float]:
        return {
            "server_cpu_s": round(cpu_seconds(self.pid) - self.server, 3),
            "client_cpu_s": round(self_cpu_seconds() - self.client, 3),
            # The load generator is one process: near 1.0 it, not the server, sets the pace.
            "client_cpu_share": round((self_cpu_seconds() - self.client) / (time.perf_counter() - self.started), 3),
            "server_writes": write_syscalls(self.pid) - self.writes if self.writes >= 0 else -1,
        }


def _per(writes: float, count: int) -> float | None:
    """Write syscalls per round trip; None where /proc counts none (Tornado sends with send(2), not write(2))."""
    return round(writes / count, 2) if writes > 0 and count else None


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def next_value(value: float) -> float:
    """A slider value different from ``value``, within 1..100."""
    return 1.0 + (value % 99)


async def open_many(target: Target, count: int, concurrency: int, app: str = "bench") -> list[Session]:
    """Open ``count`` sessions of ``app``, ``concurrency`` at a time; close them all on failure."""
    sessions: list[Session] = []
    semaphore = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with semaphore:
            sessions.append(await target.open(app))

    try:
        await asyncio.gather(*(one() for _ in range(count)))
    except BaseException:
        await close_all(sessions)
        raise
    return sessions


async def close_all(sessions: list[Session], concurrency: int = 100) -> None:
    semaphore = asyncio.Semaphore(concurrency)

    async def one(session: Session) -> None:
        async with semaphore:
            with contextlib.suppress(Exception):
                await session.close()

    await asyncio.gather(*(one(s) for s in sessions))


async def warm_up(target: Target, opens: int = 5, app: str = "bench") -> None:
    """Let the server load the application (``app``) and its imports before anything is timed."""
    for _ in range(opens):
        session = await target.open(app)
        await session.round_trip(next_value(session.value))
        await session.close()


async def session_open(target: Target, params: dict[str, Any]) -> dict[str, Any]:
    """Sequential opens (connect → ACK → full pull), each closed right after."""
    await warm_up(target)
    times = []
    for _ in range(params["n"]):
        session = await target.open()
        times.append(session.open_seconds)
        await session.close()
    return {
        "open_p50_ms": ms(percentile(times, 50)),
        "open_p99_ms": ms(percentile(times, 99)),
        "info": {"n": len(times)},
    }


async def browser_session(target: Target, params: dict[str, Any]) -> dict[str, Any]:
    """What a browser's first visit costs: GET the app's page, then connect with its token → ACK → full pull.

    One after another, each closed after. The page alone (GET, token read) is timed
    too, with the server's CPU for each part.
    """
    await warm_up(target)
    flavour, path = target.flavour, target.flavour.page_path("bench")
    for _ in range(3):  # the page's own imports and templates
        flavour.token_from_page(await fetch_page(target.base_url, path))
    meter = CpuMeter(target.pid)
    pages = []
    for _ in range(params["n"]):
        start = time.perf_counter()
        flavour.token_from_page(await fetch_page(target.base_url, path))
        pages.append(time.perf_counter() - start)
    page_cpu = meter.read()
    meter = CpuMeter(target.pid)
    times = []
    for _ in range(params["n"]):
        start = time.perf_counter()
        token = flavour.token_from_page(await fetch_page(target.base_url, path))
        session = await target.open(token=token)
        times.append(time.perf_counter() - start)
        await session.close()
    cpu = meter.read()
    return {
        "full_open_p50_ms": ms(percentile(times, 50)),
        "full_open_p99_ms": ms(percentile(times, 99)),
        "server_cpu_ms_per_full_open": round(cpu["server_cpu_s"] * 1000 / len(times), 3),
        "page_p50_ms": ms(percentile(pages, 50)),
        "server_cpu_ms_per_page": round(page_cpu["server_cpu_s"] * 1000 / len(pages), 3),
        "info": {"n": len(times), "page": path, **cpu},
    }


async def live_sessions(target: Target) -> int | None:
    """The sessions a docsync server holds now, from its ``/docsync-metrics`` (None elsewhere)."""
    token = os.environ.get("DJANGO_SECRET_KEY")  # the bench's servers take it as DOCSYNC_METRICS_TOKEN too
    if target.flavour.name != "docsync" or not token:
        return None
    host, port = target.base_url.removeprefix("ws://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(
            f"GET /docsync-metrics HTTP/1.0\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
        )
        text = (await asyncio.wait_for(reader.read(-1), 10)).decode("utf-8", "replace")
    finally:
        writer.close()
    found = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("docsync_sessions{")]
    return int(sum(found)) if " 200 " in text.split("\r\n", 1)[0] else None


async def _sample_live(target: Target, samples: list[tuple[float, int]], stop: asyncio.Event) -> None:
    """Every 250 ms, (when, the live sessions of the server) while the churn runs."""
    while not stop.is_set():
        with contextlib.suppress(OSError, asyncio.TimeoutError):
            count = await live_sessions(target)
            if count is None:
                return
            # When the answer came: the server counted at some moment before it.
            samples.append((time.perf_counter(), count))
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.25)


async def churn(target: Target, params: dict[str, Any]) -> dict[str, Any]:
    """``clients`` concurrent loops of open → pull → close for ``seconds``.

    With short lifetimes (the sustained churn) the live sessions of a docsync server are
    sampled: expiry keeps pace if, at every sample, they are at most the sessions opened
    in the last lifetime + check interval (rate x (lifetime + check), at the rate of that
    moment) plus one second's opens (a session is connected for its open and pull, and a
    close reaches the server a moment after the client sends it) plus one per client (and,
    in the first window, the sessions the warm-up left).
    """
    await warm_up(target)
    clients, seconds = params["clients"], params["seconds"]
    live: list[tuple[float, int]] = []
    opened_at: list[float] = []
    # The warm-up's sessions (alive until they expire, within the first window).
    before = (await live_sessions(target) or 0) if "lifetime" in params else 0
    stop_sampling = asyncio.Event()
    sampler = asyncio.create_task(_sample_live(target, live, stop_sampling)) if "lifetime" in params else None
    times: list[float] = []
    per_second = [0] * (int(seconds) + 1)
    failures: list[str] = []
    meter = CpuMeter(target.pid)
    start = time.perf_counter()
    deadline = start + seconds

    async def client() -> None:
        while time.perf_counter() < deadline and len(failures) < 100:
            try:
                session = await asyncio.wait_for(target.open(), timeout=30)
            except Exception as exc:
                failures.append(f"{type(exc).__name__}: {exc}"[:200])
                await asyncio.sleep(0.05)
                continue
            times.append(session.open_seconds)
            opened_at.append(time.perf_counter())
            per_second[min(len(per_second) - 1, int(time.perf_counter() - start))] += 1
            await session.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - start
    cpu = meter.read()
    stop_sampling.set()
    if sampler is not None:
        await sampler
    bounds: dict[str, float] = {}
    if live:
        opened_at.sort()
        window = params["lifetime"] + params["check"] + 1.0
        ratios = []
        for answered, count in live:
            recent = bisect.bisect_right(opened_at, answered) - bisect.bisect_left(opened_at, answered - window)
            earlier = before if answered - start < window else 0
            ratios.append(count / (recent + clients + earlier))
        bounds = {"live_sessions_max": max(c for _, c in live), "live_over_bound": round(max(ratios), 3)}
    return {
        **bounds,
        "sessions_per_s": round(len(times) / elapsed, 1),
        "open_p50_ms": ms(percentile(times, 50)),
        "open_p99_ms": ms(percentile(times, 99)),
        "server_cpu_ms_per_open": round(cpu["server_cpu_s"] * 1000 / max(1, len(times)), 3),
        "failures": len(failures),
        # Expiry keeping pace with creation: no refusal below the cap, no second without an open.
        "refused_at_cap": sum("maximum of" in f for f in failures),
        "seconds_without_opens": per_second[:-1].count(0),
        "info": {
            "opened": len(times),
            "seconds": round(elapsed, 2),
            "per_second": per_second,
            "live": [(round(t - start, 2), c) for t, c in live],
            "errors": failures[:5],
            **cpu,
        },
    }


async def _sample_cpu(
    pid: int, until: Callable[[list[tuple[float, float]]], bool], limit: float
) -> list[tuple[float, float]]:
    """Sample (time, cpu seconds) of ``pid`` every 50 ms until ``until(samples)`` or ``limit`` s."""
    samples = [(time.perf_counter(), cpu_seconds(pid))]
    end = samples[0][0] + limit
    while not until(samples) and samples[-1][0] < end:
        await asyncio.sleep(0.05)
        samples.append((time.perf_counter(), cpu_seconds(pid)))
    return samples


async def destroy(target: Target, params: dict[str, Any]) -> dict[str, Any]:
    """CPU the server spends destroying expired sessions, per session.

    Open ``n`` sessions, close them all, then watch the server's CPU time: the rate
    while the closed sessions wait out their lifetime is the baseline; everything
    above it from just before they expire until the server is quiet again is the
    cost of destroying them.
    """
    await warm_up(target)
    n, lifetime, check = params["n"], params["lifetime"], params["check"]
    sessions = await open_many(target, n, params.get("concurrency", 20))
    marking = asyncio.Semaphore(20)

    async def mark(session: Session) -> None:  # a value that a recreated session would not have
        async with marking:
            await session.round_trip(MARK)

    await asyncio.gather(*(mark(s) for s in sessions))
    await asyncio.sleep(1.0)
    rss_open = rss_bytes(target.pid)
    await close_all(sessions)
    closed = time.perf_counter()
    await asyncio.sleep(0.5)  # the disconnects themselves are not the cost measured
    before = await _sample_cpu(target.pid, lambda s: s[-1][0] >= closed + lifetime - 0.1, lifetime + 1)
    base_rate = (before[-1][1] - before[0][1]) / max(1e-9, before[-1][0] - before[0][0])
    earliest_end = closed + lifetime + check + 0.5

    def quiet(samples: list[tuple[float, float]]) -> bool:
        # Done once the last second used no more than the baseline plus one tick.
        t, cpu = samples[-1]
        if t < earliest_end:
            return False
        old = [s for s in samples if s[0] <= t - 1.0]
        return bool(old) and cpu - old[-1][1] <= base_rate * (t - old[-1][0]) + 0.011

    during = await _sample_cpu(target.pid, quiet, params.get("max_wait", 300))
    window = during[-1][0] - during[0][0]
    spent = during[-1][1] - during[0][1] - base_rate * window
    busy = [b for a, b in itertools.pairwise(during) if b[1] - a[1] > 0.02]
    burst = busy[-1][0] - busy[0][0] if len(busy) > 1 else 0.0
    rss_after = rss_bytes(target.pid)
    destroyed = await _count_destroyed(target, sessions[:: max(1, n // 10)])
    return {
        "destroy_cpu_ms_per_session": round(max(0.0, spent) * 1000 / n, 4),
        "info": {
            "n": n,
            "window_s": round(window, 2),
            "cpu_s": round(during[-1][1] - during[0][1], 3),
            "baseline_cpu_per_s": round(base_rate, 4),
            "burst_s": round(burst, 2),
            "rss_open_mb": round(rss_open / 2**20, 1),
            "rss_after_mb": round(rss_after / 2**20, 1),
            "timed_out": window >= params.get("max_wait", 300) - 0.1,
            "sampled_sessions_destroyed": destroyed,
        },
    }


async def _count_destroyed(target: Target, sessions: list[Session]) -> str:
    """Reconnect to ``sessions``: a fresh document (no mark) means the session was destroyed."""
    fresh = 0
    for old in sessions:
        again = await target.open(token=old.token)
        fresh += again.value != MARK
        await again.close()
    return f"{fresh}/{len(sessions)}"


async def round_trips(session: Session, *, count: int | None = None, seconds: float | None = None) -> list[float]:
    """Round trips of ``session`` (``count`` of them, or as many as fit in ``seconds``): their times."""
    times = []
    deadline = time.perf_counter() + (seconds if seconds is not None else 1e9)
    i = 0
    while (count is None or i < count) and time.perf_counter() < deadline:
        times.append(await session.round_trip(next_value(session.value), check=i % 50 == 0))
        i += 1
    return times


async def round_trip(target: Target, params: dict[str, Any]) -> dict[str, Any]:
    """One client: set the slider, wait for the PATCH-DOC with the new ``y``; repeat.

    ``params["app"]``: the app (default ``bench``; ``bench_sync``: its callback sync, in a worker thread).
    """
    app = params.get("app", "bench")
    await warm_up(target, app=app)
    session = await target.open(app)
    try:
        await round_trips(session, count=params.get("warmup", 50))
        meter = CpuMeter(target.pid)
        times = await round_trips(session, count=params["n"])
        cpu = meter.read()
    finally:
        await session.close()
    return {
        "rt_p50_ms": ms(percentile(times, 50)),
        "rt_p99_ms": ms(percentile(times, 99)),
        "server_cpu_ms_per_rt": round(cpu["server_cpu_s"] * 1000 / len(times), 3),
        "server_writes_per_rt": _per(cpu["server_writes"], len(times)),
        "info": {"n": len(times), "values_checked": session.checked, **cpu},
    }


async def throughput(target: Target, params: dict[str, Any]) -> dict[str, Any]:
    """``sessions`` clients, each doing round trips in a loop for ``seconds`` (of ``params["app"]``, as above)."""
    app = params.get("app", "bench")
    await warm_up(target, app=app)
    sessions = await open_many(target, params["sessions"], 10, app)
    try:
        for session in sessions:
            await round_trips(session, count=2)
        # With "scrape_every": the server's /docsync-metrics is read that often meanwhile,
        # as Prometheus would (its cost on throughput: README, "Metrics").
        scrapes: list[tuple[float, int]] = []
        stop = asyncio.Event()
        scraper = asyncio.create_task(_scrape(target, params.get("scrape_every"), scrapes, stop))
        meter = CpuMeter(target.pid)
        start = time.perf_counter()
        results = await asyncio.gather(*(round_trips(s, seconds=params["seconds"]) for s in sessions))
        elapsed = time.perf_counter() - start
        cpu = meter.read()
        stop.set()
        await scraper
    finally:
        await close_all(sessions)
    times = [t for r in results for t in r]
    return {
        "rt_per_s": round(len(times) / elapsed, 1),
        "rt_p50_ms": ms(percentile(times, 50)),
        "rt_p99_ms": ms(percentile(times, 99)),
        "server_cpu_ms_per_rt": round(cpu["server_cpu_s"] * 1000 / max(1, len(times)), 3),
        "server_writes_per_rt": _per(cpu["server_writes"], len(times)),
        "client_cpu_share": cpu["client_cpu_share"],
        "info": {
            "round_trips": len(times),
            "seconds": round(elapsed, 2),
            "slowest_client": min(map(len, results)),
            "scrapes": len(scrapes),
            **cpu,
        },
    }


async def _scrape(target: Target, every: float | None, scrapes: list[tuple[float, int]], stop: asyncio.Event) -> None:
    """Read the server's metrics every ``every`` seconds until ``stop`` (never without ``every``)."""
    while every and not stop.is_set():
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
        if not stop.is_set():
            count = await live_sessions(target)
            if count is None:
                raise BenchError("the server's /docsync-metrics did not answer")
            scrapes.append((time.perf_counter(), count))


async def memory(target: Target, params: dict[str, Any]) -> dict[str, Any]:
    """RSS growth per open, connected session between ``low`` and ``high`` sessions."""
    await warm_up(target)
    low, high, settle = params["low"], params["high"], params.get("settle", 2.0)
    sessions = await open_many(target, low, 20)
    try:
        await asyncio.sleep(settle)
        rss_low = rss_bytes(target.pid)
        sessions += await open_many(target, high - low, 20)
        await asyncio.sleep(settle)
        rss_high = rss_bytes(target.pid)
    finally:
        await close_all(sessions)
    return {
        "kb_per_session": round((rss_high - rss_low) / (high - low) / 1024, 1),
        "info": {"rss_low_mb": round(rss_low / 2**20, 1), "rss_high_mb": round(rss_high / 2**20, 1)},
    }


async def idle(target: Target, params: dict[str, Any]) -> dict[str, Any]:
    """An active session's round-trip p99, alone and beside ``idle`` connected sessions."""
    await warm_up(target)
    seconds = params["seconds"]
    active = await target.open()
    sessions: list[Session] = []
    try:
        await round_trips(active, count=50)
        alone = await round_trips(active, seconds=seconds)
        start = time.perf_counter()
        sessions = await open_many(target, params["idle"], params.get("concurrency", 50))
        opened = time.perf_counter() - start
        await asyncio.sleep(params.get("settle", 3.0))
        print("PHASE measure: crowded round trips", file=sys.stderr, flush=True)  # for hotspots.py
        crowded = await round_trips(active, seconds=seconds)
        rss = rss_bytes(target.pid)
    finally:
        await close_all([*sessions, active])
    p99_alone, p99_crowded = percentile(alone, 99), percentile(crowded, 99)
    return {
        "rt_p99_alone_ms": ms(p99_alone),
        "rt_p99_crowded_ms": ms(p99_crowded),
        "crowded_over_alone": round(p99_crowded / p99_alone, 2),
        "info": {
            "idle_sessions": len(sessions),
            "open_seconds": round(opened, 1),
            "rss_mb": round(rss / 2**20, 1),
            "rt_p50_alone_ms": ms(percentile(alone, 50)),
            "rt_p50_crowded_ms": ms(percentile(crowded, 50)),
        },
    }


async def big_pull(target: Target, params: dict[str, Any]) -> dict[str, Any]:
    """Full pulls of the 1,000,000-point document, each in a new session."""
    pulls, opens, sizes = [], [], []
    for _ in range(params["n"]):
        session = await target.open("bench_big", BIG_POINTS)
        pulls.append(session.pull_seconds)
        opens.append(session.open_seconds)
        sizes.append(session.pull_bytes)
        await session.close()
    raw = 2 * 8 * BIG_POINTS
    return {
        "pull_ms": ms(percentile(pulls, 50)),
        "open_and_pull_ms": ms(percentile(opens, 50)),
        "wire_over_raw": round(max(sizes) / raw, 5),
        "info": {"wire_bytes": max(sizes), "raw_bytes": raw, "pulls_ms": [ms(p) for p in pulls]},
    }


def _frame_spec(frame: str | bytes) -> Any:
    return frame if isinstance(frame, str) else {"binary": len(frame)}


async def capture(target: Target, params: dict[str, Any]) -> dict[str, Any]:
    """Record the frames docsync sends, as the echo floor's shapes."""
    shapes: dict[str, Any] = {}
    for app, points in (("bench", BENCH_POINTS), ("bench_big", BIG_POINTS)):
        session = await target.open(app, points, keep_frames=True)
        assert session.greet is not None and session.pulled is not None
        replies = [[_frame_spec(f) for f in session.pulled.frames or []]]
        if app == "bench":
            conn = session.conn
            await conn.send(PATCH_DOC, session.flavour.patch_content(session.slider_id, 7.0, session.seq))
            patch_frames: list[str | bytes] = []
            kinds = set()
            while kinds != {PATCH_DOC, OK}:
                message = await conn.receive(keep_frames=True)
                kinds.add(message.msgtype)
                patch_frames += message.frames or []
            replies.append([_frame_spec(f) for f in patch_frames])
        shapes[app] = {"greet": [_frame_spec(f) for f in session.greet.frames or []], "replies": replies}
        await session.close()
    return {"info": {"shapes": shapes}}


SCENARIOS: dict[str, Callable[[Target, dict[str, Any]], Awaitable[dict[str, Any]]]] = {
    "open": session_open,
    "browser": browser_session,
    "churn": churn,
    "sustained": churn,
    "destroy": destroy,
    "roundtrip": round_trip,
    "throughput": throughput,
    # The same two on bench_sync: its callback a plain def, run in a worker thread.
    "roundtrip_sync": round_trip,
    "throughput_sync": throughput,
    "memory": memory,
    "idle": idle,
    "bigpull": big_pull,
    "capture": capture,
}
