"""A session's process stopped by SIGTERM (no persistence): its relayed websockets learn it at once.

Killed, a process is noticed at a heartbeat after its liveness key expires (close 4010,
"went away"). Stopped, it says so itself before the ASGI server stops: daphne stops its
event loop on SIGTERM with no lifespan shutdown, so until this test the relayed clients of
a daphne owner saw nothing until that key expired, and their reconnects were relayed
back to the stopped process meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import redis

from docsync.testing import EVENT_WAIT

from .conftest import Cluster, connect, run, set_slider_and_wait

pytestmark = pytest.mark.cluster

STOPPED = "the process holding this session stopped; reconnect"


@pytest.fixture(params=["daphne", "uvicorn"])
def pair(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Two processes: the owner (``request.param``), to be stopped, and a daphne relaying to it."""
    running = Cluster(tmp_path_factory.mktemp(f"owner-stops-{request.param}"), 2, kinds=(request.param, "daphne"))
    try:
        yield running
    finally:
        running.stop()


def _live_processes(cluster: Cluster) -> int:
    assert cluster.redis is not None
    client = redis.Redis.from_url(cluster.redis.url)
    try:
        return len(client.keys("docsync:process:*"))
    finally:
        client.close()


def test_relayed_clients_of_a_stopped_owner_are_closed_4010_and_reconnect_fresh(pair: Cluster) -> None:
    cluster = pair

    async def scenario() -> None:
        config = await asyncio.to_thread(cluster.page_config, "counted", 0)
        owner = cluster.servers[0]
        direct = await connect(config, cluster.ws_url("counted", 0))  # process 0 makes (owns) the session
        relayed = await connect(config, cluster.ws_url("counted", 1))
        await set_slider_and_wait(relayed, 11)
        assert await asyncio.to_thread(_live_processes, cluster) == 2
        owner.terminate()
        await relayed.wait_for(lambda: relayed.close_code is not None, EVENT_WAIT)
        told = [m.content["text"] for m in relayed.errors if m.reqid is None]
        # Said by the stopping owner, not found at a heartbeat (that text is "went away").
        assert (relayed.close_code, told) == (4010, [STOPPED])
        # It left the directory before it closed them: a reconnect makes the session anew
        # here at once, rather than being relayed to the stopped process.
        assert await asyncio.to_thread(_live_processes, cluster) == 1
        await relayed.reconnect()
        assert relayed.resumed_fresh is True
        text = await set_slider_and_wait(relayed, 12)
        assert text.endswith(f"pid={cluster.servers[1].pid}")
        await relayed.close()
        await direct.wait_for(lambda: direct.close_code is not None, EVENT_WAIT)
        await direct.close()
        owner.wait_stopped()

    run(scenario())
