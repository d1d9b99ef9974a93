"""A page served by any process of a cluster joins a live session by ``?session_id=`` as its own process's would.

protocol.md §4: ``?session_id=<id>`` joins the session if the server holds it and it
belongs to the same user (or visitor), else the page gets a new session. Behind a load
balancer without sticky sessions the page may land on a process that does not hold the
session: it used to hand out a new session there (found by a client written from
protocol.md alone).
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import time
import urllib.request
from typing import Any

import pytest

from docsync.protocol import ACK
from docsync.testing import RawSocket

from .conftest import AdminBrowser, Cluster, run

pytestmark = pytest.mark.cluster


class Browser:
    """A browser's cookie jar: its ``docsync_visitor`` cookie, or a login's session cookie."""

    def __init__(self, opener: Any = None, jar: http.cookiejar.CookieJar | None = None) -> None:
        self.jar = jar if jar is not None else http.cookiejar.CookieJar()
        self.opener = opener or urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def config(self, cluster: Cluster, index: int, query: str = "") -> dict[str, Any]:
        """The page configuration of app ``counted`` served by process ``index``."""
        with self.opener.open(cluster.servers[index].url + f"counted/{query}", timeout=30) as response:
            page = response.read().decode()
        found = re.search(r'<script id="docsync-config" type="application/json">(.*?)</script>', page, re.S)
        assert found is not None
        return dict(json.loads(found.group(1)))

    def cookie_header(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{c.name}={c.value}" for c in self.jar)}


async def _opens(cluster: Cluster, index: int, config: dict[str, Any], browser: Browser) -> bool:
    """Whether a websocket to process ``index`` with the page's token is accepted (its first message an ACK)."""
    sock = await RawSocket.connect(cluster.ws_url("counted", index), config["token"], headers=browser.cookie_header())
    try:
        return (await sock.read_message()).msgtype == ACK
    finally:
        await sock.close()


def test_a_page_on_another_process_joins_its_visitors_live_session(pair: Cluster) -> None:
    visitor, stranger = Browser(), Browser()
    first = visitor.config(pair, 0)
    session_id = first["sessionId"]

    async def scenario() -> None:
        held = await RawSocket.connect(pair.ws_url("counted", 0), first["token"])  # process 0 makes the session
        try:
            assert (await held.read_message()).msgtype == ACK
            again = visitor.config(pair, 1, f"?session_id={session_id}")
            assert again["sessionId"] == session_id  # was a new session: process 1 does not hold it
            assert await _opens(pair, 1, again, visitor)  # relayed to process 0, into the same session
            assert stranger.config(pair, 0, "?session_id=x")["sessionId"] != "x"  # the stranger has its cookie now
            assert stranger.config(pair, 1, f"?session_id={session_id}")["sessionId"] != session_id
        finally:
            await held.close()

    run(scenario())


def test_a_page_on_another_process_joins_its_users_live_session(pair: Cluster) -> None:
    admin = AdminBrowser(pair.servers[0].url)
    admin.login()
    user = Browser(admin.opener, admin.jar)
    first = user.config(pair, 0)
    session_id = first["sessionId"]
    anonymous = Browser()

    async def scenario() -> None:
        held = await RawSocket.connect(pair.ws_url("counted", 0), first["token"], headers=user.cookie_header())
        try:
            assert (await held.read_message()).msgtype == ACK
            again = user.config(pair, 1, f"?session_id={session_id}")
            assert again["sessionId"] == session_id
            assert await _opens(pair, 1, again, user)
            assert anonymous.config(pair, 1, f"?session_id={session_id}")["sessionId"] != session_id
        finally:
            await held.close()

    run(scenario())


def test_a_page_naming_an_ended_session_gets_a_new_one_on_any_process(pair: Cluster) -> None:
    """As from one process alone: the session ended (the admin's "expire now"), so no page joins its id.

    The directory kept its holder as long as its claim (minutes): a page on either process
    got the ended id back, and its websocket made a new session under it.
    """
    visitor = Browser()
    first = visitor.config(pair, 0)
    session_id = first["sessionId"]
    admin = AdminBrowser(pair.servers[0].url)
    admin.login()

    async def scenario() -> None:
        held = await RawSocket.connect(pair.ws_url("counted", 0), first["token"])  # process 0 makes the session
        try:
            assert (await held.read_message()).msgtype == ACK
            assert visitor.config(pair, 1, f"?session_id={session_id}")["sessionId"] == session_id  # live: joined
            deadline = time.monotonic() + 30  # the admin's list is written every ADMIN_REFRESH
            while session_id[:8] not in " ".join(row[0] for row in admin.session_rows()):
                assert time.monotonic() < deadline, "the session never reached the admin's list"
                time.sleep(0.2)
            admin.post(
                "admin/docsync/livesession/", {"action": "expire_now", "_selected_action": session_id, "index": "0"}
            )
            assert (await held.until_closed()).code == 4001
        finally:
            await held.close()
        for index in (1, 0):
            assert visitor.config(pair, index, f"?session_id={session_id}")["sessionId"] != session_id, index

    run(scenario())
