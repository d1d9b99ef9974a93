"""docs/bokeh.md, *The wire*: what a client speaking Bokeh's protocol to a docsync server is answered.

Against a real daphne serving a Bokeh app, over raw websockets with Bokeh's subprotocol:
no token (ERROR naming the subprotocols, close 1008), SERVER-INFO-REQ (Bokeh's version and
docsync's), docsync's own RESUME-REQ (ERROR ``bad-request``, the connection goes on), and a
type neither protocol has (close 1002).
"""

from __future__ import annotations

import json

import bokeh
import pytest
import websockets

import docsync
from docsync.protocol import ERROR, new_message
from docsync.testing import RawSocket

from .bokeh_tabs import Session
from .harness import Site

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")
pytestmark = pytest.mark.asyncio

APP = "bk_sliders"


async def _connect(url: str, subprotocols: list[str]) -> RawSocket:
    return RawSocket(await websockets.connect(url, subprotocols=subprotocols, max_size=None))  # type: ignore[arg-type]


async def test_a_websocket_without_a_token_is_told_how_and_closed_1008(shared_stock_bokeh_site: Site) -> None:
    socket = await _connect(f"ws://{shared_stock_bokeh_site.host}/{APP}/ws", ["bokeh"])
    closed = await socket.until_closed()
    assert closed.code == 1008
    assert [m.msgtype for m in closed.messages] == [ERROR]
    assert socket.errors() == ["missing token: use subprotocols ['bokeh', <token>]"]


async def test_server_info_resume_and_an_unknown_type(shared_stock_bokeh_site: Site) -> None:
    session = Session(shared_stock_bokeh_site, APP)
    tab = await session.tab()  # past its ACK
    try:
        info = await tab.request(new_message("SERVER-INFO-REQ", {}))
        assert info.msgtype == "SERVER-INFO-REPLY"
        assert info.content == {
            "version_info": {"bokeh": bokeh.__version__, "server": f"docsync {docsync.__version__}"}
        }
        resume = await tab.request(new_message("RESUME-REQ", {"session_id": "x", "last_seq": 0}))
        assert resume.msgtype == ERROR
        assert resume.content == {"text": "unexpected message type 'RESUME-REQ'", "code": "bad-request"}
        assert (await tab.document())["roots"], "the connection goes on"
        header = {"msgid": "99", "msgtype": "NO-SUCH-TYPE"}
        await tab.send_frames(json.dumps(header), "{}", "{}")
        closed = await tab.until_closed()
        assert closed.code == 1002
    finally:
        await tab.close()
