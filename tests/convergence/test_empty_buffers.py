"""An empty array travels like any other.

daphne sends a ``websocket.send`` only ``if message.get("bytes")``: the zero-length
payload frame of an empty ndarray was silently dropped, the receiver read the next text
frame where the payload should be ("expected binary buffer payload frame") and that
client's connection was dead. Found by the resume tests (a stream app starting empty);
fixed in ``docsync/server/compat/daphne.py``.
"""

from __future__ import annotations

import asyncio

import numpy as np

from docsync.testing import EVENT_WAIT

from .conftest import ConvergenceServer
from .harness import ControlledClient


def test_an_empty_column_reaches_the_other_clients(server: ConvergenceServer) -> None:
    async def main() -> None:
        config = await server.room_config("convergence")
        a, b = ControlledClient(config, "a"), ControlledClient(config, "b")
        await a.connect()
        await b.connect()
        try:
            # Every column emptied: a client may not leave a source's columns uneven.
            a.document.get_model_by_name("source").data = {"x": np.zeros(0), "y": np.zeros(0), "label": []}  # type: ignore[union-attr]
            await a.sync(EVENT_WAIT)
            await asyncio.wait_for(b.request_server_info(), EVENT_WAIT)
            assert len(b.document.get_model_by_name("source").data["x"]) == 0  # type: ignore[union-attr]
            late = ControlledClient(config, "late")  # and in a whole document
            await asyncio.wait_for(late.connect(), EVENT_WAIT)
            assert len(late.document.get_model_by_name("source").data["x"]) == 0  # type: ignore[union-attr]
            await late.close()
        finally:
            await a.close()
            await b.close()

    asyncio.run(main())
