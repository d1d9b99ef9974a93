"""A real server: the sliders page, its websocket, a slider change, and a shared session."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from docsync.client import ClientSession
from docsync.document import Document
from docsync.protocol import ACK, PATCH_DOC, PULL_DOC_REPLY
from docsync.testing import EVENT_WAIT

from .clients import ServerUnderTest, open_session, page_config, wait_until


def _events(session: ClientSession) -> list[dict[str, Any]]:
    """Every event of every PATCH-DOC the session received."""
    return [e for m in session.received if m.msgtype == PATCH_DOC for e in m.content["events"]]


def _expected_y(doc: Document) -> np.ndarray:
    get = doc.get_model_by_name
    x = get("source").data["x"]
    return get("offset").value + get("amplitude").value * np.sin(get("frequency").value * x + get("phase").value)


@pytest.mark.asyncio
async def test_sliders_page_websocket_and_shared_session(server: ServerUnderTest) -> None:
    status, html = server.get("sliders/")
    assert status == 200
    assert 'id="docsync-config"' in html
    config = await page_config(server, "sliders")
    assert config["wsUrl"] == f"{server.ws_base}sliders/ws"

    first = await open_session(config)
    second = await open_session(config)  # a second connection to the same session
    try:
        for session in (first, second):
            assert [m.msgtype for m in session.received[:2]] == [ACK, PULL_DOC_REPLY]
        assert first.document.get_model_by_name("frequency").value == 1.0
        source_id = first.document.get_model_by_name("source").id
        frequency_id = first.document.get_model_by_name("frequency").id
        assert second.document.get_model_by_name("source").id == source_id

        first.document.get_model_by_name("amplitude").value = 2.5
        await first.sync(EVENT_WAIT)
        first.document.get_model_by_name("frequency").value = 2.0
        await first.sync(EVENT_WAIT)

        # The callback's changes reach the sender: y follows the four sliders.
        y = first.document.get_model_by_name("source").data["y"]
        np.testing.assert_allclose(y, _expected_y(first.document))
        assert first.document.get_model_by_name("status").text == "frequency changed from 1 to 2"

        # The other connection sees the sender's change and the callback's.
        await wait_until(
            lambda: (
                second.document.get_model_by_name("frequency").value == 2.0
                and second.document.get_model_by_name("status").text == "frequency changed from 1 to 2"
            ),
            5,
            "the second connection to see the change",
        )
        assert second.document.get_model_by_name("amplitude").value == 2.5
        np.testing.assert_allclose(second.document.get_model_by_name("source").data["y"], y)
        second_events = _events(second)
        assert any(
            e["kind"] == "ModelChanged" and e["model"] == {"id": frequency_id} and e["new"] == 2.0
            for e in second_events
        )

        # No echo: the sender never receives its own slider change, only the callback's.
        sent_events = _events(first)
        assert not [e for e in sent_events if e["kind"] == "ModelChanged" and e.get("attr") == "value"]
        data_events = [e for e in sent_events if e["model"] == {"id": source_id}]
        assert data_events and all(e["kind"] == "ColumnDataChanged" for e in data_events)
        assert len(data_events) == 2  # one per slider change

        # A connection opened now pulls the state both connections share.
        third = await open_session(config)
        try:
            np.testing.assert_allclose(third.document.get_model_by_name("source").data["y"], y)
            assert third.document.get_model_by_name("frequency").value == 2.0
        finally:
            await third.close()
    finally:
        await first.close()
        await second.close()
