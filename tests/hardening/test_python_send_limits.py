"""The Python client keeps to itself a message the server would close its connection for.

The page hands the client what the server takes (``connection.sendLimits``; here the
hardening site's 64 KiB a frame, 256 KiB a message, 8 buffers). A real daphne process:
changes made together over those limits go in several patches that each fit, and all of
them arrive; one change over them alone is not sent, ``sync`` raises ChangeTooLargeError
naming it and the limit, the document is pulled back to the server's (the models held
stay the document's), and the connection stays open for the changes that follow.
Without the client's check, the server closes the connection (1009) for either message.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from docsync.client import ChangeTooLargeError, ClientSession
from docsync.exceptions import MessageTooBigError
from docsync.protocol import OK, push_doc

from .harness import Site, open_client
from .settings import MAX_FRAME_BYTES, MAX_MESSAGE_BYTES

pytestmark = pytest.mark.asyncio

ROWS = 5_000  # a stream of 5,000 floats: one 40,000-byte buffer frame, within MAX_FRAME_BYTES
STREAMS = 7  # 280,000 bytes of buffers together: over MAX_MESSAGE_BYTES


def _column(session: ClientSession) -> Any:
    source = session.document.get_model_by_name("source")
    assert source is not None
    return source.data["x"]  # type: ignore[attr-defined]


def _answers(session: ClientSession) -> int:
    return sum(1 for message in session.received if message.msgtype == OK)


async def _server_column(config: dict[str, Any], name: str = "source") -> Any:
    """The column (or the input's value) as the server holds it: pulled by another client of the session."""
    other = await open_client(config)
    try:
        return _column(other) if name == "source" else other.document.get_model_by_name(name).value  # type: ignore[union-attr]
    finally:
        await other.close()


async def test_changes_over_the_message_limit_together_arrive_in_smaller_patches(site: Site) -> None:
    assert STREAMS * ROWS * 8 > MAX_MESSAGE_BYTES and ROWS * 8 < MAX_FRAME_BYTES
    config = site.browser().page_config("streamed")
    assert config["connection"]["sendLimits"]["maxMessageBytes"] == MAX_MESSAGE_BYTES
    session = await open_client(config)
    try:
        source = session.document.get_model_by_name("source")
        answers = _answers(session)
        for i in range(STREAMS):  # in one turn of the loop: one batch
            source.stream({"x": np.full(ROWS, float(i + 1))}, rollover=ROWS)  # type: ignore[union-attr]
        await session.sync()
        assert session.close_code is None and session.connected.is_set()
        assert session.changes_lost == [] and not session.errors
        # Several patches, each answered (halved once: 4 streams, then 3).
        assert _answers(session) - answers == 2
        # Every stream arrived: the last one's rows are the server's column.
        np.testing.assert_array_equal(_column(session), np.full(ROWS, float(STREAMS)))
        np.testing.assert_array_equal(await _server_column(config), _column(session))
    finally:
        await session.close()


async def test_one_change_over_the_limits_is_refused_here_and_undone(site: Site) -> None:
    config = site.browser().page_config("streamed")
    session = await open_client(config)
    try:
        source = session.document.get_model_by_name("source")
        text = session.document.get_model_by_name("input")
        source.stream({"x": np.arange(10.0)}, rollover=ROWS)  # type: ignore[union-attr]
        await session.sync()
        rows = MAX_FRAME_BYTES // 8 + 1_000  # one buffer frame over MAX_FRAME_BYTES
        source.stream({"x": np.ones(rows)}, rollover=rows)  # type: ignore[union-attr]
        assert len(_column(session)) == rows  # here, until the pull
        with pytest.raises(ChangeTooLargeError) as raised:
            await session.sync()
        limit = f"frame too large: {rows * 8} > {MAX_FRAME_BYTES} bytes"
        assert str(raised.value) == f"change to source.data not sent: {limit}"
        assert [(e.reason, e.changes, e.count) for e in raised.value.lost] == [("too-large", ("source.data",), 1)]
        assert session.changes_lost == raised.value.lost
        # The same connection, and the server's document again.
        assert session.close_code is None and session.connected.is_set() and not session.errors
        np.testing.assert_array_equal(_column(session), np.arange(10.0))
        np.testing.assert_array_equal(await _server_column(config), np.arange(10.0))
        # The pull kept the models held since before it: later changes made on them
        # still sync, and raise nothing.
        assert session.document.get_model_by_name("source") is source
        assert session.document.get_model_by_name("input") is text
        text.value = "within the limits"  # type: ignore[union-attr]
        source.stream({"x": np.array([10.0])}, rollover=ROWS)  # type: ignore[union-attr]
        await session.sync()
        np.testing.assert_array_equal(await _server_column(config), np.arange(11.0))
        assert await _server_column(config, "input") == "within the limits"
        assert session.close_code is None and len(session.changes_lost) == 1
    finally:
        await session.close()


async def test_a_request_of_ones_own_over_the_limits_raises_and_sends_nothing(site: Site) -> None:
    # docs/howto/testing.md: session.request(push_doc(...)) over the limits raises
    # MessageTooBigError and sends nothing: the connection stays open and answers.
    session = await open_client(site.browser().page_config("streamed"))
    try:
        received = len(session.received)
        title = "x" * MAX_FRAME_BYTES
        with pytest.raises(
            MessageTooBigError, match=rf"^PUSH-DOC not sent: frame too large: \d+ > {MAX_FRAME_BYTES} bytes$"
        ):
            await session.request(push_doc({"title": title, "roots": [], "version": "3"}))
        assert len(session.received) == received and session.close_code is None and session.connected.is_set()
        assert "version_info" in await session.request_server_info()
        assert session.errors == []
    finally:
        await session.close()
