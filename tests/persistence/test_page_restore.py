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
from tests.sites import migrated_sqlite

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

    async def open(self, app: str, query: str = "", **more: str) -> ClientSession:
        """The app's page (its configuration: session id and token), then its session, pulled.

        ``more``: headers its page request sends besides its cookies (``Cookie``: appended to them).
        """
        headers = self.headers()
        cookies = more.pop("Cookie", None)
        if cookies:
            headers["Cookie"] += f"; {cookies}"
        headers |= more
        config = await asyncio.to_thread(fetch_page_config, f"{self.site.url}{app}/{query}", headers=headers)
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
    # A copy of the run's database made with them (once), not a Django process per site.
    migrated_sqlite(site.db, site.env["DJANGO_SETTINGS_MODULE"], script)
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


def test_a_session_restored_by_a_page_with_other_arguments_runs_the_app_with_those_it_was_made_with(
    users_site: Site,
) -> None:
    """The app builds from its query arguments, headers and cookies: a restore's build is the original one."""
    site = users_site
    ann = LoggedIn(site, *USERS[0])
    made = "arguments=[('colour', ['red']), ('rows', ['2'])] team=blue flavour=mint"

    async def before() -> str:
        client = await ann.open("board_arguments", "?rows=2&colour=red", **{"X-Team": "blue", "Cookie": "flavour=mint"})
        _slider(client).value = 3
        await client.sync(10)
        await client.wait_for(lambda: _echo(client) == f"value=3 {made}", 10)
        await client.close()
        return client.id

    session_id = asyncio.run(before())
    site.server.kill()  # kill -9: only the store holds it
    site.start()

    async def after(query: str, **headers: str) -> None:
        client = await ann.open("board_arguments", query, **headers)
        assert client.id == session_id
        assert _echo(client) == f"value={_slider(client).value:g} {made}"  # the document, as saved
        _slider(client).value = _slider(client).value + 1  # the callback the restore's build wired
        await client.sync(10)
        await client.wait_for(lambda: _echo(client).startswith(f"value={_slider(client).value:g} "), 10)
        assert _echo(client) == f"value={_slider(client).value:g} {made}"
        await client.close()

    # Restored by a page with other arguments, header and cookie (its own are not the session's).
    asyncio.run(after(f"?session_id={session_id}&rows=5&colour=green", **{"X-Team": "red", "Cookie": "flavour=salt"}))
    site.server.kill()
    site.start()
    asyncio.run(after(f"?session_id={session_id}"))  # and by one with none: saved again, with the same
    assert "refused" not in site.log()
