"""Run the benchmark: docsync (daphne, uvicorn) against Bokeh (default, NODELAY) and echo.

    python bench/run.py --quick          # a few minutes
    python bench/run.py                  # the full run (about an hour)
    python bench/run.py --only roundtrip,bigpull --reps 5
    python bench/run.py --only relay     # scale-out alone: 3 uvicorn processes + redis-server
    python bench/run.py --only metrics   # throughput with /docsync-metrics scraped, against without
    python bench/run.py --only curves    # cost curves alone: bench/curves.py under uvicorn

Prints the table and writes bench/results/latest.md and latest.json. The ``relay``
scenario runs bench/relay.py (three processes over a private redis-server, no sticky
sessions) once per repetition and checks issue 20's scale-out targets. The ``metrics``
scenario runs docsync's throughput with /docsync-metrics scraped once a second and without,
alternated on one server per pair, and checks issue 20's bound on what the metrics cost.
The ``curves`` scenario runs bench/curves.py (``--quick`` with ``--quick``) and prints, per
step of each curve, its slope against curves.py's own bound for linear and whether it holds.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import report
from plan import SCENARIOS, Scenario
from servers import (
    BASELINE_PAIRS,
    BENCH,
    BOKEH_PYTHON,
    ROOT,
    TARGETS,
    Lifetimes,
    RunningServer,
    baseline_target,
    docsync_env,  # fmt: skip
    start,
)

RESULTS = BENCH / "results"
#: The scale-out scenario: not one server per run like the others, a cluster (bench/relay.py).
RELAY = "relay"
#: Issue 20's scale-out targets: what relaying adds to a round trip's p50, relayed throughput / direct.
RELAY_ADDED_P50_MS = 0.5
RELAY_THROUGHPUT = 0.7
#: Issue 20's metrics overhead: throughput scraped once a second / without scraping.
METRICS = "metrics"
METRICS_TARGETS = ("docsync-uvicorn", "docsync-daphne")
METRICS_SCRAPE_EVERY = 1.0
METRICS_THROUGHPUT = 0.97
#: Issue 20's cost curves (bench/curves.py, which says what linear is).
CURVES = "curves"


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def loadgen(server: RunningServer, scenario: str, params: dict[str, Any], secret: str) -> dict[str, Any]:
    """Run one scenario in a load-generator process; return its JSON result."""
    command = [
        server.spec.client_python, str(BENCH / "loadgen.py"), "--flavour", server.spec.kind,
        "--url", server.ws_base, "--pid", str(server.pid), "--scenario", scenario,
        "--params", json.dumps(params), "--timeout", "900",
    ]  # fmt: skip
    env = {**os.environ, "DJANGO_SECRET_KEY": secret}
    try:
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=960)
    except subprocess.TimeoutExpired:
        return {"error": "load generator timed out"}
    lines = done.stdout.strip().splitlines()
    try:
        result: dict[str, Any] = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        result = {"error": f"no result (exit {done.returncode}): {done.stderr[-800:]}"}
    if "error" in result:
        result["stderr"] = done.stderr[-2000:]
    return result


def run_one(name: str, scenario: Scenario, params: dict[str, Any], secret: str, workdir: Path) -> dict[str, Any]:
    """Start ``name``'s server, run ``scenario`` against it, stop it."""
    server = start(TARGETS[name], scenario.lifetimes, secret=secret, workdir=workdir)
    try:
        return loadgen(server, scenario.name, params, secret)
    finally:
        server.stop()


def capture_shapes(secret: str, workdir: Path) -> None:
    """Record docsync's frames, for the echo floor to send the same shapes."""
    server = start(TARGETS["docsync-daphne"], Lifetimes(), secret=secret, workdir=workdir)
    try:
        result = loadgen(server, "capture", {}, secret)
    finally:
        server.stop()
    if "error" in result:
        raise RuntimeError(f"could not capture docsync's frame shapes: {result['error']}\n{result.get('stderr', '')}")
    (workdir / "shapes.json").write_text(json.dumps(result["info"]["shapes"]))


def prepare(workdir: Path, secret: str, *, bokeh: bool) -> None:
    """Migrate the bench database, raise the descriptor limit, and (``bokeh``) make Bokeh's venv if missing."""
    if bokeh and not BOKEH_PYTHON.exists():
        log("bench/.venv-bokeh is missing: running bench/setup_bokeh.sh")
        subprocess.run(["bash", str(BENCH / "setup_bokeh.sh")], check=True)
    env = {**os.environ, **docsync_env(Lifetimes(), secret, workdir / "db.sqlite3")}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    # Servers and load generators inherit this: thousands of sockets need descriptors.
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, one repetition: a few minutes")
    parser.add_argument("--reps", type=int, help="repetitions per scenario and server (default 1 quick, 3 full)")
    parser.add_argument(
        "--only", help="comma-separated scenarios: " + ",".join([*(s.name for s in SCENARIOS), RELAY, METRICS, CURVES])
    )
    parser.add_argument("--targets", help="comma-separated servers: " + ",".join(TARGETS))
    parser.add_argument("--seconds", type=float, help="duration of the sustained churn (default 90 s, quick 10 s)")
    parser.add_argument("--out", default=str(RESULTS / "latest"), help="report path without suffix")
    parser.add_argument(
        "--baseline",
        help="another docsync checkout (say a git worktree of main) to run as target baseline-uvicorn beside "
        "docsync-uvicorn and baseline-bokeh beside docsync-bokeh, wherever those run: before / after in one run",
    )
    parser.add_argument(
        "--report-from",
        metavar="JSON",
        help="print the report of a saved run (its .json) with this checkout's targets and tables; run nothing",
    )
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    if args.report_from:
        print(rewrite_report(Path(args.report_from)))
        return 0
    reps = args.reps or (1 if args.quick else 3)
    only = set(args.only.split(",")) if args.only else None
    servers = set(args.targets.split(",")) if args.targets else set(TARGETS)
    if args.baseline:
        TARGETS["baseline-uvicorn"] = baseline_target(Path(args.baseline))
        TARGETS["baseline-bokeh"] = baseline_target(Path(args.baseline), dialect=True)
        servers |= {"baseline-uvicorn", "baseline-bokeh"}
    scenarios = [s for s in SCENARIOS if only is None or s.name in only]
    workdir = Path(tempfile.mkdtemp(prefix="docsync-bench-"))
    secret = secrets.token_urlsafe(32)
    started = time.monotonic()
    info = report.machine_info(sys.executable)
    info.update(mode="quick" if args.quick else "full", reps=reps, loadavg_start=_load())
    log(f"work directory (server logs): {workdir}")
    # What this run's servers need: Bokeh's venv for Bokeh's own server (its load
    # generator too), docsync's frame shapes for the echo floor. --only relay, metrics
    # or curves runs docsync alone and needs neither.
    kinds = {TARGETS[t].kind for s in scenarios for t in s.targets if t in servers}
    prepare(workdir, secret, bokeh="bokeh" in kinds)
    if "echo" in kinds:
        capture_shapes(secret, workdir)
    runs: list[dict[str, Any]] = []
    for scenario in scenarios:
        overrides = {"seconds": args.seconds} if args.seconds and scenario.name == "sustained" else {}
        params = scenario.params(args.quick, overrides)
        names = [t for t in scenario.targets if t in servers]
        for before, after in BASELINE_PAIRS:
            if before in servers and after in names:
                names.insert(names.index(after), before)
        for rep in range(min(reps, scenario.max_reps)):
            # Alternate: each repetition starts with the next server.
            order = names[rep % len(names) :] + names[: rep % len(names)] if names else []
            for name in order:
                began = time.monotonic()
                result = run_one(name, scenario, params, secret, workdir)
                metrics = {k: v for k, v in result.items() if k not in ("info", "error", "stderr")}
                log(f"{scenario.name:10} {name:16} rep {rep + 1}: {result.get('error') or metrics} "
                    f"({time.monotonic() - began:.0f} s)")  # fmt: skip
                runs.append({"scenario": scenario.name, "target": name, "rep": rep, "params": params,
                             "result": metrics, "info": result.get("info", {}), "error": result.get("error"),
                             "stderr": result.get("stderr")})  # fmt: skip
    budget_text, budget_holds = _budget() if "memory" in {s.name for s in scenarios} else ("", True)
    relays = _relay(reps, args.quick, workdir) if only is None or RELAY in only else []
    overhead: list[dict[str, Any]] = []
    overhead_failures: list[str] = []
    if only is None or METRICS in only:
        overhead, overhead_failures = _metrics_overhead(reps, args.quick, servers, secret, workdir)
    curves = _curves(args.quick, workdir) if only is None or CURVES in only else None
    info.update(loadavg_end=_load(), took=f"{(time.monotonic() - started) / 60:.1f} min")
    if relays:
        info["relay"] = relays
    if overhead or overhead_failures:
        info["metrics_overhead"] = overhead
        info["metrics_overhead_failures"] = overhead_failures
    if curves is not None:
        info["curves"] = curves
    if args.baseline:
        info["baseline"] = str(Path(args.baseline).resolve())
    text = _report_text(runs, info, budget_holds) + _section_texts(runs, info)
    if budget_text:
        text += "\n## Memory budget (`python bench/budget.py`)\n\n" + budget_text + "\n"
    print(text)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text(text)
    out.with_suffix(".json").write_text(json.dumps({"info": info, "runs": runs}, indent=1, default=str))
    failed = any(r["error"] for r in runs) or bool(overhead_failures)
    failed = failed or (curves is not None and bool(curves.get("error") or curves.get("errors")))
    if not failed:  # keep the server logs of a failed run
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


def _report_text(runs: list[dict[str, Any]], info: dict[str, Any], budget_holds: bool) -> str:
    """The report of ``runs``: tables, verdicts and notes."""
    table = report.medians([r for r in runs if not r["error"]])
    notes = _notes(runs, info)
    if not budget_holds:
        notes.append("a memory budget is exceeded (bench/budget.py, below)")
    return report.markdown_report(info, report.verdicts(table), notes, table)


def _section_texts(runs: list[dict[str, Any]], info: dict[str, Any]) -> str:
    """The sections after the scenario tables, from what ``info`` holds: scale-out, metrics, curves, baseline."""
    text = ""
    if info.get("relay"):
        text += "\n## Scale-out: 3 uvicorn processes, no sticky sessions (`bench/relay.py`)\n\n"
        text += relay_table(info["relay"]) + "\n"
    overhead, overhead_failures = info.get("metrics_overhead") or [], info.get("metrics_overhead_failures") or []
    if overhead or overhead_failures:
        text += "\n## Metrics overhead: throughput with `/docsync-metrics` scraped, alternated\n\n"
        text += (metrics_table(overhead) if overhead else "") + "".join(f"\n- {f}" for f in overhead_failures) + "\n"
    if info.get("curves") is not None:
        text += "\n## Cost curves: each step's slope against linear (`bench/curves.py`)\n\n"
        text += curves_table(info["curves"]) + "\n"
    if info.get("baseline"):
        text += "\n## Before / after (`--baseline`)\n\n" + report.baseline_table(runs, info["baseline"]) + "\n"
    return text


def rewrite_report(path: Path) -> str:
    """The report of a saved run (``--report-from``), with this checkout's targets and tables."""
    saved = json.loads(path.read_text())
    text = _report_text(saved["runs"], saved["info"], budget_holds=True) + _section_texts(saved["runs"], saved["info"])
    return text + "\n(report rewritten from " + path.name + "; the memory budget is not part of it)\n"


def _budget() -> tuple[str, bool]:
    """Run bench/budget.py (per model, per session under both servers): its tables, and whether they hold."""
    log("memory budget: bench/budget.py")
    done = subprocess.run([sys.executable, str(BENCH / "budget.py")], cwd=ROOT, capture_output=True, text=True)
    if done.returncode not in (0, 1) or not done.stdout.strip():
        return f"bench/budget.py failed (exit {done.returncode}): {done.stderr[-800:]}", False
    return done.stdout.strip(), done.returncode == 0


def _relay(reps: int, quick: bool, workdir: Path) -> list[dict[str, Any]]:
    """Run bench/relay.py ``reps`` times (3 uvicorn processes, a private redis-server); its figures per run."""
    sizes = ["--round-trips", "100", "--seconds", "4"] if quick else ["--round-trips", "300", "--seconds", "10"]
    figures = []
    for rep in range(reps):
        out = workdir / f"relay-{rep}.json"
        log(f"relay      rep {rep + 1}: bench/relay.py {' '.join(sizes)}")
        done = subprocess.run(
            [sys.executable, str(BENCH / "relay.py"), *sizes, "--json", str(out)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=900,
        )
        if done.returncode != 0 or not out.exists():
            log(f"relay      rep {rep + 1}: FAILED (exit {done.returncode}): {done.stderr[-800:]}")
            continue
        figures.append(json.loads(out.read_text()))
        log(f"relay      rep {rep + 1}: {figures[-1]}")
    return figures


def _metrics_overhead(
    reps: int, quick: bool, servers: set[str], secret: str, workdir: Path
) -> tuple[list[dict[str, Any]], list[str]]:
    """Throughput scraped every second and not, in pairs on one server (order alternating): figures, failures."""
    throughput = next(s for s in SCENARIOS if s.name == "throughput")
    plain = throughput.params(quick, {})
    scraped = {**plain, "scrape_every": METRICS_SCRAPE_EVERY}
    # An even number of pairs, two at least even quick: the second run on a server came out 3-7%
    # slower than the first in quick runs (either variant), so each order must count equally.
    pairs = max(2, reps + reps % 2)
    figures: list[dict[str, Any]] = []
    failures: list[str] = []
    for name in (t for t in METRICS_TARGETS if t in servers):
        for pair in range(pairs):
            server = start(TARGETS[name], throughput.lifetimes, secret=secret, workdir=workdir)
            try:
                runs = {}
                # Alternate which goes first: a server's drift over the pair falls on both.
                for label in ("without", "with")[:: 1 if pair % 2 == 0 else -1]:
                    runs[label] = loadgen(server, "throughput", plain if label == "without" else scraped, secret)
            finally:
                server.stop()
            errors = [f"{label}: {r['error']}" for label, r in runs.items() if "error" in r]
            if errors:
                failures.append(f"FAILED: metrics on {name} pair {pair + 1}: {'; '.join(errors)}")
                log(failures[-1])
                continue
            figure = {
                "target": name,
                "pair": pair,
                "without_rt_per_s": runs["without"]["rt_per_s"],
                "with_rt_per_s": runs["with"]["rt_per_s"],
                "scrapes": runs["with"]["info"].get("scrapes", 0),
            }
            figure["with_over_without"] = figure["with_rt_per_s"] / figure["without_rt_per_s"]
            log(f"metrics    {name:16} pair {pair + 1}: {figure}")
            figures.append(figure)
    return figures, failures


def metrics_table(pairs: list[dict[str, Any]]) -> str:
    """What scraping /docsync-metrics costs throughput, per server: medians over ``pairs`` against issue 20's bound."""
    yes = {True: "yes", False: "**no**"}
    rows = [
        "| figure | server | without, round trips/s | with | with / without (median of pairs) | scrapes per run "
        "| target | holds |",
        "|---|---|---|---|---|---|---|---|",
    ]
    label = f"throughput with /docsync-metrics scraped every {METRICS_SCRAPE_EVERY:g} s / without"
    for name in dict.fromkeys(p["target"] for p in pairs):
        mine = [p for p in pairs if p["target"] == name]
        ratio = float(statistics.median(p["with_over_without"] for p in mine))
        scrapes = min(p["scrapes"] for p in mine)
        # A run in which no scrape happened measured nothing: not a pass.
        holds = ratio >= METRICS_THROUGHPUT and scrapes > 0
        rows.append(
            f"| {label} | {name.removeprefix('docsync-')} | "
            f"{statistics.median(p['without_rt_per_s'] for p in mine):,.0f} | "
            f"{statistics.median(p['with_rt_per_s'] for p in mine):,.0f} | {ratio:.3f} | {scrapes} | "
            f">= {METRICS_THROUGHPUT:g} | {yes[holds]} |"
        )
    each = ", ".join(f"{p['target'].removeprefix('docsync-')} {p['with_over_without']:.3f}" for p in pairs)
    return (
        "The throughput scenario's sizes; each pair on one fresh server, which of the two runs first alternating.\n\n"
        + "\n".join(rows)
        + f"\n\nEach pair (with / without): {each}.\n"
    )


def _curves(quick: bool, workdir: Path) -> dict[str, Any]:
    """Run bench/curves.py once (uvicorn, its default); its JSON, or an ``error``."""
    out = workdir / "curves"
    log(f"curves     bench/curves.py{' --quick' if quick else ''}")
    command = [sys.executable, str(BENCH / "curves.py"), "--out", str(out), *(["--quick"] if quick else [])]
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=3600)
    except subprocess.TimeoutExpired:
        return {"error": "bench/curves.py timed out"}
    if not out.with_suffix(".json").exists():
        return {"error": f"bench/curves.py wrote nothing (exit {done.returncode}): {done.stderr[-800:]}"}
    figures: dict[str, Any] = json.loads(out.with_suffix(".json").read_text())
    log(f"curves     done (exit {done.returncode}): {figures.get('errors') or 'every curve ran'}")
    return figures


def curves_table(figures: dict[str, Any]) -> str:
    """Per curve and step, each cost's growth: ratio, slope (ratio / size ratio) and curves.py's verdict on it."""
    if "error" in figures:
        return f"FAILED: {figures['error']}\n"
    yes = {"linear or better": "yes", "worse than linear": "**no**"}
    rows = [
        "| curve | step | cost | ratio | slope (ratio / size ratio) | exponent k | target | holds |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, steps in figures.get("slopes", {}).items():
        for step in steps:
            slope = "—" if step["slope"] is None else f"{step['slope']:.3g}"
            ratio = "—" if step["ratio"] is None else f"{step['ratio']:.3g}"
            exponent = "—" if step["exponent"] is None else f"{step['exponent']:.2f}"
            rows.append(
                f"| {name} | {step['from']:,} → {step['to']:,} | {step['label']} | {ratio} | {slope} | {exponent} "
                f"| linear or better | {yes.get(step['verdict'], step['verdict'])} |"
            )
    errors = "".join(f"\n- FAILED: curve {name}: {error}" for name, error in figures.get("errors", {}).items())
    worse = sum(
        step["verdict"] == "worse than linear" for steps in figures.get("slopes", {}).values() for step in steps
    )
    return (
        f"`{figures.get('command', 'bench/curves.py')}` under {figures.get('server', '?')}, load average "
        f"{figures.get('load_before', '?')} → {figures.get('load_after', '?')}. Slope 1 is linear; curves.py counts "
        f"a step as linear or better up to its bound (`LINEAR` in bench/curves.py). Steps worse than linear: {worse}."
        f"{errors}\n\n" + "\n".join(rows) + "\n"
    )


def relay_table(runs: list[dict[str, Any]]) -> str:
    """The scale-out figures (medians over ``runs``) against issue 20's targets."""

    def med(key: str) -> float:
        return float(statistics.median(run[key] for run in runs))

    added, relayed, landing = med("added_p50_ms"), med("relayed_vs_direct"), med("random_vs_direct")
    yes = {True: "yes", False: "**no**"}
    rows = [
        "| figure | direct | relayed | random landing | target | holds |",
        "|---|---|---|---|---|---|",
        f"| round trip p50 | {med('direct_p50_ms'):.2f} ms | {med('relayed_p50_ms'):.2f} ms | — | "
        f"relayed adds ≤ {RELAY_ADDED_P50_MS} ms | {yes[added <= RELAY_ADDED_P50_MS]} (adds {added:.2f} ms) |",
        f"| round trip p99 | {med('direct_p99_ms'):.2f} ms | {med('relayed_p99_ms'):.2f} ms | — | — | — |",
        f"| throughput, round trips/s | {med('direct_rate'):,.0f} | {med('relayed_rate'):,.0f} | "
        f"{med('random_rate'):,.0f} | relayed ≥ {RELAY_THROUGHPUT}x direct | "
        f"{yes[relayed >= RELAY_THROUGHPUT]} ({relayed:.2f}x; random landing {landing:.2f}x) |",
    ]
    each = ", ".join(f"{run['added_p50_ms']:+.2f} ms / {run['relayed_vs_direct']:.2f}x" for run in runs)
    return "\n".join(rows) + f"\n\nEach repetition (p50 added / relayed throughput): {each}.\n"


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def _notes(runs: list[dict[str, Any]], info: dict[str, Any]) -> list[str]:
    notes = []
    for run in runs:
        if run["error"]:
            notes.append(f"FAILED: {run['scenario']} on {run['target']} rep {run['rep'] + 1}: {run['error']}")
        failures = run["result"].get("failures")
        if failures:
            notes.append(
                f"{run['scenario']} on {run['target']}: {failures:g} failed opens: {run['info'].get('errors')}"
            )
    if float(info["loadavg_start"].split()[0]) > 0.5:
        notes.append("the machine was busy before the run started (load average above): figures are provisional")
    return notes


if __name__ == "__main__":
    sys.exit(main())
