"""The Redis store's journal: a session's record set expires SNAPSHOT_LIFETIME after its last record.

A private redis-server. The set's expiry was set only every 64 records: a session that
took its records slowly had the set expire with acknowledged changes in it that no
snapshot held yet (a kill -9 then lost them), and the set its next records made again
had no expiry at all.
"""

from __future__ import annotations

import os

import pytest
import redis

from docsync.testing import RedisServer

from .conftest import SETTINGS

pytestmark = pytest.mark.asyncio


async def test_each_write_pushes_back_the_expiry_of_its_sessions_record_sets() -> None:
    import django
    from django.conf import settings

    if not settings.configured:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)
        django.setup()
    from docsync.conf import docsync_settings
    from docsync.server.persistence import RedisStore

    lifetime_ms = float(docsync_settings().SNAPSHOT_LIFETIME) * 1000
    with RedisServer() as server:
        store = RedisStore(server.url)
        plain = redis.Redis.from_url(server.url)
        try:
            await store.append_records([("s1", 1, b"r1")], process="p")
            # As if half a lifetime had passed since record 1: well short, so that the push
            # shows, and not about to expire (at 500 ms a stalled CI machine could lose r1).
            plain.pexpire("docsync:journal:s1", int(lifetime_ms // 2))
            await store.append_records([("s1", 2, b"r2"), ("s1", 3, b"r3"), ("s2", 7, b"other")], process="p")
            for name in ("docsync:journal:s1", "docsync:journal:s2"):  # s2's set is made at its record 7
                assert plain.pttl(name) > lifetime_ms - 60_000, (name, plain.pttl(name))
            assert await store.load_records("s1") == [b"r1", b"r2", b"r3"]
        finally:
            plain.close()
            await store.close()
