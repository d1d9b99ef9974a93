"""What the owner check of a stored session costs, by snapshot size: the whole read against the first bytes.

    python bench/stored_owner.py [--sizes 0.01,1,16,64] [--rounds 5] --out /tmp/stored_owner.json
    python bench/stored_owner.py --store sqlite|postgres|redis [--sizes 1,64] --out /tmp/owner_sqlite.json
    python bench/stored_owner.py --store postgres --conn-max-age 60 --out /tmp/owner_pg_kept.json

A page naming a session only the store holds (``?session_id=``) reads whom its snapshot
belongs to (``snapshot.stored_owner``). It did a CRC-32 of the whole snapshot and a JSON
parse of its whole header (the document's JSON) for four small fields; it now parses the
header's first ``OWNER_PREFIX_BYTES`` alone (the restore still checks the whole). For
each size (MB), two snapshots of a one-column document: one whose size is in a numpy
buffer (binary, after the header), one whose size is in the document's JSON (a list of
floats, in the header). Counted (deterministic): the bytes checksummed and the header
bytes parsed by each way. Timed, for information (not a claim): the median of
``--rounds`` calls of each, the two ways alternated (A B A B). The store's read of the
value (a database row, a Redis GET) is the same for both and not part of it.

``--store`` measures that read instead, on a real store (an SQLite file, a private
PostgreSQL, a private redis-server, all in a temporary folder, stopped at the end): the
keeper's owner check as it was (the store's ``load`` of the whole snapshot, then
``stored_owner``) against ``SnapshotKeeper.stored_owner`` now (``load_prefix`` of
``OWNER_READ_BYTES``). Counted: the bytes the store hands the process per check (and for
Redis the bytes the server sent, from its own ``total_net_output_bytes``); timed, the
medians of ``--rounds`` checks of each, alternated. MAX_SNAPSHOT_BYTES is raised to 1 GB
so that a snapshot of 64 MB plus its header is read. ``--conn-max-age`` sets Django's
``CONN_MAX_AGE`` of the database store's connections (default 0, Django's: a connection
opened for each call, as for a request).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import struct
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from docsync.server.persistence.snapshot import (  # noqa: E402
    MAGIC,
    OWNER_PREFIX_BYTES,
    OWNER_READ_BYTES,
    Snapshot,
    StoredOwner,
    encode_snapshot,
    stored_owner,
    unpack,
)

_LIMIT = 1 << 31
_SESSION = "s" * 32


def whole_read(data: bytes) -> StoredOwner:
    """The owner read as before: a checksum of everything after the magic, the whole header parsed."""
    header, _ = unpack(data, MAGIC, "snapshot")
    user_id = header.get("user_id")
    return StoredOwner(None if user_id is None else str(user_id), header.get("visitor"))


def prefix_read(data: bytes) -> StoredOwner:
    """The owner read now."""
    return stored_owner(data, app_path="board", session_id=_SESSION)


def snapshot_of(megabytes: float, where: str) -> bytes:
    """A snapshot of about ``megabytes``, its size in a binary buffer or in the document's JSON."""
    count = int(megabytes * (1 << 20) / (8 if where == "buffer" else 19))
    values = np.random.default_rng(1).random(count)
    column: Any = {"__buffer__": "7.0.0"} if where == "buffer" else values.tolist()
    doc = {
        "title": "board",
        "roots": [{"id": "s1"}],
        "models": [{"type": "ColumnDataSource", "id": "s1", "attributes": {"data": {"x": column}}}],
    }
    snapshot = Snapshot(
        session_id=_SESSION,
        app_path="board",
        incarnation="i" * 16,
        seq=12345,
        user_id=None,
        visitor="v" * 32,
        request={"arguments": {"rows": ["2"]}, "headers": {"User-Agent": "bench"}, "cookies": {}},
        created=1.0,
        saved=2.0,
        doc=doc,
        buffers=[("7.0.0", values.tobytes())] if where == "buffer" else [],
        app_ids=["s1"],
    )
    return encode_snapshot(snapshot, _LIMIT)


def _seconds(call: Callable[[bytes], StoredOwner], data: bytes) -> float:
    started = time.perf_counter()
    call(data)
    return time.perf_counter() - started


def _django(folder: Path, env: dict[str, str], conn_max_age: float = 0) -> None:
    """This folder's settings (the persistence tests'), on ``env``'s database; the snapshot table made."""
    os.environ.update({"DJANGO_SETTINGS_MODULE": "tests.persistence.settings", **env})
    os.environ.setdefault("DOCSYNC_SQLITE", str(folder / "owner.sqlite3"))
    os.environ["DOCSYNC_MAX_SNAPSHOT_BYTES"] = str(1 << 30)
    import django
    from django.db import connection

    django.setup()
    from docsync.models import SessionRecord, SessionSnapshot

    with connection.schema_editor() as editor:
        editor.create_model(SessionSnapshot)
        editor.create_model(SessionRecord)  # the store's delete forgets the journal too
    connection.close()  # the store's worker threads open their own
    from django.db import connections

    # Read by each worker thread's connection when it opens.
    connections.settings["default"]["CONN_MAX_AGE"] = conn_max_age


async def _measure_store(kind: str, sizes: list[float], rounds: int, redis_url: str) -> list[dict[str, Any]]:
    from docsync.conf import docsync_settings
    from docsync.server.persistence import DatabaseStore, RedisStore, SnapshotKeeper
    from docsync.server.persistence.snapshot import SnapshotError

    store = RedisStore(redis_url) if kind == "redis" else DatabaseStore()
    keeper = SnapshotKeeper(SimpleNamespace(process_id="bench", contexts=[]), store)
    board = SimpleNamespace(kind="docsync", options={}, path="board")
    plain: Any = None
    if kind == "redis":
        import redis

        plain = redis.Redis.from_url(redis_url)

    async def before() -> int:
        # The check as it was: the whole value from the store, its size checked, then read.
        data = await keeper.read_store(store.load(_SESSION))
        if len(data) > int(docsync_settings().MAX_SNAPSHOT_BYTES):
            raise SnapshotError("too big")
        assert stored_owner(data, app_path="board", session_id=_SESSION).visitor == "v" * 32
        return len(data)

    async def after() -> int:
        owner = await keeper.stored_owner(board, _SESSION)
        assert owner is not None and owner.visitor == "v" * 32
        head = await store.load_prefix(_SESSION, OWNER_READ_BYTES)  # what that check was handed (counted apart)
        assert head is not None
        return len(head.data)

    def sent() -> int:
        return int(plain.info("stats")["total_net_output_bytes"]) if plain is not None else 0

    async def server_bytes(call: Callable[[], Awaitable[Any]]) -> int:
        start = sent()
        await call()
        return sent() - start

    async def timed(call: Callable[[], Awaitable[Any]]) -> float:
        started = time.perf_counter()
        await call()
        return time.perf_counter() - started

    rows = []
    try:
        for megabytes in sizes:
            data = snapshot_of(megabytes, "buffer")
            await store.save(_SESSION, "board", 1, data, process="bench")
            row: dict[str, Any] = {"store": kind, "snapshot_bytes": len(data)}
            row["before_bytes_read"] = await before()
            row["after_bytes_read"] = await after()
            if plain is not None:

                async def whole() -> Any:
                    return await keeper.read_store(store.load(_SESSION))

                async def check() -> Any:
                    return await keeper.stored_owner(board, _SESSION)

                idle = await server_bytes(lambda: asyncio.sleep(0))  # INFO's own reply
                row["before_redis_sent_bytes"] = await server_bytes(whole) - idle
                row["after_redis_sent_bytes"] = await server_bytes(check) - idle
            times: dict[str, list[float]] = {"before": [], "after": []}
            for _ in range(rounds):  # alternated: A B A B
                times["before"].append(await timed(before))
                times["after"].append(await timed(lambda: keeper.stored_owner(board, _SESSION)))
            # The check alternated with a whole read pays for that read's aftermath (64 MB
            # freed, pages dropped): 6 ms of the first check after it, 0.4 ms of the next.
            # Back to back, the check is timed on its own.
            alone = [await timed(lambda: keeper.stored_owner(board, _SESSION)) for _ in range(rounds)]
            row["before_ms_median"] = statistics.median(times["before"]) * 1000
            row["after_ms_median"] = statistics.median(times["after"]) * 1000
            row["after_alone_ms_median"] = statistics.median(alone) * 1000
            rows.append(row)
            print(
                f"{kind:8} {len(data) / (1 << 20):6.2f} MB: read {row['before_bytes_read']:>11,} B -> "
                f"{row['after_bytes_read']:>6,} B; median {row['before_ms_median']:9.3f} ms -> "
                f"{row['after_ms_median']:7.3f} ms (back to back {row['after_alone_ms_median']:.3f} ms)"
                + (
                    f" (redis sent {row['before_redis_sent_bytes']:,} B -> {row['after_redis_sent_bytes']:,} B)"
                    if plain is not None
                    else ""
                )
            )
            await store.delete(_SESSION)
    finally:
        if plain is not None:
            plain.close()
        await store.close()
    return rows


def main_store(kind: str, sizes: list[float], rounds: int, out: Path, conn_max_age: float = 0) -> None:
    """Measure the owner check's read of a real store; write the rows to ``out``."""
    from docsync.testing import PostgresServer, RedisServer

    folder = Path(tempfile.mkdtemp(prefix="docsync-bench-owner-"))
    folder.chmod(0o755)  # PostgreSQL runs as its own user
    postgres = PostgresServer(folder / "pg") if kind == "postgres" else None
    redis_server = RedisServer() if kind == "redis" else None
    try:
        env: dict[str, str] = {}
        if postgres is not None:
            env = postgres.start().env
        url = redis_server.start().url if redis_server is not None else ""
        _django(folder, env, conn_max_age)
        rows = asyncio.run(_measure_store(kind, sizes, rounds, url))
    finally:
        if redis_server is not None:
            redis_server.stop()
        if postgres is not None:
            postgres.stop()
        shutil.rmtree(folder, ignore_errors=True)
    figures = {"rows": rows, "owner_read_bytes": OWNER_READ_BYTES, "rounds": rounds, "conn_max_age": conn_max_age}
    out.write_text(json.dumps(figures, indent=1))
    print(f"written: {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="0.01,1,16,64", help="snapshot sizes in MB, comma-separated")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--store", choices=["sqlite", "postgres", "redis"], help="measure the read of this store")
    parser.add_argument("--conn-max-age", type=float, default=0, help="CONN_MAX_AGE of the database store")
    parser.add_argument("--out", required=True, help="where the figures go (JSON), e.g. /tmp/stored_owner.json")
    args = parser.parse_args()
    if args.store:
        sizes = [float(size) for size in args.sizes.split(",")]
        main_store(args.store, sizes, args.rounds, Path(args.out), args.conn_max_age)
        return
    rows = []
    for megabytes in (float(size) for size in args.sizes.split(",")):
        for where in ("buffer", "json"):
            data = snapshot_of(megabytes, where)
            (header_length,) = struct.unpack_from(">I", data, len(MAGIC) + 4)
            assert prefix_read(data) == whole_read(data) == StoredOwner(None, "v" * 32)
            before: list[float] = []
            after: list[float] = []
            for _ in range(args.rounds):  # alternated: A B A B
                before.append(_seconds(whole_read, data))
                after.append(_seconds(prefix_read, data))
            row = {
                "snapshot_bytes": len(data),
                "size_in": where,
                "header_bytes": header_length,
                "before_checksummed_bytes": len(data) - len(MAGIC) - 4,
                "before_parsed_bytes": header_length,
                "after_checksummed_bytes": 0,
                "after_parsed_bytes": min(header_length, OWNER_PREFIX_BYTES),
                "before_ms_median": statistics.median(before) * 1000,
                "after_ms_median": statistics.median(after) * 1000,
            }
            rows.append(row)
            print(
                f"{len(data) / (1 << 20):8.2f} MB in {where:6}: before {row['before_ms_median']:9.3f} ms "
                f"(checksum {row['before_checksummed_bytes']:>11,} B, parse {header_length:>11,} B); "
                f"after {row['after_ms_median']:6.3f} ms (checksum 0 B, parse {row['after_parsed_bytes']:,} B)"
            )
    Path(args.out).write_text(json.dumps({"rows": rows, "owner_prefix_bytes": OWNER_PREFIX_BYTES}, indent=1))
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
