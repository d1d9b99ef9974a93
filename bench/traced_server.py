"""A docsync server (uvicorn or daphne) under tracemalloc, for bench/budget.py.

    python bench/traced_server.py uvicorn 8123 /tmp/snapshots

On SIGUSR1 the server writes ``<dir>/<n>.snapshot`` (the n-th) and then ``<n>.done``.
Run from the repository root with the benchmark's environment (see servers.docsync_env).
"""

from __future__ import annotations

import signal
import sys
import tracemalloc
from pathlib import Path
from typing import Any

FRAMES = 16  # deep enough to reach docsync's or the app's frame from inside numpy or asyncio


def main() -> None:
    server, port, out = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    tracemalloc.start(FRAMES)
    taken = 0

    def snapshot(*_: Any) -> None:
        nonlocal taken
        taken += 1
        tracemalloc.take_snapshot().dump(str(out / f"{taken}.snapshot"))
        (out / f"{taken}.done").touch()

    signal.signal(signal.SIGUSR1, snapshot)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    if server == "uvicorn":
        import uvicorn

        uvicorn.run(
            "project.asgi:application",
            host="127.0.0.1",
            port=port,
            ws="websockets-sansio",
            log_level="warning",
            access_log=False,
            lifespan="on",
        )
    else:
        from daphne.cli import CommandLineInterface

        # daphne answers 403 to a websocket the application has not accepted within 5 s;
        # under tracemalloc on a loaded machine the first sessions take longer than that.
        CommandLineInterface().run(
            ["-v", "0", "-b", "127.0.0.1", "-p", str(port), "--websocket_connect_timeout", "120",
             "project.asgi:application"]
        )  # fmt: skip


if __name__ == "__main__":
    main()
