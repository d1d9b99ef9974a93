"""Does the server exit cleanly on SIGTERM after websockets dropped and resumed? (issue 13, item 6)

    python bench/sigterm.py [--rounds 16] [--server daphne]

Each round starts the demo site, opens 10 sliders sessions, drops 5 sockets without a
close frame, resumes them, changes a value on each, lets every client go, then sends
SIGTERM and records the exit code (-11: SIGSEGV; -9: still running after 15 s and
killed). Prints the codes. See docs/upstream.md for the cause and docsync's fix.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from docsync.client import ClientSession, fetch_page_config  # noqa: E402
from docsync.testing import ServerProcess  # noqa: E402


async def _drop_and_resume(url: str) -> None:
    clients = []
    for _ in range(10):
        config = await asyncio.to_thread(fetch_page_config, url + "sliders/")
        client = ClientSession(config)
        await client.connect()
        clients.append(client)
    for client in clients[:5]:
        client._socket.transport.abort()  # gone without a close frame
    await asyncio.sleep(0.3)
    for client in clients[:5]:
        await client.connect(resume=True)
    for client in clients:
        slider = client.document.get_model_by_name("frequency")
        slider.value = slider.value + 1  # type: ignore[union-attr]
    await asyncio.sleep(0.2)  # then every client goes with this loop, unclosed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=16)
    parser.add_argument("--server", default="daphne", choices=["daphne", "uvicorn"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="docsync-sigterm-") as tmp:
        env = {
            "DJANGO_SETTINGS_MODULE": "project.settings",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "sigterm-bench-" + "x" * 40,
            "DOCSYNC_SQLITE": str(Path(tmp) / "db.sqlite3"),
            "PYTHONFAULTHANDLER": "1",
        }
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env={**os.environ, **env}, check=True)
        codes = []
        for n in range(args.rounds):
            log = Path(tmp) / f"round{n}.log"
            server = ServerProcess(server=args.server, cwd=ROOT, env=env, log_path=log).start()
            try:
                asyncio.run(_drop_and_resume(server.url))
            finally:
                codes.append(server.stop())
            if codes[-1] not in (0, None):
                print(f"round {n}: exit {codes[-1]}: {log.read_text()[-600:]}", flush=True)
        crashed = sum(code == -11 for code in codes)
        hung = sum(code == -9 for code in codes)
        print(f"{args.server}: exit codes {codes}: {crashed} SIGSEGV, {hung} killed after 15 s, of {len(codes)} rounds")


if __name__ == "__main__":
    main()
