"""What keeping held sessions' snapshots alive costs the store, per writer round (counts, deterministic).

    python bench/held_refresh.py [--sessions 1000,10000] [--out /tmp/held_refresh.json]

In one process, no server: N idle sessions of the bench app in a real SessionRegistry,
persisted in a private redis-server, then in a SQLite file (both made with the session,
as a server makes them). Each session's snapshot is then made to look a quarter of
``SNAPSHOT_LIFETIME`` old (its SavedState's times: what the writer reads), and the
writer's rounds (``SnapshotKeeper.refresh_held``) run until none is due, then once more.
Per round: sessions pushed back, the store's round trips, the commands redis-server
counted (INFO commandstats), the SQL statements Django ran (an execute wrapper on every
connection). The in-memory look at N sessions a round costs is printed too, beside the
writer's look for changed sessions (median of 5, for information: timings, not a claim).
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
os.environ.setdefault("DOCSYNC_ADMIN_REFRESH", "0")
os.environ.setdefault("DOCSYNC_LOG_LEVEL", "WARNING")
os.environ["DOCSYNC_UNUSED_SESSION_LIFETIME"] = "86400"  # idle, never destroyed: held for the whole run
# The writer task sleeps (an eighth of the lifetime) through the run: only the rounds run here count.
os.environ["DOCSYNC_SNAPSHOT_INTERVAL"] = "100000.0"
_OWN_DB = tempfile.mkdtemp(prefix="docsync-bench-held-db-")
atexit.register(shutil.rmtree, _OWN_DB, True)
os.environ["DOCSYNC_SQLITE"] = os.path.join(_OWN_DB, "db.sqlite3")

import django  # noqa: E402

django.setup()

import redis  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db.backends.signals import connection_created  # noqa: E402

call_command("migrate", verbosity=0, interactive=False)

from docsync.conf import docsync_settings  # noqa: E402
from docsync.server.persistence import DatabaseStore, RedisStore, SessionStore, SnapshotKeeper  # noqa: E402
from docsync.server.registry import SessionRegistry  # noqa: E402
from docsync.testing import RedisServer  # noqa: E402

STATEMENTS: Counter[str] = Counter()


def _count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
    STATEMENTS[sql.split(None, 1)[0].upper()] += 1
    return execute(sql, params, many, context)


def _wrap(sender: Any, connection: Any, **kwargs: Any) -> None:
    # Every connection, whichever thread opens it (the store writes from worker threads);
    # once: a thread's wrapper object reconnects after each call (CONN_MAX_AGE 0).
    if _count not in connection.execute_wrappers:
        connection.execute_wrappers.append(_count)


connection_created.connect(_wrap)


async def rounds(store: SessionStore, sessions: int, redis_url: str | None) -> dict[str, Any]:
    """Open ``sessions`` sessions persisted in ``store``, age them, and count what each refresh round costs."""
    registry = SessionRegistry()
    keeper = registry.keeper = SnapshotKeeper(registry, store)
    request: dict[str, Any] = {"arguments": {}, "headers": {}, "cookies": {}, "user": None, "path": "bench"}
    for n in range(sessions):
        await registry.open_session("bench", f"held-{store.name}-{sessions}-{n:06d}", request)
    assert len(keeper.states) == sessions, (len(keeper.states), sum(len(c.sessions) for c in registry.contexts))
    lifetime = float(docsync_settings().SNAPSHOT_LIFETIME)
    for state in keeper.states.values():
        assert state.saved_at is not None
        state.saved_at -= lifetime / 4 + 1  # idle since: due for a push back
    plain = redis.Redis.from_url(redis_url) if redis_url else None
    figures: list[dict[str, Any]] = []
    for _ in range(sessions // 2000 + 3):  # bounded: 2000 a round at most, then one round with none due
        if plain is not None:
            plain.config_resetstat()
        STATEMENTS.clear()
        trips, calls = store.refresh_round_trips, keeper.refresh_calls
        pushed = await keeper.refresh_held()
        row: dict[str, Any] = {
            "pushed": pushed,
            "store_calls": keeper.refresh_calls - calls,
            "round_trips": store.refresh_round_trips - trips,
        }
        if plain is not None:
            stats = plain.info("commandstats")
            row["redis_commands"] = {
                k.removeprefix("cmdstat_"): v["calls"] for k, v in stats.items() if "resetstat" not in k
            }
        else:
            row["sql_statements"] = dict(STATEMENTS)
        figures.append(row)
        if pushed == 0:
            break
    scans, idle, changed_scans = [], [], []
    for _ in range(5):
        keeper.next_refresh = 0.0  # a round that looks at every session (one is due)
        started = time.perf_counter()
        keeper.due_for_refresh(time.time())
        scans.append(time.perf_counter() - started)
        started = time.perf_counter()
        assert keeper.due_for_refresh(time.time()) == []  # a round before the first is due
        idle.append(time.perf_counter() - started)
        # The writer's other look at every session each round, for comparison: none changed.
        started = time.perf_counter()
        assert await keeper.save_changed() == 0
        changed_scans.append(time.perf_counter() - started)
    if plain is not None:
        plain.close()
    keeper.draining = True  # no drain at the end: the sessions are dropped with the process
    await store.close()
    return {
        "sessions": sessions,
        "rounds": figures,
        "scan_ms": 1000 * statistics.median(scans),
        "idle_round_ms": 1000 * statistics.median(idle),
        "save_changed_ms": 1000 * statistics.median(changed_scans),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", default="1000,10000", help="comma-separated session counts")
    parser.add_argument("--out", help="write the figures as JSON here (never bench/results)")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    for count in (int(n) for n in args.sessions.split(",")):
        with RedisServer() as server:
            results[f"redis/{count}"] = await rounds(RedisStore(server.url), count, server.url)
        results[f"database/{count}"] = await rounds(DatabaseStore(), count, None)
    for name, figures in results.items():
        print(
            f"{name}: look for sessions due {figures['scan_ms']:.2f} ms, {figures['idle_round_ms']:.4f} ms"
            f" before the first is due (the look for changed ones: {figures['save_changed_ms']:.2f} ms)"
        )
        for n, row in enumerate(figures["rounds"], 1):
            print(f"  round {n}: {json.dumps(row)}")
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
