"""docsync's channel layer (fewer Redis round trips) against channels-redis's own, on a private redis-server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from channels.exceptions import ChannelFull
from channels_redis.core import RedisChannelLayer as StockLayer

from docsync.server.cluster.layer import RedisChannelLayer
from docsync.testing import EVENT_WAIT, RedisServer

from .conftest import run

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with RedisServer() as server:
        yield server.url


def _layer(kind: type, url: str, **config: Any) -> Any:
    return kind(hosts=[{"address": url, "socket_timeout": None}], **config)


def _message(n: int) -> dict[str, Any]:
    return {"type": "relay.message", "conn_id": "c1", "frames": ['{"msgtype":"PATCH-DOC"}', "{}", b"\x00" * n]}


@pytest.mark.parametrize(("sender", "receiver"), [(RedisChannelLayer, StockLayer), (StockLayer, RedisChannelLayer)])
def test_messages_cross_between_the_two_layers_in_order(redis_url: str, sender: type, receiver: type) -> None:
    """What either layer sends, the other receives, whole and in order, on process and plain channels."""

    async def scenario() -> None:
        sending, receiving = _layer(sender, redis_url), _layer(receiver, redis_url)
        process_channel = await receiving.new_channel(prefix="docsync-process.")
        for channel in (process_channel, "docsync-plain"):
            for n in range(5):
                await sending.send(channel, _message(n))
            assert [await receiving.receive(channel) for _ in range(5)] == [_message(n) for n in range(5)]
        await sending.flush()

    run(scenario())


def test_a_full_channel_refuses_and_keeps_what_it_holds(redis_url: str) -> None:
    """At capacity, send raises ChannelFull and stores nothing; once read, the channel takes messages again."""

    async def scenario() -> None:
        layer = _layer(RedisChannelLayer, redis_url, capacity=3)
        channel = await layer.new_channel(prefix="docsync-process.")
        for n in range(3):
            await layer.send(channel, _message(n))
        with pytest.raises(ChannelFull):
            await layer.send(channel, _message(3))
        assert [await layer.receive(channel) for _ in range(3)] == [_message(n) for n in range(3)]
        await layer.send(channel, _message(4))
        assert await layer.receive(channel) == _message(4)
        await layer.flush()

    run(scenario())


def test_a_receive_waits_for_a_message_sent_later(redis_url: str) -> None:
    """Nothing waiting: the receive blocks, and gets the message once it is sent."""

    async def scenario() -> None:
        layer = _layer(RedisChannelLayer, redis_url)
        channel = await layer.new_channel(prefix="docsync-process.")
        receiving = asyncio.ensure_future(layer.receive(channel))
        await asyncio.sleep(0.2)
        assert not receiving.done()
        await _layer(RedisChannelLayer, redis_url).send(channel, _message(7))
        assert await asyncio.wait_for(receiving, EVENT_WAIT) == _message(7)
        await layer.flush()

    run(scenario())
