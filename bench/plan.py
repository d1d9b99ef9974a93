"""What the benchmark runs: scenarios, their sizes (quick and full), servers and targets."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from servers import Lifetimes

#: The main table's two servers (runserver's daphne, and the recommended uvicorn).
MAIN_DOCSYNC = ("docsync-daphne", "docsync-uvicorn")
#: Two more ASGI servers, in the servers table beside those two (issue 20).
OTHER_ASGI = ("docsync-granian", "docsync-hypercorn")
DOCSYNC = (*MAIN_DOCSYNC, *OTHER_ASGI)
BOKEH = ("bokeh", "bokeh-nodelay")
#: Bokeh's own app served by docsync's Bokeh dialect (measured against the same Bokeh servers).
DIALECT = ("docsync-bokeh", "docsync-bokeh-loop")
ALL = (*DOCSYNC, *BOKEH, "echo")

# Lifetimes short enough that expiry runs during the measurement.
DESTROY_LIFETIMES = Lifetimes(unused=3.0, check=1.0)
CHURN_LIFETIMES = Lifetimes(unused=2.0, check=1.0)


@dataclass(frozen=True)
class Metric:
    """One row of the table: a scenario's number, which way is better, its target."""

    scenario: str
    key: str
    label: str
    better: str  # "lower" or "higher"
    # docsync / Bokeh-best must satisfy this: ("<=", 0.8) or (">=", 2.0); None: no target.
    vs_bokeh: tuple[str, float] | None = None
    # docsync / echo must satisfy this.
    vs_echo: tuple[str, float] | None = None
    # docsync's own value must satisfy this (absolute targets).
    absolute: tuple[str, float] | None = None
    digits: int | None = None  # fixed decimals, where the default rounding hides the point


@dataclass(frozen=True)
class Scenario:
    """A scenario with its parameters for ``--quick`` and for the full run."""

    name: str
    title: str
    targets: tuple[str, ...]
    quick: dict[str, Any]
    full: dict[str, Any]
    lifetimes: Lifetimes = field(default_factory=Lifetimes)
    max_reps: int = 99  # long scenarios repeat fewer times

    def params(self, quick: bool, overrides: dict[str, Any]) -> dict[str, Any]:
        chosen = dict(self.quick if quick else self.full)
        chosen.update({k: v for k, v in overrides.items() if k in chosen})
        if self.lifetimes != Lifetimes():
            chosen.update(lifetime=self.lifetimes.unused, check=self.lifetimes.check)
        return chosen


#: The sync-callback variants' sizes (quick, full): the async scenarios' own, on the bench_sync app.
SYNC_SIZES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "roundtrip": ({"n": 200, "app": "bench_sync"}, {"n": 1000, "app": "bench_sync"}),
    "throughput": (
        {"sessions": 50, "seconds": 4, "app": "bench_sync"},
        {"sessions": 50, "seconds": 15, "app": "bench_sync"},
    ),
}

SCENARIOS = [
    Scenario("open", "session open, sequential", (*ALL, *DIALECT), {"n": 40}, {"n": 200}),
    Scenario("browser", "browser session: page, websocket, pull", (*DOCSYNC, *BOKEH, *DIALECT), {"n": 40}, {"n": 200}),
    Scenario(
        "churn", "churn, 20 clients", (*DOCSYNC, *BOKEH), {"clients": 20, "seconds": 4}, {"clients": 20, "seconds": 10}
    ),
    Scenario(
        "destroy",
        "destroying expired sessions",
        (*DOCSYNC, *BOKEH),
        {"n": 100},
        {"n": 300},
        lifetimes=DESTROY_LIFETIMES,
    ),
    Scenario(
        "sustained",
        "sustained churn, short lifetimes",
        (*DOCSYNC, *BOKEH),
        {"clients": 20, "seconds": 10},
        {"clients": 20, "seconds": 90},
        lifetimes=CHURN_LIFETIMES,
        max_reps=2,
    ),
    Scenario("roundtrip", "round trip, one client", (*ALL, *DIALECT), {"n": 200}, {"n": 1000}),
    Scenario(
        "throughput",
        "throughput, 50 sessions",
        (*ALL, *DIALECT),
        {"sessions": 50, "seconds": 4},
        {"sessions": 50, "seconds": 15},
    ),
    # The two above on bench_sync, whose callback is a plain def (what README's "Writing an
    # app" teaches): it runs in a worker thread; report.sync_table sets it against the async
    # app's figures and Bokeh's. The two main servers only, to keep the run's added time small.
    Scenario("roundtrip_sync", "round trip, one client, sync callback", MAIN_DOCSYNC, *SYNC_SIZES["roundtrip"]),
    Scenario("throughput_sync", "throughput, 50 sessions, sync callback", MAIN_DOCSYNC, *SYNC_SIZES["throughput"]),
    Scenario(
        "memory",
        "memory per session",
        (*DOCSYNC, *DIALECT, *BOKEH),
        {"low": 100, "high": 400},
        {"low": 100, "high": 1000},
    ),
    Scenario(
        "idle",
        "idle sessions beside an active one",
        DOCSYNC,
        {"idle": 2000, "seconds": 3},
        {"idle": 10000, "seconds": 10},
        max_reps=2,
    ),
    # 9 fresh sessions per repetition (5 quick), not 3: each repetition's figure is the median of
    # its pulls, the first of which lands on a server just started; with 3 it was the worse of two
    # warm pulls, whose spread under uvicorn (5.7-15.3 ms in one quiet run) set the headline ratio.
    Scenario("bigpull", "large pull, 1,000,000 points", ALL, {"n": 5}, {"n": 9}),
]

METRICS = [
    Metric("open", "open_p50_ms", "session open p50 (ms)", "lower", vs_bokeh=("<=", 0.8)),
    Metric("open", "open_p99_ms", "session open p99 (ms)", "lower"),
    Metric("browser", "full_open_p50_ms", "browser session p50 (ms)", "lower", vs_bokeh=("<=", 0.3)),
    Metric(
        "browser",
        "server_cpu_ms_per_full_open",
        "browser session: server CPU (ms)",
        "lower",
        vs_bokeh=("<=", 0.3),
    ),
    Metric("browser", "page_p50_ms", "app page alone p50 (ms)", "lower"),
    Metric("browser", "server_cpu_ms_per_page", "app page alone: server CPU (ms)", "lower"),
    Metric("churn", "sessions_per_s", "churn: sessions/s, 20 clients", "higher", vs_bokeh=(">=", 2.0)),
    Metric("churn", "open_p99_ms", "churn: open p99 (ms)", "lower"),
    Metric("churn", "server_cpu_ms_per_open", "churn: server CPU per open (ms)", "lower"),
    Metric("destroy", "destroy_cpu_ms_per_session", "CPU to destroy a session (ms)", "lower", vs_bokeh=("<=", 0.1)),
    Metric("sustained", "sessions_per_s", "sustained churn: sessions/s", "higher", vs_bokeh=(">=", 10.0)),
    Metric("sustained", "open_p99_ms", "sustained churn: open p99 (ms)", "lower", vs_bokeh=("<=", 0.05)),
    Metric("sustained", "server_cpu_ms_per_open", "sustained churn: server CPU per open (ms)", "lower"),
    Metric("sustained", "live_sessions_max", "sustained churn: most live sessions", "lower"),
    Metric(
        "sustained",
        "live_over_bound",
        "  / (opens in the last lifetime + check + 1 s, + clients)",
        "lower",
        absolute=("<=", 1.0),
        digits=2,
    ),
    Metric("sustained", "refused_at_cap", "sustained churn: opens refused (cap 20,000)", "lower", absolute=("<=", 0)),
    Metric("sustained", "seconds_without_opens", "sustained churn: seconds with no open", "lower", absolute=("<=", 0)),
    # Issue 20's targets: the round trip within 1.2x of the bare echo of the same frames.
    Metric("roundtrip", "rt_p50_ms", "round trip p50 (ms)", "lower", vs_bokeh=("<=", 0.8), vs_echo=("<=", 1.2)),
    Metric("roundtrip", "rt_p99_ms", "round trip p99 (ms)", "lower", vs_bokeh=("<=", 0.8), vs_echo=("<=", 4.0)),
    Metric("roundtrip", "server_cpu_ms_per_rt", "round trip: server CPU per round trip (ms)", "lower"),
    Metric("roundtrip", "server_writes_per_rt", "round trip: server write(2) syscalls per round trip", "lower"),
    Metric(
        "throughput",
        "rt_per_s",
        "throughput: round trips/s, 50 sessions",
        "higher",
        vs_bokeh=(">=", 4.0),
        vs_echo=(">=", 0.7),
    ),
    Metric("throughput", "rt_p99_ms", "throughput: round trip p99 (ms)", "lower", vs_bokeh=("<=", 0.8)),
    Metric("throughput", "server_cpu_ms_per_rt", "throughput: server CPU per round trip (ms)", "lower"),
    Metric("throughput", "server_writes_per_rt", "throughput: server write(2) syscalls per round trip", "lower"),
    Metric("throughput", "client_cpu_share", "throughput: load generator's CPU (share of one core)", "lower"),
    Metric("memory", "kb_per_session", "RSS per session (KiB)", "lower", vs_bokeh=("<=", 0.5)),
    Metric("idle", "rt_p99_alone_ms", "active p99, server otherwise idle (ms)", "lower"),
    Metric("idle", "rt_p99_crowded_ms", "active p99 beside the idle sessions (ms)", "lower"),
    Metric("idle", "crowded_over_alone", "  crowded / alone", "lower", absolute=("<=", 2.0)),
    Metric("bigpull", "pull_ms", "large pull time (ms)", "lower", vs_bokeh=("<=", 0.5), vs_echo=("<=", 1.1)),
    Metric(
        "bigpull",
        "open_and_pull_ms",
        "fresh 1M-point session: connect, run the app, full reply (ms)",
        "lower",
        vs_bokeh=("<=", 0.7),
    ),
    Metric("bigpull", "wire_over_raw", "large pull bytes / raw arrays", "lower", absolute=("<=", 1.01), digits=5),
]
