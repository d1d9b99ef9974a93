"""The bench_sized example app: its document has the points and widgets its page asked for, within caps."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest

from docsync.client import fetch_page_config
from docsync.exceptions import ApplicationError
from docsync.protocol import ERROR
from docsync.testing import RawSocket
from project.examples.bench_sized import MAX_POINTS, MAX_WIDGETS, size_argument

from .clients import ServerUnderTest, open_session


def test_size_arguments_are_integers_within_their_range() -> None:
    assert size_argument({}, "points", 1000, 1, MAX_POINTS) == 1000
    assert size_argument({"points": ["7", str(MAX_POINTS)]}, "points", 1000, 1, MAX_POINTS) == MAX_POINTS
    assert size_argument({"widgets": ["0"]}, "widgets", 5, 0, MAX_WIDGETS) == 0
    for bad in ("0", str(MAX_POINTS + 1), "-3", "1e6", "many", ""):
        with pytest.raises(ValueError, match=r"^points must be an integer from 1 to 1,000,000, got "):
            size_argument({"points": [bad]}, "points", 1000, 1, MAX_POINTS)
    with pytest.raises(ValueError, match=r"widgets must be an integer from 0 to 10,000, got '10001'"):
        size_argument({"widgets": ["10001"]}, "widgets", 0, 0, MAX_WIDGETS)
    with pytest.raises(ValueError) as raised:  # a long argument is shown cut, not whole
        size_argument({"points": ["9" * 500]}, "points", 1000, 1, MAX_POINTS)
    assert len(str(raised.value)) < 120


async def _page_config(server: ServerUnderTest, query: str) -> dict[str, Any]:
    """The client configuration of the page ``bench_sized/{query}``: its token carries the query's arguments."""
    return await asyncio.to_thread(fetch_page_config, f"{server.url}bench_sized/{query}")


async def _pull(server: ServerUnderTest, query: str) -> Any:
    """The document of a new session of ``bench_sized/{query}``, as the client pulled it."""
    config = await _page_config(server, query)
    session = await open_session(config)
    try:
        return session.document
    finally:
        await session.close()


@pytest.mark.asyncio
async def test_the_document_has_the_points_and_widgets_asked_for(server: ServerUnderTest) -> None:
    document = await _pull(server, "?points=5000&widgets=31")
    source = document.get_model_by_name("source")
    assert len(source.data["x"]) == len(source.data["y"]) == 5000
    np.testing.assert_allclose(source.data["x"], np.linspace(0, 10, 5000))
    widgets = document.get_model_by_name("widgets")
    assert len(widgets.children) == 31
    kinds = [type(child).__name__ for child in widgets.children]
    assert kinds[:3] == ["Slider", "TextInput", "Div"] and kinds.count("Slider") == 11
    # The bench document's models (Column, Slider, source, its Selection...) and the 31 widgets and their Column.
    # Without arguments: the bench document (1,000 points), no widgets.
    plain = await _pull(server, "")
    assert len(plain.get_model_by_name("source").data["x"]) == 1000
    assert plain.get_model_by_name("widgets") is None
    assert len(document.models) == len(plain.models) + 31 + 1


async def _refused(server: ServerUnderTest, query: str) -> tuple[int | None, list[str]]:
    config = await _page_config(server, query)
    socket = await RawSocket.connect(f"{server.ws_base}bench_sized/ws", config["token"])
    code, messages = await socket.until_closed()
    assert [m.msgtype for m in messages] == [ERROR]
    return code, [str(m.content["text"]) for m in messages]


@pytest.mark.asyncio
async def test_absurd_sizes_fail_the_session_with_a_clear_error_and_harm_nothing(server: ServerUnderTest) -> None:
    code, texts = await _refused(server, "?points=100000000")
    assert code == ApplicationError.close_code
    assert texts == ["application error: ValueError: points must be an integer from 1 to 1,000,000, got '100000000'"]
    code, texts = await _refused(server, "?points=10&widgets=lots")
    assert code == ApplicationError.close_code
    assert texts == ["application error: ValueError: widgets must be an integer from 0 to 10,000, got 'lots'"]
    # The app and the server keep serving sizes within the caps.
    document = await _pull(server, "?points=3&widgets=2")
    assert len(document.get_model_by_name("source").data["y"]) == 3
    assert len(document.get_model_by_name("widgets").children) == 2
