"""Python function calls per round trip in a docsync server, counted by cProfile: steady where CPU time is not.

    python bench/calls_per_roundtrip.py [<checkout> ...]     # default: this one, under uvicorn
    python bench/calls_per_roundtrip.py --server daphne --packages
    python bench/calls_per_roundtrip.py --server daphne --scenario open    # per session open

For each checkout, starts its server (uvicorn, or daphne as ``run.py`` does) under
``python -m cProfile``, runs ``loadgen.py``'s round-trip scenario for 1,000 and for 3,000
round trips (a fresh server each), stops the server with SIGINT (cProfile writes its stats
on exit) and prints the difference of the two runs' calls per extra round trip: all, those
of docsync's own functions, and the built-ins (``isinstance``, ``len``, orjson ...);
``--packages`` splits them further by the package that defines the function (twisted,
autobahn, daphne, channels, asyncio ...). Start-up and the first round trips cancel out;
the load of the machine does not count. ``--scenario open`` counts a session's open
instead (connect, ACK, full pull, close: loadgen's ``open``), ``--scenario browser`` a
browser's first visit (``browser``: the app's page, then the session's open; its page
alone is fetched as often again). The main thread only: docsync's worker threads
are not counted (the round trip runs none of its code there).
"""

from __future__ import annotations

import argparse
import os
import pstats
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from servers import ROOT, Lifetimes, docsync_env, load_profiled_server

from docsync.testing import free_port

FEW, MANY = 1000, 3000


#: Packages told apart by ``--packages``, by a directory in the defining file's path.
PACKAGES = (
    "docsync", "twisted", "autobahn", "txaio", "daphne", "channels", "django", "asgiref", "uvicorn", "websockets",
    "asyncio",
)  # fmt: skip


def _package(filename: str) -> str:
    if filename == "~":
        return "built-ins"
    # The outermost: autobahn/twisted/websocket.py is autobahn's.
    return next((part for part in filename.split("/") if part in PACKAGES), "other")


def _command(server: str, port: int, stats_path: Path) -> list[str]:
    profiled = [sys.executable, "-m", "cProfile", "-o", str(stats_path)]
    if server == "daphne":
        return [*profiled, "-m", "daphne", "-v", "0", "-b", "127.0.0.1", "-p", str(port), "project.asgi:application"]
    return [
        *profiled, "-m", "uvicorn", "project.asgi:application",
        "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--ws", "websockets-sansio",
        "--lifespan", "on", "--log-level", "warning",
    ]  # fmt: skip


def _calls(
    root: Path, n: int, workdir: Path, server_name: str = "uvicorn", scenario: str = "roundtrip"
) -> dict[str, int]:
    """Run one cProfiled server through ``n`` round trips; return its calls by group and by package."""
    env = {**os.environ, **docsync_env(Lifetimes(), secrets.token_urlsafe(32), workdir / "db.sqlite3")}
    env["PYTHONPATH"] = str(root)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"], cwd=root, env=env, check=True, capture_output=True
    )
    port, stats_path = free_port(), workdir / f"calls-{n}.prof"
    command = _command(server_name, port, stats_path)
    load_profiled_server(command, root=root, env=env, workdir=workdir, port=port, scenario=scenario, n=n)
    groups = {"all": 0, "docsync": 0, "built-ins": 0}
    for (filename, _, _), (_, calls, _, _, _) in pstats.Stats(str(stats_path)).stats.items():  # type: ignore[attr-defined]
        groups["all"] += calls
        if "/docsync/" in filename:
            groups["docsync"] += calls
        elif filename == "~":
            groups["built-ins"] += calls
        package = "package " + _package(filename)
        groups[package] = groups.get(package, 0) + calls
    return groups


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("roots", nargs="*", default=[str(ROOT)], help="docsync checkouts (default: this one)")
    parser.add_argument("--server", choices=("uvicorn", "daphne"), default="uvicorn", help="the ASGI server")
    parser.add_argument("--scenario", choices=("roundtrip", "open", "browser"), default="roundtrip", help="counted")
    parser.add_argument("--packages", action="store_true", help="also split the calls by package")
    parser.add_argument("--keep", action="store_true", help="keep the two runs' cProfile stats (their paths printed)")
    args = parser.parse_args()
    for root in args.roots:
        workdir = Path(tempfile.mkdtemp(prefix="docsync-calls-"))
        path = Path(root).resolve()
        counts = (FEW, MANY) if args.scenario == "roundtrip" else (FEW // 5, MANY // 5)
        few, many = (_calls(path, n, workdir, args.server, args.scenario) for n in counts)
        per = {group: (many.get(group, 0) - few.get(group, 0)) / (counts[1] - counts[0]) for group in {*few, *many}}
        shown = ", ".join(f"{group} {per[group]:.1f}" for group in ("all", "docsync", "built-ins"))
        unit = {"roundtrip": "round trip", "open": "session open", "browser": "browser session"}[args.scenario]
        print(f"{root} ({args.server}): Python calls per {unit}: {shown}", flush=True)
        if args.packages:
            packages = sorted((g for g in per if g.startswith("package ")), key=lambda g: -per[g])
            print("  by package: " + ", ".join(f"{g[8:]} {per[g]:.1f}" for g in packages if per[g]), flush=True)
        if args.keep:
            print(f"  profiles: {workdir}/calls-{counts[0]}.prof, {workdir}/calls-{counts[1]}.prof", flush=True)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
