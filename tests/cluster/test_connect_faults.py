"""The channel layer failing under relays: the client is told to retry (1013), never crashed on (1011).

The session directory (``DOCSYNC["REDIS_URL"]``) and the channel layer live on two
private redis-servers, so that the channel layer alone can be stopped: the claim then
succeeds and the relay's opening is what meets the failure. The processes relay over
the channel layer (no ``PEER_ADDRESS``), as they do when a direct route is down.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from docsync.client import ServerError
from docsync.testing import EVENT_WAIT, RedisServer

from .conftest import Cluster, connect, run, set_slider_and_wait

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module", params=["daphne", "uvicorn"])
def split(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Two processes of one ASGI server; the directory on its own Redis (``cluster.directory``)."""
    directory = RedisServer().start()
    try:
        running = Cluster(
            tmp_path_factory.mktemp(f"split-{request.param}"),
            2,
            kinds=(request.param,) * 2,
            settings="tests.cluster.settings_split",
            DOCSYNC_DIRECTORY_URL=directory.url,
            DOCSYNC_PEER_ADDRESS="",  # relays over the channel layer
        )
        try:
            yield running
        finally:
            running.stop()
    finally:
        directory.stop()


def test_a_relay_that_cannot_open_is_refused_for_a_retry(split: Cluster) -> None:
    """The channel layer down after the claim: ERROR close-1013 and close 1013; back, the same token relays."""
    cluster = split
    assert cluster.redis is not None

    async def scenario() -> None:
        config = await asyncio.to_thread(cluster.page_config, "counted", 0)
        owner = await connect(config, cluster.ws_url("counted", 0))  # process 0 owns the session
        await set_slider_and_wait(owner, 3)
        warm = await connect(config, cluster.ws_url("counted", 1))  # a relay works before the fault
        await set_slider_and_wait(warm, 4)
        await warm.close()
        port = cluster.redis.port
        cluster.redis.stop()
        try:
            refused = await asyncio.gather(
                *(connect(config, cluster.ws_url("counted", 1)) for _ in range(3)), return_exceptions=True
            )
        finally:
            cluster.redis.port = port
            cluster.redis.start()
        for failure in refused:
            assert isinstance(failure, ServerError), failure
            assert failure.code == "close-1013", (failure.code, str(failure))
            assert "try again" in str(failure)
        # Redis back: the same token is relayed to the same owner, its state intact.
        deadline = time.monotonic() + EVENT_WAIT
        while True:
            try:
                relayed = await connect(config, cluster.ws_url("counted", 1))
                break
            except ServerError as exc:
                assert exc.code == "close-1013", (exc.code, str(exc))
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)
        assert relayed.document.get_model_by_name("slider").value == 4  # type: ignore[union-attr]
        assert (await set_slider_and_wait(relayed, 5)).endswith(f"pid={cluster.servers[0].pid}")
        for client in (owner, relayed):
            await client.close()
        relaying = cluster.log_text(1)
        assert "could not open a relay" in relaying  # the refusals above came from the relay's opening
        assert "Exception inside application" not in relaying  # daphne's words for a consumer that crashed
        assert "Traceback" not in relaying.split("could not open a relay")[0]

    run(scenario())


def test_a_relayed_message_sent_while_the_channel_layer_is_down_is_refused_for_a_retry(split: Cluster) -> None:
    """The socket is closed with 1013 (retry), never by a crash; after Redis returns the client resumes."""
    cluster = split
    assert cluster.redis is not None

    async def scenario() -> None:
        config = await asyncio.to_thread(cluster.page_config, "counted", 0)
        owner = await connect(config, cluster.ws_url("counted", 0))
        relayed = await connect(config, cluster.ws_url("counted", 1))
        await set_slider_and_wait(relayed, 30)
        port = cluster.redis.port
        cluster.redis.stop()
        try:
            relayed.document.get_model_by_name("slider").value = 31  # type: ignore[union-attr]
            await relayed.wait_for(lambda: relayed.close_code is not None, EVENT_WAIT)
            assert relayed.close_code == 1013, (relayed.close_code, relayed.close_reason)
        finally:
            cluster.redis.port = port
            cluster.redis.start()
        # Back: the same client resumes its session, and its unacknowledged change is applied.
        deadline = time.monotonic() + EVENT_WAIT
        while True:
            try:
                await relayed.connect(resume=True)
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)
        await relayed.sync(EVENT_WAIT)
        slider = owner.document.get_model_by_name("slider")
        await owner.wait_for(lambda: slider.value == 31, EVENT_WAIT)  # type: ignore[union-attr]
        for client in (owner, relayed):
            await client.close()
        logs = "".join(path.read_text() for path in cluster.tmp.glob("server*.log"))
        assert "Exception inside application" not in logs  # daphne's words for a consumer that crashed

    run(scenario())
