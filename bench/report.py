"""Medians, ratios against the better Bokeh, and the table (Markdown)."""

from __future__ import annotations

import datetime as dt
import os
import platform
import statistics
import subprocess
from collections.abc import Sequence
from typing import Any

from plan import BOKEH, DIALECT, DOCSYNC, MAIN_DOCSYNC, METRICS, OTHER_ASGI, Metric
from servers import BOKEH_PYTHON

COLUMNS = ("docsync-daphne", "docsync-uvicorn", "bokeh", "bokeh-nodelay", "echo")


def medians(runs: list[dict[str, Any]]) -> dict[tuple[str, str, str], float]:
    """Median of every (scenario, target, metric) over the repetitions that succeeded."""
    values: dict[tuple[str, str, str], list[float]] = {}
    for run in runs:
        for key, value in run["result"].items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                values.setdefault((run["scenario"], run["target"], key), []).append(float(value))
    return {key: statistics.median(vs) for key, vs in values.items()}


def median_table(results: dict[str, list[dict[str, Any]]], keys: Sequence[str], first: str = "target") -> str:
    """A markdown table: a row per label (none for a label without results), each key's median to 0.1."""
    lines = ["| " + first + " | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    for label, rows in results.items():
        if rows:
            lines.append(
                f"| {label} | " + " | ".join(f"{statistics.median(r[key] for r in rows):.1f}" for key in keys) + " |"
            )
    return "\n".join(lines)


def _best_bokeh(metric: Metric, table: dict[tuple[str, str, str], float]) -> tuple[str, float] | None:
    found = [(t, table[(metric.scenario, t, metric.key)]) for t in BOKEH if (metric.scenario, t, metric.key) in table]
    if not found:
        return None
    pick = min if metric.better == "lower" else max
    return pick(found, key=lambda item: item[1])


def _holds(value: float, bound: tuple[str, float]) -> bool:
    op, limit = bound
    return value <= limit if op == "<=" else value >= limit


def _number(value: float | None, digits: int | None = None) -> str:
    if value is None:
        return "—"
    if digits is not None:
        return f"{value:.{digits}f}"
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 0.1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def verdicts(table: dict[tuple[str, str, str], float]) -> list[dict[str, Any]]:
    """One row per metric: values per server, ratios, and whether each target holds."""
    rows = []
    for metric in METRICS:
        values = {t: table.get((metric.scenario, t, metric.key)) for t in (*COLUMNS, *OTHER_ASGI)}
        best = _best_bokeh(metric, table)
        echo = values["echo"]
        row: dict[str, Any] = {"metric": metric, "values": values, "best": best, "ratios": {}, "checks": {}}
        for server in DOCSYNC:
            value = values[server]
            if value is None:
                continue
            checks = []
            if best is not None and best[1]:
                ratio = value / best[1]
                row["ratios"][server] = ratio
                if metric.vs_bokeh:
                    checks.append(_holds(ratio, metric.vs_bokeh))
            if metric.vs_echo and echo:
                row["ratios"][server + "/echo"] = value / echo
                checks.append(_holds(value / echo, metric.vs_echo))
            if metric.absolute:
                checks.append(_holds(value, metric.absolute))
            if checks:
                row["checks"][server] = all(checks)
        rows.append(row)
    return rows


def _target_text(metric: Metric) -> str:
    parts = []
    if metric.vs_bokeh:
        parts.append(f"{metric.vs_bokeh[0]} {metric.vs_bokeh[1]:g}x Bokeh")
    if metric.vs_echo:
        parts.append(f"{metric.vs_echo[0]} {metric.vs_echo[1]:g}x echo")
    if metric.absolute:
        parts.append(f"{metric.absolute[0]} {metric.absolute[1]:g}")
    return ", ".join(parts) or "—"


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """The table: values (medians), ratios to Bokeh-best (and to echo), target, verdict."""
    head = (
        "| metric | daphne | uvicorn | Bokeh | Bokeh NODELAY | echo | daphne / Bokeh-best | uvicorn / Bokeh-best "
        "| vs echo (d / u) | target | holds (d / u) |"
    )
    lines = [head, "|" + "---|" * 11]
    for row in rows:
        metric, values, ratios, checks = row["metric"], row["values"], row["ratios"], row["checks"]
        if all(v is None for v in values.values()):
            continue  # a scenario that was not run
        echo_ratios = " / ".join(_number(ratios.get(s + "/echo")) for s in MAIN_DOCSYNC) if metric.vs_echo else "—"
        holds = " / ".join({True: "yes", False: "**no**"}.get(checks.get(s), "—") for s in MAIN_DOCSYNC)
        cells = [
            metric.label,
            *(_number(values[c], metric.digits) for c in COLUMNS),
            *(_number(ratios.get(s)) for s in MAIN_DOCSYNC),
            echo_ratios,
            _target_text(metric),
            holds,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def servers_table(rows: list[dict[str, Any]]) -> str:
    """docsync under each ASGI server: values, ratio to Bokeh-best, whether the target holds, the best server."""
    names = [s.removeprefix("docsync-") for s in DOCSYNC]
    head = "| metric | " + " | ".join(f"{n} (/ Bokeh-best, holds)" for n in names) + " | best |"
    lines = [head, "|" + "---|" * (len(names) + 2)]
    for row in rows:
        metric, values, ratios, checks = row["metric"], row["values"], row["ratios"], row["checks"]
        measured = {s: values.get(s) for s in DOCSYNC if values.get(s) is not None}
        if len(measured) < 2:
            continue
        cells = [metric.label]
        for server in DOCSYNC:
            value = values.get(server)
            if value is None:
                cells.append("—")
                continue
            ratio = f" ({_number(ratios[server])}" if server in ratios else " (—"
            verdict = {True: ", yes)", False: ", **no**)"}.get(checks.get(server), ")")
            cells.append(_number(value, metric.digits) + ratio + verdict)
        pick = min if metric.better == "lower" else max
        cells.append(pick(measured, key=lambda s: measured[s]).removeprefix("docsync-"))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


#: Issue 20: daphne (runserver's server) within this factor of uvicorn on every scenario.
DAPHNE_OVER_UVICORN = 1.5
#: Figures that are no cost of the server's (syscall counts, the load generator's CPU).
NOT_SERVER_COSTS = {"server_writes_per_rt", "client_cpu_share"}


def daphne_table(rows: list[dict[str, Any]]) -> str:
    """daphne against uvicorn on every metric: the factor by which daphne is worse (or better)."""
    head = "| metric | daphne | uvicorn | daphne worse by | target | holds |"
    lines = [head, "|" + "---|" * 6]
    for row in rows:
        metric, values = row["metric"], row["values"]
        daphne, uvicorn = values.get("docsync-daphne"), values.get("docsync-uvicorn")
        if daphne is None or uvicorn is None or not daphne or not uvicorn or metric.absolute:
            continue  # counts held at zero (refusals) and absolute checks have no factor
        if metric.key in NOT_SERVER_COSTS:
            continue
        worse = daphne / uvicorn if metric.better == "lower" else uvicorn / daphne
        verdict = "yes" if worse <= DAPHNE_OVER_UVICORN else "**no**"
        cells = [metric.label, _number(daphne, metric.digits), _number(uvicorn, metric.digits), f"{_number(worse)}x"]
        lines.append("| " + " | ".join([*cells, f"<= {DAPHNE_OVER_UVICORN:g}x", verdict]) + " |")
    return "\n".join(lines)


def dialect_table(table: dict[tuple[str, str, str], float]) -> str:
    """Bokeh's own app served by docsync against ``bokeh serve`` (issue 18: never slower)."""
    names = [t.removeprefix("docsync-") for t in DIALECT]
    head = "| metric | " + " | ".join(f"docsync {n} (/ Bokeh-best)" for n in names) + " | Bokeh-best | holds |"
    lines = [head, "|" + "---|" * (len(DIALECT) + 3)]
    for metric in METRICS:
        best = _best_bokeh(metric, table)
        if metric.key in NOT_SERVER_COSTS:
            continue  # no cost of the server's: never "slower"
        values = {t: table.get((metric.scenario, t, metric.key)) for t in DIALECT}
        if best is None or not best[1] or all(v is None for v in values.values()):
            continue
        cells, verdicts = [metric.label], []
        for target in DIALECT:
            value = values[target]
            if value is None:
                cells.append("—")
                continue
            ratio = value / best[1]
            verdicts.append(ratio <= 1.0 if metric.better == "lower" else ratio >= 1.0)
            cells.append(f"{_number(value, metric.digits)} ({_number(ratio)})")
        cells.append(f"{_number(best[1], metric.digits)} ({best[0]})")
        cells.append(" / ".join("yes" if v else "**no**" for v in verdicts))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


#: The async scenarios' figures that the sync-callback variants (scenario + "_sync") repeat.
SYNC_FIGURES = (
    ("roundtrip", "rt_p50_ms"),
    ("roundtrip", "rt_p99_ms"),
    ("roundtrip", "server_cpu_ms_per_rt"),
    ("throughput", "rt_per_s"),
    ("throughput", "rt_p99_ms"),
    ("throughput", "server_cpu_ms_per_rt"),
)


def sync_table(table: dict[tuple[str, str, str], float]) -> str:
    """The bench app with a sync callback (a worker thread) against the same with ``async def``, and Bokeh-best."""
    lines = [
        "| metric | server | sync callback | async callback | sync / async | sync / Bokeh-best | async / Bokeh-best |",
        "|---|---|---|---|---|---|---|",
    ]
    metrics = {(m.scenario, m.key): m for m in METRICS}
    for scenario, key in SYNC_FIGURES:
        metric = metrics[(scenario, key)]
        best = _best_bokeh(metric, table)
        for target in MAIN_DOCSYNC:
            sync, plain = table.get((scenario + "_sync", target, key)), table.get((scenario, target, key))
            if sync is None:
                continue
            cells = [metric.label, target.removeprefix("docsync-"), _number(sync), _number(plain)]
            cells.append(_number(sync / plain) + "x" if plain else "—")
            for value in (sync, plain):
                cells.append(_number(value / best[1]) + "x" if value is not None and best and best[1] else "—")
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _version(python: str, module: str) -> str:
    try:
        out = subprocess.run(
            [
                python,
                "-c",
                f"from importlib.metadata import version; print(version({module!r}))",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        return out.stdout.strip() or "?"
    except (OSError, subprocess.TimeoutExpired):
        return "?"


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "?"


def machine_info(python: str) -> dict[str, Any]:
    """Date, machine and versions, for the report's header."""
    model = "?"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "?")
    except OSError:
        pass
    with open("/proc/meminfo") as meminfo:
        mem_kb = int(meminfo.readline().split()[1])
    system = f"{platform.system()} {platform.release()}"
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{model}, {os.cpu_count()} cores, {mem_kb / 2**20:.0f} GiB, {system}",
        "python": platform.python_version(),
        "versions": {
            "daphne": _version(python, "daphne"),
            "uvicorn": _version(python, "uvicorn"),
            "granian": _version(python, "granian"),
            "hypercorn": _version(python, "hypercorn"),
            "django": _version(python, "django"),
            "channels": _version(python, "channels"),
            "websockets": _version(python, "websockets"),
            "bokeh": _version(str(BOKEH_PYTHON), "bokeh"),
            "tornado": _version(str(BOKEH_PYTHON), "tornado"),
        },
        # What was measured: the commit, and whether the working tree differed from it.
        "commit": _git("rev-parse", "--short", "HEAD")
        + (" + uncommitted changes" if _git("status", "--porcelain", "docsync", "project") else ""),
    }


def markdown_report(
    info: dict[str, Any],
    rows: list[dict[str, Any]],
    notes: list[str],
    table: dict[tuple[str, str, str], float] | None = None,
) -> str:
    """The whole report: header, table, daphne against uvicorn, other servers, the Bokeh dialect, notes."""
    versions = ", ".join(f"{k} {v}" for k, v in info["versions"].items())
    lines = [
        f"# docsync vs Bokeh server — {info['date']}",
        "",
        f"- machine: {info['machine']}; Python {info['python']}",
        f"- versions: {versions}",
        f"- docsync: commit {info['commit']}",
        f"- mode: {info['mode']}, {info['reps']} repetitions (medians), servers alternating; took {info['took']}",
        f"- load average at start / end: {info['loadavg_start']} / {info['loadavg_end']}",
        "",
    ]
    if table is None or table:  # (no scenario ran when only the scale-out, metrics or curves did)
        lines += [
            markdown_table(rows),
            "",
            "## daphne (runserver's server) against uvicorn",
            "",
            daphne_table(rows),
            "",
            "## docsync under four ASGI servers",
            "",
            servers_table(rows),
            "",
        ]
    if table is not None and any(target in DIALECT for _, target, _ in table):
        lines += ["## Bokeh's own app: served by docsync against `bokeh serve`", "", dialect_table(table), ""]
    if table is not None and any(scenario.endswith("_sync") for scenario, _, _ in table):
        lines += [
            "## A sync callback (`bench_sync`: a worker thread) against `async def` (`bench`)",
            "",
            sync_table(table),
            "",
        ]
    lines += [f"- {note}" for note in notes]
    return "\n".join(lines) + "\n"


def baseline_table(runs: list[dict[str, Any]], baseline: str) -> str:
    """This tree's docsync against ``baseline``'s (uvicorn, and the Bokeh dialect): medians, ratio, every value."""
    table = medians([r for r in runs if not r["error"]])
    per_rep: dict[tuple[str, str, str], list[float]] = {}
    for run in runs:
        for key, value in run["result"].items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                per_rep.setdefault((run["scenario"], run["target"], key), []).append(float(value))
    commit = _git("-C", baseline, "rev-parse", "--short", "HEAD")
    lines = [
        f"baseline: {baseline} at {commit}; after: this tree. Every repetition's value in brackets.",
        "",
        "| target | metric | before | after | after / before | before, each | after, each |",
        "|---|---|---|---|---|---|---|",
    ]
    for before_target, after_target in (("baseline-uvicorn", "docsync-uvicorn"), ("baseline-bokeh", "docsync-bokeh")):
        for metric in METRICS:
            before = table.get((metric.scenario, before_target, metric.key))
            after = table.get((metric.scenario, after_target, metric.key))
            if before is None or after is None:
                continue
            each = [
                ", ".join(_number(v, metric.digits) for v in per_rep.get((metric.scenario, t, metric.key), []))
                for t in (before_target, after_target)
            ]
            ratio = _number(after / before) if before else "—"
            cells = [after_target, metric.label, _number(before, metric.digits), _number(after, metric.digits), ratio]
            lines.append("| " + " | ".join([*cells, *each]) + " |")
    metrics = {(m.scenario, m.key): m for m in METRICS}
    for scenario, key in SYNC_FIGURES:  # the sync-callback variants (bench_sync) too
        before = table.get((scenario + "_sync", "baseline-uvicorn", key))
        after = table.get((scenario + "_sync", "docsync-uvicorn", key))
        if before is None or after is None:
            continue
        each = [
            ", ".join(_number(v) for v in per_rep.get((scenario + "_sync", t, key), []))
            for t in ("baseline-uvicorn", "docsync-uvicorn")
        ]
        ratio = _number(after / before) if before else "—"
        label = metrics[(scenario, key)].label + ", sync callback"
        cells = ["docsync-uvicorn", label, _number(before), _number(after), ratio]
        lines.append("| " + " | ".join([*cells, *each]) + " |")
    return "\n".join(lines)
