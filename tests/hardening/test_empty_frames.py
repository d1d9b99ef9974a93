"""Empty buffers travel both ways: neither daphne nor uvicorn may drop an empty frame.

The payload of an empty array is an empty binary frame; a server that dropped it would
leave the client waiting for a payload and reading the next message's header as one.
"""

from __future__ import annotations

import numpy as np
import pytest

from docsync.protocol import OK, PATCH_DOC, new_message
from docsync.serialization import Encoder
from docsync.testing import EVENT_WAIT

from .conftest import main_site_on_each_server
from .harness import Site, open_client, open_raw

site = main_site_on_each_server("empty-frames")


@pytest.mark.asyncio
async def test_empty_arrays_reach_the_client_and_come_back(site: Site) -> None:
    config = site.browser().page_config("empty_array")
    client = await open_client(config)
    try:
        source = client.document.get_model_by_name("source")
        assert source is not None
        data = source.data  # type: ignore[attr-defined]
        assert data["x"].shape == (0,) and data["y"].dtype == np.int32
        # An empty array from the client: an empty binary frame the other way.
        sock = await open_raw(config["wsUrl"], config["token"])
        encoder = Encoder()
        column = encoder.encode(np.zeros(0))
        event = {"kind": "ColumnDataChanged", "model": {"id": source.id}, "attr": "data", "columns": {"x": column}}
        patch = new_message(PATCH_DOC, {"events": [event]}, buffers=encoder.buffers)
        assert [bytes(b) for _, b in patch.buffers] == [b""]
        reply = await sock.request(patch)
        assert reply.msgtype == OK, reply.content
        await sock.close()
        # And the server's broadcast of it (an empty frame again) reaches the first client.
        await client.wait_for(lambda: len(client.received) >= 3, EVENT_WAIT)
        assert not client.errors and client.close_code is None
        assert client.received[-1].msgtype == PATCH_DOC
        assert source.data["x"].shape == (0,)  # type: ignore[attr-defined]
    finally:
        await client.close()
