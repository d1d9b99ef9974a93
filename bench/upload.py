"""Server memory during uploads: a real server, a client sending files as the browser does.

    python bench/upload.py                  # uvicorn and daphne, 5 and 20 MB files
    python bench/upload.py --sizes 20 --servers uvicorn

For each server and file size: the server's resident memory before the upload (after a
warm-up upload), its peak during it (VmHWM, reset through /proc/<pid>/clear_refs just
before), and what the peak grew by, per byte of file. The client sends what FileInput's
view sends: "upload_start", then 512 KiB "upload_chunk" events, each waiting for the
server's OK. Then a hostile client's 40 MB: an announcement over the limit (refused),
followed by 40 MB of chunks anyway (each refused before it is stored).

The bound checked (exit 1 when exceeded): during an upload the server's peak grows by at
most the file's size plus 8 MiB; during refused uploads by at most 8 MiB.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))

from docsync.client import ClientSession, fetch_page_config  # noqa: E402
from docsync.protocol import ERROR, OK, PATCH_DOC, Message, new_message  # noqa: E402
from docsync.serialization import Encoder  # noqa: E402
from docsync.testing import ServerProcess  # noqa: E402

MiB = 1024 * 1024
CHUNK = 512 * 1024
SLACK = 8 * MiB


def status(pid: int, key: str) -> int:
    """Return a memory figure (VmRSS, VmHWM) of ``pid`` in bytes."""
    with open(f"/proc/{pid}/status") as lines:
        for line in lines:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {key} for pid {pid}")


def reset_peak(pid: int) -> None:
    """Make VmHWM start again from the current resident size (Linux 4.0+)."""
    with open(f"/proc/{pid}/clear_refs", "w") as clear:
        clear.write("5")


class Uploader:
    """A docsync client session that uploads to the app's FileInput."""

    def __init__(self, session: ClientSession) -> None:
        self.session = session
        field = next(m for m in session.document.models.values() if m.__type_name__ == "FileInput")
        self.field_id = field.id
        self.serial = 0

    async def event(self, msg_type: str, data: Any) -> Message:
        encoder = Encoder(buffer_prefix="u")
        event = {"kind": "MessageSent", "msg_type": msg_type, "msg_data": encoder.encode(data)}
        event["model"] = {"id": self.field_id}
        return await self.session.request(new_message(PATCH_DOC, {"events": [event]}, buffers=encoder.buffers))

    async def accepted(self, msg_type: str, data: Any) -> None:
        reply = await self.event(msg_type, data)
        if reply.msgtype != OK:
            raise RuntimeError(f"{msg_type} refused: {reply.content}")

    async def upload(self, name: str, data: bytes) -> None:
        self.serial += 1
        upload = f"b{self.serial}"
        files = [{"name": name, "type": "", "size": len(data)}]
        await self.accepted("upload_start", {"upload": upload, "files": files})
        view = memoryview(data)
        for offset in range(0, len(data), CHUNK):
            part = bytes(view[offset : offset + CHUNK])
            await self.accepted("upload_chunk", {"upload": upload, "file": 0, "offset": offset, "data": part})

    async def refused(self, size: int) -> int:
        """Announce ``size`` bytes (over the limit), then send them anyway; return the refusals."""
        refusals = 0
        announce = {"upload": "x", "files": [{"name": "huge.bin", "type": "", "size": size}]}
        for msg_type, data in [("upload_start", announce)] + [
            ("upload_chunk", {"upload": "x", "file": 0, "offset": offset, "data": os.urandom(CHUNK)})
            for offset in range(0, size, CHUNK)
        ]:
            reply = await self.event(msg_type, data)
            refusals += reply.msgtype == ERROR
        return refusals


async def measure(server: ServerProcess, sizes: list[int]) -> list[dict[str, Any]]:
    config = await asyncio.to_thread(fetch_page_config, server.url + "upload/")
    session = ClientSession(config)
    await session.connect()
    rows = []
    try:
        uploader = Uploader(session)
        report = next(m for m in session.document.models.values() if m.__type_name__ == "Div")
        await uploader.upload("warmup.bin", os.urandom(2 * MiB))  # allocator and imports warm
        for size in sizes:
            data = os.urandom(size)
            digest = hashlib.sha256(data).hexdigest()
            await asyncio.sleep(0.5)
            base = status(server.pid, "VmRSS")
            reset_peak(server.pid)
            start = time.perf_counter()
            await uploader.upload("sample.bin", data)
            await session.wait_for(lambda d=digest: d in report.text, timeout=60)
            elapsed = time.perf_counter() - start
            peak = status(server.pid, "VmHWM")
            rows.append({"case": f"upload {size // MiB} MB", "size": size, "base": base, "peak": peak, "s": elapsed})
        base = status(server.pid, "VmRSS")
        reset_peak(server.pid)
        refusals = await uploader.refused(40 * MiB)
        peak = status(server.pid, "VmHWM")
        rows.append({"case": f"refused 40 MB ({refusals} refusals)", "size": 0, "base": base, "peak": peak, "s": 0.0})
    finally:
        await session.close()
    return rows


def run(server_name: str, sizes: list[int], workdir: Path) -> list[dict[str, Any]]:
    server = ServerProcess(
        server=server_name,
        cwd=ROOT,
        log_path=workdir / f"{server_name}.log",
        env={
            "DJANGO_SETTINGS_MODULE": "bench.upload_app",
            "DJANGO_DEBUG": "0",
            "DOCSYNC_SQLITE": str(workdir / "db.sqlite3"),
            "DOCSYNC_ADMIN_REFRESH": "0",
            "DOCSYNC_LOG_LEVEL": "WARNING",
        },
    ).start()
    try:
        return asyncio.run(measure(server, sizes))
    finally:
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="5,20", help="file sizes in MiB, comma-separated")
    parser.add_argument("--servers", default="uvicorn,daphne")
    args = parser.parse_args()
    sizes = [int(s) * MiB for s in args.sizes.split(",")]
    failed = False
    print(f"{'server':8} {'case':32} {'before':>9} {'peak':>9} {'growth':>9} {'growth/file':>11} {'MB/s':>6}  bound")
    with tempfile.TemporaryDirectory(prefix="docsync-upload-") as tmp:
        for name in args.servers.split(","):
            for row in run(name, sizes, Path(tmp)):
                growth = row["peak"] - row["base"]
                limit = row["size"] + SLACK
                ok = growth <= limit
                failed |= not ok
                ratio = f"{growth / row['size']:.2f}" if row["size"] else "-"
                speed = f"{row['size'] / MiB / row['s']:.0f}" if row["s"] else "-"
                verdict = f"{'ok' if ok else 'EXCEEDED'} (<= {limit / MiB:.0f} MiB)"
                print(
                    f"{name:8} {row['case']:32} {row['base'] / MiB:7.1f}Mi {row['peak'] / MiB:7.1f}Mi "
                    f"{growth / MiB:7.1f}Mi {ratio:>11} {speed:>6}  {verdict}"
                )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
