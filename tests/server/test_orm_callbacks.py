"""A slow sync callback using the ORM in one session never delays another session.

The slow callback holds its worker thread until the test lets it go, so the proof is
causal, not a clock: another session completes its round trips while that callback is
known to be running. How fast those round trips are is the benchmarks' business
(bench/), not an assertion here.
"""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from asgiref.sync import sync_to_async

from docsync.testing import REPLY_TIMEOUT

from .apps_for_tests import ORM_GATE_MAX_S, orm_gate
from .clients import ServerUnderTest, open_session, page_config, wait_until

ROUND_TRIPS = 10


@pytest.mark.asyncio
async def test_slow_orm_callback_does_not_delay_other_sessions(server: ServerUnderTest, database: str) -> None:
    from project.catalog.models import Product

    products = await sync_to_async(Product.objects.count)()
    assert products > 0

    slow = await open_session(await page_config(server, "orm_slow"))
    fast = await open_session(await page_config(server, "bench"))
    gate = orm_gate(slow.document.get_model_by_name("tag").text)
    started, opened = gate.with_suffix(".started"), gate.with_suffix(".open")
    try:
        slider = fast.document.get_model_by_name("slider")
        source = fast.document.get_model_by_name("source")

        slow.document.get_model_by_name("trigger").value = 1
        slow_sync = asyncio.ensure_future(slow.sync(timeout=ORM_GATE_MAX_S))
        await wait_until(started.exists, REPLY_TIMEOUT, "the slow callback to start")

        for value in range(2, 2 + ROUND_TRIPS):
            slider.value = value
            await fast.sync(timeout=REPLY_TIMEOUT)
            np.testing.assert_allclose(source.data["y"], np.sin(source.data["x"] * value / 10))
        # Every round trip above ended while the slow callback still held its thread.
        assert not opened.exists() and not slow_sync.done()
        assert slow.document.get_model_by_name("result").text == ""

        opened.touch()
        await asyncio.wait_for(slow_sync, REPLY_TIMEOUT)
        await wait_until(
            lambda: slow.document.get_model_by_name("result").text == f"{products} products",
            REPLY_TIMEOUT,
            "the ORM callback's result",
        )
    finally:
        opened.touch()  # never leave the server's thread waiting
        await slow.close()
        await fast.close()
        started.unlink(missing_ok=True)
        opened.unlink(missing_ok=True)
