"""A slow sync callback using the ORM in one session never delays another session."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest
from asgiref.sync import sync_to_async

from .apps_for_tests import SLOW_CALLBACK_S
from .clients import ServerUnderTest, open_session, page_config, wait_until

MAX_ROUND_TRIP_S = 0.050


@pytest.mark.asyncio
async def test_slow_orm_callback_does_not_delay_other_sessions(server: ServerUnderTest, database: str) -> None:
    from project.catalog.models import Product

    products = await sync_to_async(Product.objects.count)()
    assert products > 0

    slow = await open_session(await page_config(server, "orm_slow"))
    fast = await open_session(await page_config(server, "bench"))
    try:
        slider = fast.document.get_model_by_name("slider")
        source = fast.document.get_model_by_name("source")
        slider.value = 2  # warm up: the worker threads and the connection
        await fast.sync(timeout=5)

        slow.document.get_model_by_name("trigger").value = 1
        started = time.monotonic()
        slow_sync = asyncio.ensure_future(slow.sync(timeout=10))
        await asyncio.sleep(0.05)  # the slow callback is running now

        round_trips = []
        value = 3
        while time.monotonic() - started < SLOW_CALLBACK_S * 0.8:
            before = time.monotonic()
            slider.value = value
            await fast.sync(timeout=5)
            round_trips.append(time.monotonic() - before)
            np.testing.assert_allclose(source.data["y"], np.sin(source.data["x"] * value / 10))
            value += 1
            await asyncio.sleep(0.02)
        measured_until = time.monotonic()
        assert not slow_sync.done(), "the slow callback ended before the measurements did"

        await asyncio.wait_for(slow_sync, 5)
        slow_took = time.monotonic() - started
        await wait_until(
            lambda: slow.document.get_model_by_name("result").text == f"{products} products",
            2,
            "the ORM callback's result",
        )
    finally:
        await slow.close()
        await fast.close()

    assert len(round_trips) >= 10
    assert measured_until - started < slow_took  # every round trip overlapped the slow callback
    assert slow_took >= SLOW_CALLBACK_S
    assert max(round_trips) < MAX_ROUND_TRIP_S, f"round trips: {[round(t * 1000, 1) for t in round_trips]} ms"
