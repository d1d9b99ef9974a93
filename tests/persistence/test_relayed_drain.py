"""A draining process closes the websockets other processes relay to it with 4012, as its own.

Three daphne processes, a private redis-server (the channel layer and the store), no
sticky sessions: a client whose socket lands on process 1 while process 0 owns its
session is relayed there. When process 0 drains, that client is closed with 4012
(retry and resume), reconnects through another process and resumes its session,
restored, with every acknowledged change.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from docsync.client import ClientSession
from docsync.testing import EVENT_WAIT
from tests.cluster.conftest import Cluster

from .test_cluster import append_acked, open_on, reconnect_via
from .test_kill_and_drain import in_order, notes_of, wait_until

pytestmark = [pytest.mark.cluster, pytest.mark.asyncio]

SETTINGS = "tests.persistence.settings"


@pytest.fixture
def redis_cluster(tmp_path: Path) -> Iterator[Cluster]:
    """Three daphne processes sharing a private redis-server, which is also their session store."""
    running = Cluster(tmp_path, 3, settings=SETTINGS, DOCSYNC_PERSISTENCE="redis", DOCSYNC_SNAPSHOT_INTERVAL="30")
    try:
        yield running
    finally:
        running.stop()


async def test_sockets_relayed_to_a_draining_process_close_with_4012_and_resume_elsewhere(
    redis_cluster: Cluster,
) -> None:
    cluster = redis_cluster
    owned = await open_on(cluster, 0)  # its session lives in process 0, its socket too
    relayed = ClientSession(dict(owned.config, wsUrl=cluster.ws_url("board", 1)))  # the same session, via process 1
    other = await open_on(cluster, 1)  # a session of process 1 ...
    passing = ClientSession(dict(other.config, wsUrl=cluster.ws_url("board", 0)))  # ... reached through process 0
    acked: list[str] = []
    try:
        await relayed.connect()
        await passing.connect()
        assert relayed.live is not None and not relayed.resumed_fresh
        await append_acked(relayed, ["through 1"], acked)
        await append_acked(owned, ["direct"], acked)
        await relayed.wait_for(lambda: list(notes_of(relayed).items) == ["through 1", "direct"], EVENT_WAIT)
        process = cluster.servers[0].process
        assert process is not None
        process.send_signal(signal.SIGTERM)
        await wait_until(lambda: owned.close_code is not None and relayed.close_code is not None, "both closes")
        # The relayed socket is told what the direct one is: the session moves, resume it elsewhere.
        assert owned.close_code == 4012
        assert relayed.close_code == 4012, f"relayed socket closed with {relayed.close_code}"
        assert any(m.content.get("code") == "close-4012" for m in relayed.errors), relayed.errors
        # A socket of process 0 relayed to process 1's session is closed with 4012 too (its process goes).
        await wait_until(lambda: passing.close_code is not None, "the passing socket's close")
        assert passing.close_code == 4012, f"socket of the draining process closed with {passing.close_code}"

        await asyncio.to_thread(process.wait, 60)
        cluster.servers[0].process = None
        for client, target in ((relayed, 2), (owned, 1), (passing, 2)):
            await reconnect_via(client, cluster.ws_url("board", target))
            assert not client.resumed_fresh
        await append_acked(relayed, ["after"], acked)
        await owned.sync(EVENT_WAIT)
        await owned.wait_for(lambda: list(notes_of(owned).items)[-1:] == ["after"], EVENT_WAIT)
        assert in_order(acked, list(notes_of(owned).items))
        assert list(notes_of(owned).items) == list(notes_of(relayed).items)
        await passing.sync(EVENT_WAIT)
    finally:
        for client in (owned, relayed, other, passing):
            await client.close()
