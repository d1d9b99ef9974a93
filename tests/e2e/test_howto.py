"""The how-to guides' examples (docs/howto/code/), run: a real daphne serving the example site, Chromium, Redis.

Every file the guides show is one of these; each guide's claims are checked here:
embedding (template tag, another site's origin), access rules, shared sessions,
streaming with rollover, uploads, deploy checks, scale-out across two processes over a
private redis-server, and the guide's own example test.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.sync_api import BrowserContext

from docsync.client import ClientSession, fetch_page_config
from docsync.testing import RedisServer, ServerProcess

from .browser import open_app, wait_for
from .conftest import ROOT

CODE = ROOT / "docs" / "howto" / "code"
T = TypeVar("T")

# Users of the access guide, and a logged-in Django session for each (its session key).
_USERS = """
import json
import django
django.setup()
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import Group, User
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import call_command
call_command("migrate", verbosity=0, interactive=False)
beta = Group.objects.create(name="beta")
keys = {}
for name, staff, groups in [("sam", True, []), ("bea", False, [beta]), ("bob", False, [])]:
    user = User.objects.create_user(name, password="pw-" + name, is_staff=staff)
    user.groups.set(groups)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    keys[name] = session.session_key
print(json.dumps(keys))
"""


def _env(settings: str, database: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DOCSYNC_"))}
    env.update(DJANGO_SETTINGS_MODULE=settings, HOWTO_DB=str(database), PYTHONPATH=f"{CODE}{os.pathsep}{ROOT}")
    return {**env, **extra}


class Site:
    """The example site's server, and the session cookies of its users."""

    def __init__(self, server: ServerProcess, sessions: dict[str, str]) -> None:
        self.server = server
        self.sessions = sessions

    @property
    def url(self) -> str:
        return self.server.url

    def status(self, path: str, user: str | None = None) -> tuple[int, str]:
        """GET ``path`` as ``user`` (None: anonymous), following no redirect; return (status, Location)."""

        class _Stop(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: Any, **kwargs: Any) -> None:
                return None

        headers = {"Cookie": f"sessionid={self.sessions[user]}"} if user else {}
        opener = urllib.request.build_opener(_Stop())
        try:
            with opener.open(urllib.request.Request(self.url + path, headers=headers), timeout=30) as answer:
                return answer.status, ""
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers.get("Location", "")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    work = tmp_path_factory.mktemp("howto")
    env = _env("howto_site.settings", work / "db.sqlite3")
    made = subprocess.run([sys.executable, "-c", _USERS], env=env, capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    sessions = json.loads(made.stdout.strip().splitlines()[-1])
    server = ServerProcess("howto_site.asgi:application", cwd=CODE, log_path=work / "daphne.log")
    server.env = env
    server.start()
    try:
        yield Site(server, sessions)
    finally:
        server.stop()


def _run(make: Callable[[], Awaitable[T]]) -> T:
    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # Playwright may own this thread's loop
        return pool.submit(lambda: asyncio.run(make())).result(timeout=120)  # type: ignore[arg-type, return-value]


async def _open(page_url: str, headers: dict[str, str] | None = None) -> ClientSession:
    """Open a session of the page as a browser with these headers (a session cookie) would."""
    config = await asyncio.to_thread(fetch_page_config, page_url, headers=headers)
    session = ClientSession(config, headers=headers)
    await asyncio.wait_for(session.connect(), 15)
    return session


async def _until(predicate: Callable[[], bool], what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        await asyncio.sleep(0.05)


def _named(session: ClientSession, name: str) -> Any:
    [model] = [m for m in session.document.models.values() if m.name == name]
    return model


def test_embedding_with_the_template_tag(site: Site, context: BrowserContext) -> None:
    page = context.new_page()
    page.goto(site.url + "report/?region=west")
    assert page.inner_text("h1") == "Sales report: west"
    wait_for(lambda: "Figures for west" in page.inner_text("body"), 15, "the embedded app's greeting")


def test_embedding_from_another_site_needs_its_origin(site: Site) -> None:
    status, _ = site.status("dash/greeting/autoload.js?target=here")
    assert status == 200

    async def connect(origin: str) -> tuple[str | None, int | None]:
        session = ClientSession(await asyncio.to_thread(fetch_page_config, site.url + "dash/greeting/"), origin=origin)
        try:
            await asyncio.wait_for(session.connect(), 15)
            return _named(session, "greeting").text, None
        except Exception:  # refused at the handshake or closed after it
            return None, session.close_code
        finally:
            await session.close()

    allowed, _ = _run(lambda: connect("https://blog.example.com"))
    assert allowed == "Figures for everywhere"
    refused, _ = _run(lambda: connect("https://elsewhere.example.com"))
    assert refused is None


def test_access_rules(site: Site) -> None:
    status, location = site.status("dash/staff_report/")
    assert status == 302 and location.startswith("/admin/login/?next=/dash/staff_report/")
    assert site.status("dash/staff_report/", "bob")[0] == 403
    assert site.status("dash/staff_report/", "sam")[0] == 200
    assert site.status("dash/beta/", "bob")[0] == 403
    assert site.status("dash/beta/", "bea")[0] == 200


def test_a_shared_session_per_room(site: Site) -> None:
    async def scenario() -> tuple[str, str, str]:
        ann = await _open(
            site.url + "dash/whiteboard/?room=team", headers={"Cookie": f"sessionid={site.sessions['sam']}"}
        )
        ben = await _open(
            site.url + "dash/whiteboard/?room=team", headers={"Cookie": f"sessionid={site.sessions['bea']}"}
        )
        other = await _open(site.url + "dash/whiteboard/?room=elsewhere")
        try:
            assert ann.id == ben.id != other.id
            _named(ann, "notes").value = "agenda: docs"
            await ann.sync(timeout=10)
            await _until(lambda: "last edit" in _named(ben, "present").text, "ben to see the edit")
            return _named(ben, "notes").value, _named(ben, "present").text, _named(other, "notes").value
        finally:
            for session in (ann, ben, other):
                await session.close()

    seen, present, elsewhere = _run(scenario)
    assert seen == "agenda: docs"
    assert present == "2 connected; last edit by sam"
    assert elsewhere == ""


def test_streaming_rolls_over(site: Site) -> None:
    async def scenario() -> list[int]:
        session = await _open(site.url + "dash/ticker/")
        lengths = []
        try:
            source = _named(session, "prices")

            def far() -> bool:
                lengths.append(len(source.data["t"]))
                return len(source.data["t"]) > 0 and source.data["t"][-1] >= 300

            await _until(far, "300 points streamed", timeout=30)
            assert source.data["t"][0] == source.data["t"][-1] - 199  # the last 200, in order
            return lengths
        finally:
            await session.close()

    lengths = _run(scenario)
    assert max(lengths) == 200 and lengths[-1] == 200


def test_uploads(site: Site, context: BrowserContext) -> None:
    page = open_app(context, site.url + "dash/csv_rows/")
    files = [
        {"name": "a.csv", "mimeType": "text/csv", "buffer": b"x,y\n1,2\n3,4\n"},
        {"name": "b.csv", "mimeType": "text/csv", "buffer": b"only\n"},
    ]
    page.locator("input[type=file]").set_input_files(files)  # type: ignore[arg-type]
    wait_for(lambda: "a.csv: 3 rows; b.csv: 1 rows" in page.inner_text("body"), 20, "the rows counted in Python")
    assert page.errors == []  # type: ignore[attr-defined]


def test_the_deploy_settings_pass_every_deploy_check(tmp_path: Path) -> None:
    env = _env("howto_site.settings_deploy", tmp_path / "db.sqlite3", DJANGO_SECRET_KEY="k" * 20 + "-howto-" + "q" * 40)
    command = [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"]
    done = subprocess.run(command, cwd=CODE, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    # and the base settings, with DEBUG on, are what the deploy checks are for
    env = _env("howto_site.settings", tmp_path / "db.sqlite3")
    done = subprocess.run(command, cwd=CODE, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "security.W018" in done.stdout + done.stderr


def test_scale_out_over_redis(tmp_path: Path) -> None:
    with RedisServer() as redis:
        env = _env("howto_site.settings_cluster", tmp_path / "db.sqlite3", REDIS_URL=redis.url)
        migrated = subprocess.run(
            [sys.executable, "-m", "django", "migrate"], env=env, capture_output=True, timeout=120
        )
        assert migrated.returncode == 0, migrated.stderr
        first = ServerProcess("howto_site.asgi:application", cwd=CODE, log_path=tmp_path / "first.log")
        second = ServerProcess("howto_site.asgi:application", cwd=CODE, log_path=tmp_path / "second.log")
        first.env = second.env = env
        with first, second:

            async def scenario() -> str:
                here = await _open(first.url + "dash/whiteboard/?room=ops")
                # The same page, its websocket landing on the other process: relayed to the owner.
                config = await asyncio.to_thread(fetch_page_config, first.url + "dash/whiteboard/?room=ops")
                config["wsUrl"] = config["wsUrl"].replace(str(first.port), str(second.port))
                assert str(second.port) in config["wsUrl"]
                there = ClientSession(config)
                await asyncio.wait_for(there.connect(), 15)
                try:
                    _named(there, "notes").value = "from the second process"
                    await there.sync(timeout=10)
                    await _until(lambda: _named(here, "notes").value == "from the second process", "the relay")
                    return str(_named(here, "notes").value)
                finally:
                    await there.close()
                    await here.close()

            assert _run(scenario) == "from the second process"


def test_the_testing_guides_example_passes(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DOCSYNC_"))}
    env["PYTHONPATH"] = str(ROOT)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path)]
    done = subprocess.run(
        [*command, str(CODE / "test_greeting.py")], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0 and "1 passed" in done.stdout, done.stdout + done.stderr
