"""The floor: a bare websocket server that answers with frames of docsync's shapes.

It knows no protocol. On connect it sends the greeting frames; after every three
frames received (one request message) it sends the next reply's frames, the last
reply repeating. Shapes come from a JSON file captured from docsync in the same run:
``{"<app>": {"greet": [frame, ...], "replies": [[frame, ...], ...]}}``, where a text
frame is a string sent verbatim and a binary frame is ``{"binary": <size>}``.

    python bench/echo_server.py --port 8123 --shapes shapes.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
from typing import Any

from websockets.asyncio.server import ServerConnection, serve

REQUEST_FRAMES = 3


def load_shapes(path: str) -> dict[str, dict[str, Any]]:
    """Read the shapes file, materialising binary frames once."""
    with open(path) as file:
        shapes = json.load(file)

    def frame(spec: Any) -> str | bytes:
        return spec if isinstance(spec, str) else bytes(spec["binary"])

    return {
        app: {"greet": [frame(f) for f in shape["greet"]], "replies": [[frame(f) for f in r] for r in shape["replies"]]}
        for app, shape in shapes.items()
    }


async def answer(ws: ServerConnection, shapes: dict[str, dict[str, Any]]) -> None:
    """Greet, then reply to every request message with the next reply's frames."""
    app = ws.request.path.strip("/").split("/")[0] if ws.request else ""
    shape = shapes.get(app)
    if shape is None:
        await ws.close(4004, f"no shapes for {app!r}")
        return
    for frame in shape["greet"]:
        await ws.send(frame)
    replies = shape["replies"]
    received = 0
    async for _ in ws:
        received += 1
        if received % REQUEST_FRAMES:
            continue
        index = min(received // REQUEST_FRAMES - 1, len(replies) - 1)
        for frame in replies[index]:
            await ws.send(frame)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--shapes", required=True)
    args = parser.parse_args()
    shapes = load_shapes(args.shapes)
    async with serve(
        lambda ws: answer(ws, shapes),
        "127.0.0.1",
        args.port,
        max_size=None,
        compression=None,
        ping_interval=None,
    ) as server:
        await server.serve_forever()


if __name__ == "__main__":
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        import uvloop

        uvloop.run(main())
    except ImportError:
        asyncio.run(main())
