"""The servers under test: docsync (daphne, uvicorn), Bokeh (default, NODELAY), echo.

Each target starts its own process on a free 127.0.0.1 port and stops it by its pid.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docsync.testing import ServerProcess, free_port, wait_for_port

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
BOKEH_VENV = BENCH / ".venv-bokeh"
BOKEH_PYTHON = BOKEH_VENV / "bin" / "python"


@dataclass(frozen=True)
class Lifetimes:
    """How long an unused session lives, and how often expiry runs (seconds)."""

    unused: float = 15.0
    check: float = 5.0


@dataclass(frozen=True)
class TargetSpec:
    """One server configuration the benchmark compares."""

    name: str
    kind: str  # "docsync", "bokeh" or "echo": the load generator's flavour
    variant: str  # daphne / uvicorn, default / nodelay, echo
    root: Path | None = None  # another checkout of docsync to serve (run.py --baseline); None: this one

    @property
    def client_python(self) -> str:
        """The python that runs the load generator against this target."""
        return str(BOKEH_PYTHON) if self.kind == "bokeh" else sys.executable


TARGETS = {
    "docsync-daphne": TargetSpec("docsync-daphne", "docsync", "daphne"),
    "docsync-uvicorn": TargetSpec("docsync-uvicorn", "docsync", "uvicorn"),
    # Two more ASGI servers (issue 20): granian (Rust, hyper) and hypercorn (h11/wsproto), one worker each.
    "docsync-granian": TargetSpec("docsync-granian", "docsync", "granian"),
    "docsync-hypercorn": TargetSpec("docsync-hypercorn", "docsync", "hypercorn"),
    # Bokeh's own bench app (bench/bokeh_apps/) served by docsync's Bokeh dialect, to BokehJS's protocol.
    "docsync-bokeh": TargetSpec("docsync-bokeh", "docsync-bokeh", "uvicorn"),
    # The same, with the app's sync callbacks on the event loop as bokeh serve runs them ("callbacks": "loop").
    "docsync-bokeh-loop": TargetSpec("docsync-bokeh-loop", "docsync-bokeh", "uvicorn"),
    "bokeh": TargetSpec("bokeh", "bokeh", "default"),
    "bokeh-nodelay": TargetSpec("bokeh-nodelay", "bokeh", "nodelay"),
    "echo": TargetSpec("echo", "echo", "echo"),
}


def baseline_target(root: Path, *, dialect: bool = False) -> TargetSpec:
    """docsync under uvicorn from another checkout (``root``): the "before" beside this tree's "after".

    ``dialect``: the Bokeh dialect's target (``baseline-bokeh``, beside ``docsync-bokeh``).
    """
    if dialect:
        return TargetSpec("baseline-bokeh", "docsync-bokeh", "uvicorn", root.resolve())
    return TargetSpec("baseline-uvicorn", "docsync", "uvicorn", root.resolve())


#: Each baseline target and the target of this tree it runs beside.
BASELINE_PAIRS = (("baseline-uvicorn", "docsync-uvicorn"), ("baseline-bokeh", "docsync-bokeh"))


class BenchServerProcess(ServerProcess):
    """ServerProcess logging at WARNING, as Bokeh does: no access logs, no per-connection lines."""

    def command(self) -> list[str]:
        command = super().command()
        if self.server == "daphne":
            command[3:3] = ["-v", "0"]  # after "python -m daphne"
        else:  # uvicorn logs every websocket's open and close at INFO (5% of churn's CPU); the others alike
            command += ["--log-level", "warning"]
        return command


class RunningServer:
    """A started server: its pid, its websocket base URL, and how to stop it."""

    def __init__(self, spec: TargetSpec, port: int, process: subprocess.Popen[bytes] | ServerProcess) -> None:
        self.spec = spec
        self.port = port
        self._process = process

    @property
    def pid(self) -> int:
        """The process that runs the application (granian's and hypercorn's worker, not their supervisor)."""
        process = self._process
        return process.serving_pid if isinstance(process, ServerProcess) else process.pid

    @property
    def ws_base(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Stop by pid: SIGTERM, then SIGKILL."""
        process = self._process
        if isinstance(process, ServerProcess):
            process.stop()
            return
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(15)


#: The per-client limits off: a load generator is one client opening thousands of sessions,
#: hundreds per second in the churn and open scenarios (far past the default bucket of new
#: sessions, 200 at once then 2 per second: NEW_SESSIONS_PER_CLIENT_PER_SECOND 0 turns it off).
UNLIMITED_CLIENTS = {
    "DOCSYNC_MAX_SESSIONS_PER_CLIENT": "none",
    "DOCSYNC_MAX_CONNECTIONS_PER_CLIENT": "none",
    "DOCSYNC_NEW_SESSIONS_PER_CLIENT_PER_SECOND": "0",
}


def docsync_env(lifetimes: Lifetimes, secret: str, sqlite: Path) -> dict[str, str]:
    """The environment of a docsync server process in the benchmark."""
    return {
        "DJANGO_SECRET_KEY": secret,
        "DJANGO_DEBUG": "0",
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "DOCSYNC_SQLITE": str(sqlite),
        "DOCSYNC_LOG_LEVEL": "WARNING",
        # One client sends a patch per round trip, far above the default per-connection
        # limit of 200/s; Bokeh has no such limit.
        "DOCSYNC_MAX_PATCHES": "1000000",
        "DOCSYNC_MAX_PATCHES_PER_SECOND_PER_CLIENT": "none",
        "DOCSYNC_MAX_DOCUMENT_REQUESTS_PER_SECOND_PER_CLIENT": "none",
        "DOCSYNC_MAX_VALUES_PER_SECOND_PER_CLIENT": "none",
        "DOCSYNC_MAX_WEBSOCKET_FRAMES_PER_SECOND_PER_CLIENT": "none",
        "DOCSYNC_UNUSED_SESSION_LIFETIME": str(lifetimes.unused),
        "DOCSYNC_CHECK_UNUSED_SESSIONS": str(lifetimes.check),
        # The load generator reads /docsync-metrics (live sessions) with the run's secret.
        "DOCSYNC_METRICS_TOKEN": secret,
        # Every client of the benchmark is one machine (127.0.0.1): 10,000 idle sessions and
        # the churn's 20 clients would pass one client's limits (Bokeh has none).
        **UNLIMITED_CLIENTS,
    }


def start(spec: TargetSpec, lifetimes: Lifetimes, *, secret: str, workdir: Path) -> RunningServer:
    """Start ``spec`` with ``lifetimes``; return once it listens."""
    log = open(workdir / f"{spec.name}.log", "ab")  # noqa: SIM115 (the child owns it)
    try:
        if spec.kind in ("docsync", "docsync-bokeh"):
            env = docsync_env(lifetimes, secret, workdir / "db.sqlite3")
            if spec.kind == "docsync-bokeh":
                env["DJANGO_SETTINGS_MODULE"] = "bench.bokeh_dialect_settings"
                env["BENCH_BOKEH_CALLBACKS"] = "loop" if spec.name.endswith("-loop") else "threads"
            if spec.root is not None:  # its own code, not the installed package's
                env["PYTHONPATH"] = str(spec.root)
            server = BenchServerProcess(
                server=spec.variant,
                env=env,
                cwd=spec.root or ROOT,
                log_path=workdir / f"{spec.name}.log",
            ).start()
            return RunningServer(spec, server.port, server)
        port = free_port()
        command = _command(spec, port, lifetimes, workdir)
        process = subprocess.Popen(command, cwd=BENCH, stdout=log, stderr=subprocess.STDOUT, env=_env(spec))
        try:
            wait_for_port(port, 60, process)
        except BaseException:
            RunningServer(spec, port, process).stop()
            raise
        return RunningServer(spec, port, process)
    finally:
        log.close()


def _env(spec: TargetSpec) -> dict[str, str]:
    env = dict(os.environ)
    if spec.kind == "bokeh":
        # Bokeh's defaults: unsigned session ids, no secret key.
        for name in ("BOKEH_SIGN_SESSIONS", "BOKEH_SECRET_KEY", "BOKEH_ALLOW_WS_ORIGIN"):
            env.pop(name, None)
    return env


def _command(spec: TargetSpec, port: int, lifetimes: Lifetimes, workdir: Path) -> list[str]:
    if spec.kind == "echo":
        return [
            sys.executable,
            str(BENCH / "echo_server.py"),
            "--port",
            str(port),
            "--shapes",
            str(workdir / "shapes.json"),
        ]
    serve: list[Any] = [
        "serve", "bokeh_apps/bench.py", "bokeh_apps/bench_big.py",
        "--address", "127.0.0.1", "--port", port, "--allow-websocket-origin", f"127.0.0.1:{port}",
        "--unused-session-lifetime", int(lifetimes.unused * 1000),
        "--check-unused-sessions", int(lifetimes.check * 1000),
        # Bokeh logs every connection at INFO; docsync runs at WARNING too.
        "--log-level", "warning",
    ]  # fmt: skip
    if spec.variant == "nodelay":
        return [str(BOKEH_PYTHON), str(BENCH / "bokeh_server.py"), *map(str, serve)]
    return [str(BOKEH_VENV / "bin" / "bokeh"), *map(str, serve)]


def load_profiled_server(
    command: list[str], *, root: Path, env: dict[str, str], workdir: Path, port: int, scenario: str, n: int
) -> None:
    """Start ``command`` (a server recording itself, on ``port``), run ``n`` of ``scenario``, stop it by SIGINT.

    What the server recorded is written by the server as it stops, for the caller to read.
    """
    with open(workdir / "server.log", "ab") as log:
        server = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, 120, server)
        load = [
            sys.executable, "bench/loadgen.py", "--flavour", "docsync", "--url", f"ws://127.0.0.1:{port}",
            "--pid", str(server.pid), "--scenario", scenario, "--params", json.dumps({"n": n, "warmup": 50}),
        ]  # fmt: skip
        subprocess.run(load, cwd=root, env=env, check=True, capture_output=True, timeout=900)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(120)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(30)
