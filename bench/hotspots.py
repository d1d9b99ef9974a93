"""Profile the docsync server under load with py-spy and name the hotspots.

    python bench/hotspots.py                      # daphne: round trip, throughput, churn
    python bench/hotspots.py --server uvicorn --seconds 15

For each workload the load generator runs against a fresh server while py-spy samples
the server process; the summary (self time by package and by function, inclusive time
by function) is printed and written to bench/results/profile-<server>-<workload>.txt.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from run import RESULTS, prepare
from servers import BENCH, ROOT, TARGETS, Lifetimes, start

WORKLOADS = {
    "open": ("open", lambda seconds: {"n": int(seconds * 100)}),
    "roundtrip": ("roundtrip", lambda seconds: {"n": int(seconds * 2000), "warmup": 50}),
    "throughput": ("throughput", lambda seconds: {"sessions": 50, "seconds": seconds + 4}),
    "churn": ("churn", lambda seconds: {"clients": 20, "seconds": seconds + 4}),
    # Sampled once the 10,000 idle sessions are open (the load generator says when).
    "idle": ("idle", lambda seconds: {"idle": 10000, "seconds": seconds + 4}),
    # Each pull opens a session (the 1,000,000-point document is built) and pulls it.
    "bigpull": ("bigpull", lambda seconds: {"n": int(seconds * 10) + 30}),
}
# What the load generator prints on stderr when the part worth sampling begins.
PHASE_MARK = "PHASE measure"
_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def parse_raw(path: Path) -> list[tuple[list[tuple[str, str]], int]]:
    """Read py-spy's raw (collapsed) output: stacks of (function, file) with counts."""
    stacks = []
    for line in path.read_text().splitlines():
        stack_text, _, count = line.rpartition(" ")
        frames = []
        for frame in stack_text.split(";"):
            match = _FRAME.match(frame)
            frames.append((match["func"], match["file"]) if match else (frame, ""))
        stacks.append((frames, int(count)))
    return stacks


def package(file: str) -> str:
    """The package a source file belongs to (its first path component)."""
    if file.startswith("<"):
        return "python"
    head = file.split("/", 1)[0]
    return head.removesuffix(".py") if "/" in file else "stdlib:" + head.removesuffix(".py")


# Frames every sample passes through on its way in (interpreter, server entry points,
# the event loop): they say nothing about where the time goes.
_ENTRY = re.compile(
    r"<frozen runpy>|^click/|^uvicorn/(main|server|_compat|__main__)\.py|^daphne/(cli|server|__main__)\.py"
    r"|^asyncio/(runners|base_events|events)\.py|^twisted/internet/asyncioreactor\.py|^threading\.py"
)


def summarise(stacks: list[tuple[list[tuple[str, str]], int]], top: int = 30) -> str:
    """Self time by package and function; inclusive time by function and of docsync's own."""
    total = sum(count for _, count in stacks) or 1
    own: Counter[str] = Counter()
    own_package: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for frames, count in stacks:
        func, file = frames[-1]
        own[f"{func} ({file})"] += count
        own_package[package(file)] += count
        for name in {f"{f} ({p})" for f, p in frames if not _ENTRY.search(p)}:
            inclusive[name] += count
    ours = Counter({name: count for name, count in inclusive.items() if "(docsync/" in name or "(project/" in name})

    def block(title: str, counter: Counter[str], limit: int = top) -> list[str]:
        return [title] + [f"  {100 * count / total:5.1f}%  {name}" for name, count in counter.most_common(limit)]

    lines = [f"{total} samples of the server process (the thread holding the GIL)"]
    lines += block("self time by package:", own_package, 15)
    lines += block("self time by function:", own)
    lines += block("inclusive time by function (entry points and the event loop left out):", inclusive, 40)
    lines += block("inclusive time of docsync's functions:", ours)
    return "\n".join(lines)


def profile(server_name: str, workload: str, seconds: float, secret: str, workdir: Path) -> str:
    scenario, make_params = WORKLOADS[workload]
    server = start(TARGETS[server_name], Lifetimes(), secret=secret, workdir=workdir)
    raw = workdir / f"{workload}.raw"
    try:
        command = [
            sys.executable, str(BENCH / "loadgen.py"), "--flavour", TARGETS[server_name].kind, "--url", server.ws_base,
            "--pid", str(server.pid), "--scenario", scenario, "--params", json.dumps(make_params(seconds)),
            "--timeout", str(seconds * 4 + 400),
        ]  # fmt: skip
        env = {**os.environ, "DJANGO_SECRET_KEY": secret}
        load = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if workload == "idle":
            assert load.stderr is not None
            for line in load.stderr:
                if line.startswith(PHASE_MARK):
                    break
        time.sleep(3)  # past the warm-up
        # --gil: only the thread holding the GIL is sampled, so idle pool workers and the
        # loop waiting in epoll do not count; time in C that releases the GIL does not either.
        spy = ["py-spy", "record", "--pid", str(server.pid), "--duration", str(int(seconds)), "--rate", "200", "--gil"]
        subprocess.run(
            [*spy, "--format", "raw", "--output", str(raw)], check=True, capture_output=True, timeout=seconds + 60
        )
        out, err = load.communicate(timeout=seconds * 4 + 450)
    finally:
        server.stop()
    result = out.strip().splitlines()[-1] if out.strip() else err[-500:]
    return f"# {server_name}, {workload}: {result}\n" + summarise(parse_raw(raw))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--server",
        default="docsync-daphne",
        choices=["docsync-daphne", "docsync-uvicorn", "docsync-bokeh", "docsync-bokeh-loop"],
    )
    parser.add_argument("--workloads", default="roundtrip,throughput,churn", help="also: open, idle, bigpull")
    parser.add_argument("--seconds", type=float, default=10.0, help="sampling time per workload")
    parser.add_argument("--keep", action="store_true", help="keep py-spy's raw stacks (the path is printed)")
    args = parser.parse_args()
    if shutil.which("py-spy") is None:
        parser.error("py-spy is not installed: pip install py-spy")
    workdir = Path(tempfile.mkdtemp(prefix="docsync-profile-"))
    secret = secrets.token_urlsafe(32)
    prepare(workdir, secret)
    RESULTS.mkdir(exist_ok=True)
    for workload in args.workloads.split(","):
        text = profile(args.server, workload, args.seconds, secret, workdir)
        print(text + "\n", flush=True)
        (RESULTS / f"profile-{args.server.removeprefix('docsync-')}-{workload}.txt").write_text(text + "\n")
    if args.keep:
        print(f"raw stacks kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
