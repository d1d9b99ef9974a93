"""The load generator: run one scenario against one server and print its result as JSON.

Run it with the python that has the flavour's imports (docsync's tokens need this
repository's environment; Bokeh's need bench/.venv-bokeh)::

    python bench/loadgen.py --flavour docsync --url ws://127.0.0.1:8000 --pid 1234 \\
        --scenario roundtrip --params '{"n": 500}'
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
import traceback
from typing import Any

from lean_client import make_flavour
from scenarios import SCENARIOS, Target


async def run(args: argparse.Namespace) -> dict[str, Any]:
    target = Target(make_flavour(args.flavour), args.url, args.pid)
    params = json.loads(args.params)
    start = time.perf_counter()
    async with asyncio.timeout(args.timeout):
        result = await SCENARIOS[args.scenario](target, params)
    result.setdefault("info", {})["elapsed_s"] = round(time.perf_counter() - start, 2)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--flavour", choices=["docsync", "docsync-bokeh", "bokeh", "echo"], required=True)
    parser.add_argument("--url", required=True, help="ws://127.0.0.1:<port>")
    parser.add_argument("--pid", type=int, required=True, help="the server's pid, for RSS and CPU")
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), required=True)
    parser.add_argument("--params", default="{}", help="the scenario's parameters, as JSON")
    parser.add_argument("--timeout", type=float, default=900, help="give up after this many seconds")
    args = parser.parse_args()
    if not args.url.startswith(("ws://127.0.0.1:", "ws://localhost:")):
        parser.error("the benchmark only sends traffic to 127.0.0.1")
    # Thousands of sockets: one file descriptor each.
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:
        runner = asyncio.run
    try:
        result = runner(run(args))
    except Exception as exc:
        traceback.print_exc()
        result = {"error": f"{type(exc).__name__}: {exc}"[:500]}
    print(json.dumps(result))
    return 0 if "error" not in result else 1


if __name__ == "__main__":
    sys.exit(main())
