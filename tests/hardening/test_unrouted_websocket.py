"""A websocket to a path no route serves is refused quietly: 403, one log line, no traceback.

Channels' URLRouter raises for such a path before anything is sent; behind docsync's
WebsocketAuthMiddleware (the site's asgi.py) daphne answered the handshake with 500 and
logged a traceback of 15 lines for every attempt, so that anyone could fill the server's
error log with handshakes to ``/anything``.
"""

from __future__ import annotations

import pytest
import websockets

from .harness import ServerLog, Site

pytestmark = pytest.mark.asyncio


@pytest.mark.parametrize("path", ["/limits/ws/../ws", "/limits/", "/", "/%ff/ws", "/a.b/ws"])
async def test_an_unrouted_websocket_is_refused_without_a_traceback(site: Site, path: str) -> None:
    log = ServerLog(site.log_path())
    url = f"ws://{site.host}{path}"
    with pytest.raises(websockets.InvalidStatus) as refused:
        await websockets.connect(url, subprotocols=["docsync", "x"])  # type: ignore[list-item]
    assert refused.value.response.status_code == 403
    # The refusal is logged once, as a warning naming the path; nothing else is.
    config = site.browser().page_config("limits")  # the server still serves (and logs up to here)
    assert config["app"] == "limits"
    assert log.lines(b"websocket refused: no route for") != []
    assert log.lines(b"Traceback") == [] and log.lines(b"Exception inside application") == []
