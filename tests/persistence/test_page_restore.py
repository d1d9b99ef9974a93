"""A page naming a session only the store holds restores it, for whom could join it before: logged-in users.

daphne with SQLite, killed (SIGKILL) and started again; docsync's Python client takes
the token the page gives and pulls the session. Anonymous visitors and the Bokeh
dialect: tests/e2e/test_persistence.py and tests/persistence/test_bokeh_sessions.py.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import urllib.parse
import urllib.request

import pytest

from docsync.client import ClientSession, fetch_page_config
from docsync.document.models import Div, Slider

from .apps import Notes  # the board's document holds them: the client knows the type once imported
from .conftest import Site

USERS = (("ann", "ann-secret-pw"), ("bob", "bob-secret-pw"))


class LoggedIn:
    """One user's browser: logged in through the admin's login form, its cookies sent with every page and socket."""

    def __init__(self, site: Site, name: str, password: str) -> None:
        self.site = site
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.opener.open(site.url + "admin/login/", timeout=30).read()
        body = urllib.parse.urlencode(
            {"username": name, "password": password, "csrfmiddlewaretoken": self._cookie("csrftoken")}
        ).encode()
        request = urllib.request.Request(
            site.url + "admin/login/?next=/admin/", data=body, headers={"Referer": site.url + "admin/login/"}
        )
        self.opener.open(request, timeout=30).read()
        assert self._cookie("sessionid"), f"{name} not logged in"

    def _cookie(self, name: str) -> str:
        return next(c.value for c in self.jar if c.name == name)

    def headers(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{c.name}={c.value}" for c in self.jar)}

    async def open(self, app: str, query: str = "") -> ClientSession:
        """The app's page (its configuration: session id and token), then its session, pulled."""
        config = await asyncio.to_thread(fetch_page_config, f"{self.site.url}{app}/{query}", headers=self.headers())
        client = ClientSession(config, headers=self.headers())
        await asyncio.wait_for(client.connect(), 30)
        return client


def _slider(client: ClientSession) -> Slider:
    return next(m for m in client.document.models.values() if isinstance(m, Slider))


def _echo(client: ClientSession) -> str:
    echo = client.document.get_model_by_name("echo")
    assert isinstance(echo, Div)
    return str(echo.text)


@pytest.fixture
def users_site(site: Site) -> Site:
    """The daphne site with two staff users (the admin's login form logs them in)."""
    script = "from django.contrib.auth import get_user_model\nUser = get_user_model()\n" + "".join(
        f"User.objects.create_user({name!r}, password={password!r}, is_staff=True)\n" for name, password in USERS
    )
    site.manage("shell", "-c", script)
    return site.start()


@pytest.mark.parametrize(("app", "joined"), [("board", False), ("board_shareable", True)])
def test_a_page_naming_a_killed_users_session_restores_it_for_whom_could_join_it_before(
    users_site: Site, app: str, joined: bool
) -> None:
    """Its own user's page gets it back; another user's too where the app is shareable, else a new session."""
    site = users_site
    ann, bob = (LoggedIn(site, *user) for user in USERS)

    async def before() -> str:
        client = await ann.open(app)
        assert isinstance(client.document.get_model_by_name("notes"), Notes)
        _slider(client).value = 7
        await client.sync(10)
        await client.wait_for(lambda: _echo(client).startswith("value=7 "), 10)
        await client.close()
        # Before the kill: bob joins it only where the app is shareable.
        theirs = await bob.open(app, f"?session_id={client.id}")
        assert (theirs.id == client.id) is joined
        await theirs.close()
        return client.id

    session_id = asyncio.run(before())
    site.server.kill()  # kill -9: no process holds the session, the store does
    site.start()

    async def after() -> None:
        theirs = await bob.open(app, f"?session_id={session_id}")  # bob first: it is restored for him, or not
        assert (theirs.id == session_id) is joined
        assert _slider(theirs).value == (7 if joined else 0)
        mine = await ann.open(app, f"?session_id={session_id}")
        assert mine.id == session_id
        assert _slider(mine).value == 7
        _slider(mine).value = 8  # the restored session's callbacks run
        await mine.sync(10)
        await mine.wait_for(lambda: _echo(mine).startswith("value=8 "), 10)
        await mine.close()
        await theirs.close()

    asyncio.run(after())
    assert "refused" not in site.log()
