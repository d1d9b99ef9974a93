"""A Bokeh app's access rule holds for its page, autoload.js and websocket (docs/howto/access.md, docs/bokeh.md).

Against the shared Bokeh site's staff-only directory app: anonymous visitors are sent to
the login page, a signed-in user the rule refuses gets 403 (autoload.js: a script saying
``// access denied``), and the websocket checks the rule again with the user of its
session cookie: a staff user's page token, once that user is staff no more, is refused
with ERROR ``access denied`` and close 1008.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import Iterator

import pytest
import websockets

from docsync.protocol import ACK, ERROR
from docsync.testing import RawSocket

from .harness import Browser, Site

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")

APP = "bk_lifecycle_staff"
POLICY = 1008


def _set_staff(site: Site, username: str, staff: bool) -> None:
    with contextlib.closing(sqlite3.connect(site.db, timeout=20)) as db, db:
        db.execute("UPDATE auth_user SET is_staff = ? WHERE username = ?", (int(staff), username))


@pytest.fixture
def viewer(shared_bokeh_site: Site) -> Iterator[Browser]:
    """A staff user's browser; the user is staff again afterwards, whatever the test did."""
    try:
        yield shared_bokeh_site.browser("viewer")
    finally:
        _set_staff(shared_bokeh_site, "viewer", True)


async def _socket(site: Site, browser: Browser, token: str) -> RawSocket:
    url = f"ws://{site.host}/{APP}/ws"
    return RawSocket(
        await websockets.connect(url, subprotocols=["bokeh", token], additional_headers=browser.cookie_header())  # type: ignore[list-item]
    )


def test_the_page_and_autoload_follow_the_rule(shared_bokeh_site: Site) -> None:
    anonymous, alice = shared_bokeh_site.browser(), shared_bokeh_site.browser("alice")
    page = anonymous.get(f"{APP}/")
    assert page.status == 302 and page.location.endswith(f"/login/?next=/{APP}/")  # the site's LOGIN_URL
    assert alice.get(f"{APP}/").status == 403
    for browser in (anonymous, alice):
        script = browser.get(f"{APP}/autoload.js?target=here")
        assert script.status == 403 and script.body == "// access denied"


@pytest.mark.asyncio
async def test_the_websocket_checks_the_rule_again(shared_bokeh_site: Site, viewer: Browser) -> None:
    page = viewer.get(f"{APP}/")
    assert page.status == 200
    found = re.search(r'"token":\s*"([^"]+)"', page.body)
    assert found, "no Bokeh token in the page"
    token = found.group(1)
    accepted = await _socket(shared_bokeh_site, viewer, token)
    try:
        assert (await accepted.read_message()).msgtype == ACK
    finally:
        await accepted.close()
    _set_staff(shared_bokeh_site, "viewer", False)  # no longer staff: the page's token is not enough
    refused = await _socket(shared_bokeh_site, viewer, token)
    closed = await refused.until_closed()
    assert closed.code == POLICY
    assert [m.msgtype for m in closed.messages] == [ERROR] and refused.errors() == ["access denied"]
