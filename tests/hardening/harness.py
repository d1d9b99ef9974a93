"""Real servers, logged-in browsers and raw websockets for the hardening and admin tests.

Nothing here sets up Django in the test process: every server is a daphne process on a
free port (``tests.hardening.settings``), stopped by its own pid; each has its own copy
of a migrated SQLite database with the test users. Tokens the pages would not issue
(to users an access rule refuses) are signed here with the servers' secret key.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import http.cookiejar
import json
import re
import shutil
import sqlite3
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import websockets
from django.core import signing

from docsync.client import ClientSession
from docsync.document.registry import model_class
from docsync.protocol import ACK, ERROR, PULL_DOC_REPLY, Message, new_message, pull_doc_req
from docsync.serialization import Encoder
from docsync.testing import EVENT_WAIT, RawSocket, SiteUnderTest
from tests.sites import migrated_sqlite

ROOT = Path(__file__).resolve().parents[2]
SERVERS = ("daphne", "uvicorn")
SETTINGS = "tests.hardening.settings"
SECRET_KEY = "docsync-hardening-tests-not-a-real-secret-0123456789abcdef"
PASSWORD = "hardening-pw-1"
TOKEN_SALT = "docsync.session-token"  # docsync.server.admission.tokens signs with this salt

#: username -> (is_staff, permissions "app_label.codename")
USERS: dict[str, tuple[bool, list[str]]] = {
    "alice": (False, ["auth.view_group"]),
    "bob": (False, []),
    "staffer": (True, []),
    "viewer": (True, ["docsync.view_livesession"]),
    "operator": (True, ["docsync.view_livesession", "docsync.change_livesession"]),
}

# Run on the migrated template (tests/sites.py), with USERS and PASSWORD set before it.
_CREATE_USERS = """
import json
from django.contrib.auth.models import Permission, User
ids = {}
for name, (staff, perms) in USERS.items():
    user = User.objects.create_user(name, f"{name}@example.com", PASSWORD, is_staff=staff)
    for perm in perms:
        label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=label, codename=codename))
    ids[name] = user.pk
print(json.dumps(ids))
"""


def base_env(**extra: str) -> dict[str, str]:
    """The environment every test server and management command runs with."""
    return {
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "DJANGO_SECRET_KEY": SECRET_KEY,
        "DJANGO_DEBUG": "0",
        "DOCSYNC_LOG_LEVEL": "WARNING",
        **extra,
    }


@dataclass
class Database:
    """A migrated SQLite file with the test users, copied for each server."""

    path: Path
    user_ids: dict[str, int]

    @classmethod
    def create(cls, folder: Path) -> Database:
        path = folder / "template.sqlite3"
        # A copy of the run's template (made once for all pytest-xdist workers), users added.
        printed = migrated_sqlite(path, SETTINGS, f"USERS, PASSWORD = {USERS!r}, {PASSWORD!r}\n{_CREATE_USERS}")
        return cls(path, json.loads(printed.strip().splitlines()[-1]))

    def copy_to(self, target: Path) -> Path:
        shutil.copyfile(self.path, target)
        return target


class Site(SiteUnderTest):
    """One daphne (or ``server``) process serving the test settings, with its own copy of the database."""

    def __init__(
        self,
        folder: Path,
        database: Database,
        *,
        debug: bool = False,
        server: str = "daphne",
        asgi_app: str = "project.asgi:application",
        **env: str,
    ) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.db = database.copy_to(folder / "db.sqlite3")
        self.user_ids = database.user_ids
        self.metrics_token = env.get("DOCSYNC_METRICS_TOKEN")
        super().__init__(
            folder,
            servers=(server,),
            cwd=ROOT,
            asgi_app=asgi_app,
            env=base_env(
                **{
                    "DOCSYNC_SQLITE": str(self.db),
                    "DJANGO_DEBUG": "1" if debug else "0",
                    "DOCSYNC_ADMIN_REFRESH": "0.3",
                    "DOCSYNC_CHECK_UNUSED_SESSIONS": "0.2",
                    **env,
                }
            ),
        )

    @property
    def alive(self) -> bool:
        return self.server.process is not None and self.server.process.poll() is None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server.port}"

    def browser(self, username: str | None = None) -> Browser:
        """A browser on this site, logged in as ``username`` when one is given."""
        browser = Browser(self.url)
        if username is not None:
            browser.login(username)
        return browser

    def live_rows(self, app: str | None = None) -> list[dict[str, Any]]:
        """The rows of the live-session table, read straight from the database file."""
        with contextlib.closing(sqlite3.connect(self.db, timeout=20)) as db:
            db.row_factory = sqlite3.Row
            query = "SELECT * FROM docsync_livesession"
            rows = db.execute(query + " WHERE app = ?", (app,)) if app else db.execute(query)
            return [dict(row) for row in rows]

    def metrics(self) -> dict[str, float]:
        """The server's ``/docsync-metrics`` figures by sample (``docsync_sessions{app="echo"}``)."""
        assert self.metrics_token, "the site was started without DOCSYNC_METRICS_TOKEN"
        headers = {"Authorization": f"Bearer {self.metrics_token}"}
        with urllib.request.urlopen(
            urllib.request.Request(self.url + "docsync-metrics", headers=headers), timeout=10
        ) as response:
            text = response.read().decode()
        samples = (line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#"))
        return {sample: int(value) if _INTEGER.fullmatch(value) else float(value) for sample, value in samples}

    def limit_refusals(self) -> dict[str, int]:
        """``docsync_limit_refusals_total`` by limit, from ``metrics``."""
        found = ((_REFUSALS.fullmatch(sample), value) for sample, value in self.metrics().items())
        return {match.group(1): int(value) for match, value in found if match}


_INTEGER = re.compile(r"-?\d+")
_REFUSALS = re.compile(r'docsync_limit_refusals_total\{limit="(\w+)"\}')


class ServerLog:
    """A server's log from now on, read as it grows."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = path.stat().st_size if path.exists() else 0
        self.text = b""

    def lines(self, needle: bytes) -> list[bytes]:
        """The lines logged since this reader was made that hold ``needle``."""
        with self.path.open("rb") as log:
            log.seek(self.offset)
            new = log.read()
        self.offset += len(new)
        self.text += new
        return [line for line in self.text.splitlines() if needle in line]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass
class Response:
    status: int
    body: str
    headers: dict[str, str]

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


class Browser:
    """A cookie-keeping HTTP client that logs in through the admin's login form."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url
        self.jar = http.cookiejar.CookieJar()
        cookies = urllib.request.HTTPCookieProcessor(self.jar)
        self.opener = urllib.request.build_opener(cookies, _NoRedirect())
        self.username: str | None = None

    def _open(self, request: urllib.request.Request) -> Response:
        try:
            # 60 s: a first page of a Bokeh app (its imports) took over 30 s on a CI machine at load 12.
            with self.opener.open(request, timeout=60) as answer:
                return Response(answer.status, answer.read().decode("utf-8", "replace"), dict(answer.headers))
        except urllib.error.HTTPError as exc:
            return Response(exc.code, exc.read().decode("utf-8", "replace"), dict(exc.headers))

    def get(self, path: str, headers: dict[str, str] | None = None) -> Response:
        """GET ``path`` (with ``headers`` besides the cookies) without following redirects."""
        return self._open(urllib.request.Request(self.base + path.lstrip("/"), headers=headers or {}))

    def post(self, path: str, data: dict[str, str] | list[tuple[str, str]]) -> Response:
        """POST a form to ``path`` with the CSRF token, without following redirects."""
        fields = list(data.items()) if isinstance(data, dict) else list(data)
        body = urllib.parse.urlencode([*fields, ("csrfmiddlewaretoken", self.cookie("csrftoken") or "")]).encode()
        url = self.base + path.lstrip("/")
        return self._open(urllib.request.Request(url, data=body, headers={"Referer": url}))

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)

    @property
    def session_cookie(self) -> str | None:
        """The Django session cookie's value (None before logging in)."""
        return self.cookie("sessionid")

    def cookie_header(self) -> dict[str, str]:
        """The ``Cookie`` header a browser would send with a websocket handshake."""
        text = "; ".join(f"{c.name}={c.value}" for c in self.jar)
        return {"Cookie": text} if text else {}

    def login(self, username: str) -> None:
        self.get("accounts/login/")
        answer = self.post("accounts/login/?next=/", {"username": username, "password": PASSWORD})
        assert answer.status == 302 and self.session_cookie, f"login of {username} failed: {answer.status}"
        self.username = username

    def logout(self) -> None:
        answer = self.post("accounts/logout/", {})
        assert answer.status in (200, 302), f"logout failed: {answer.status}"
        self.username = None

    def page_config(self, app: str, query: str = "") -> dict[str, Any]:
        """GET the app's page and return the client configuration it embeds."""
        answer = self.get(f"{app}/{query}")
        assert answer.status == 200, f"page of {app} answered {answer.status}"
        return page_config_of(answer.body)


_CONFIG = re.compile(r'<script id="docsync-config" type="application/json">(.*?)</script>', re.S)


def page_config_of(html: str) -> dict[str, Any]:
    match = _CONFIG.search(html)
    assert match is not None, "no docsync configuration in the page"
    config: dict[str, Any] = json.loads(match.group(1))
    return config


def mint_token(session_id: str, app: str, user_id: Any, arguments: dict[str, list[str]] | None = None) -> str:
    """Sign a token as the servers would (for users a page would refuse one to)."""
    signer = signing.TimestampSigner(key=SECRET_KEY, salt=TOKEN_SALT, sep=".", fallback_keys=[])
    payload = {"sid": session_id, "app": app, "uid": None if user_id is None else str(user_id), "args": arguments or {}}
    return signer.sign_object(payload)


def token_payload(token: str) -> dict[str, Any]:
    """The JSON a token carries (its first dot-separated part, base64)."""
    part = token.split(".")[0]
    data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return data


async def open_raw(url: str, token: str | None, **kwargs: Any) -> RawSocket:
    """Connect and read the server's first message (ACK, or the ERROR of a refusal)."""
    sock = await RawSocket.connect(url, token, **kwargs)
    with contextlib.suppress(websockets.ConnectionClosed):
        await sock.read_message()
    return sock


async def expect_refusal(url: str, token: str | None, **kwargs: Any) -> tuple[int | None, list[str]]:
    """Connect, expecting an ERROR and a close; return the close code and ERROR texts."""
    sock = await open_raw(url, token, **kwargs)
    code = (await sock.until_closed()).code
    assert sock.messages and sock.messages[0].msgtype == ERROR, f"expected an ERROR first, got {sock.messages}"
    return code, sock.errors()


async def expect_accepted(url: str, token: str, **kwargs: Any) -> dict[str, Any]:
    """Connect, expecting ACK, and pull the document; return its JSON."""
    sock = await open_raw(url, token, **kwargs)
    try:
        assert sock.messages and sock.messages[0].msgtype == ACK, f"refused: {sock.errors()} ({sock.close_code})"
        reply = await sock.request(pull_doc_req())
        assert reply.msgtype == PULL_DOC_REPLY, reply
        doc: dict[str, Any] = reply.content["doc"]
        return doc
    finally:
        await sock.close()


async def pull_json(config: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
    """The session's document as JSON, pulled over a fresh connection."""
    return await expect_accepted(config["wsUrl"], config["token"], headers=headers)


async def open_client(config: dict[str, Any], headers: dict[str, str] | None = None) -> ClientSession:
    """A connected ClientSession (ACK, then PULL-DOC) of the page's session."""
    session = ClientSession(config, headers=headers)
    await asyncio.wait_for(session.connect(), EVENT_WAIT)
    return session


def find_model(doc_json: dict[str, Any], name: str) -> dict[str, Any]:
    """The definition of the model called ``name`` in a pulled document's JSON."""
    for model in doc_json["models"]:
        if model.get("attributes", {}).get("name") == name:
            return dict(model)
    raise KeyError(name)


def canonical(doc_json: dict[str, Any]) -> dict[str, Any]:
    """A pulled document with every default written out and models sorted by id.

    Reading a mutable default (a list) stores it in the model, so a document read on
    the server may spell out ``"children": []`` where it left it out before: the same
    document, compared equal by this form.
    """
    encoder = Encoder()
    models = []
    for model in doc_json["models"]:
        cls = model_class(model["name"])
        fresh = cls()
        attributes = {
            name: model["attributes"][name] if name in model["attributes"] else encoder.encode(getattr(fresh, name))
            for name in cls.properties()
        }
        models.append({**model, "attributes": attributes})
    return {**doc_json, "models": sorted(models, key=lambda m: m["id"])}


def set_value_patch(model_id: str, attr: str, value: Any, base: int | None = None) -> Message:
    """A PATCH-DOC that sets one property."""
    content: dict[str, Any] = {
        "events": [{"kind": "ModelChanged", "model": {"id": model_id}, "attr": attr, "new": value}]
    }
    if base is not None:
        content["base"] = base
    return new_message("PATCH-DOC", content)


async def wait_until(predicate: Callable[[], bool], timeout: float, what: str, interval: float = 0.05) -> None:
    """Poll ``predicate`` until it holds; fail after ``timeout`` seconds (at least ``EVENT_WAIT``)."""
    timeout = max(timeout, EVENT_WAIT)
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(interval)


def wait_until_sync(predicate: Callable[[], bool], timeout: float, what: str, interval: float = 0.05) -> None:
    """Poll ``predicate`` until it holds (from sync code); fail after ``timeout`` seconds (at least ``EVENT_WAIT``)."""
    timeout = max(timeout, EVENT_WAIT)
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


_database: dict[str, Database] = {}


def shared_database(folder_factory: Callable[[str], Path]) -> Database:
    """The template database of this test run, created on first use."""
    if "db" not in _database:
        _database["db"] = Database.create(folder_factory("docsync-db"))
    return _database["db"]


def running_site(
    tmp_path_factory: Any, database: Database, name: str, *, debug: bool = False, server: str = "daphne", **env: str
) -> Iterator[Site]:
    """A started site in a fresh folder, for a fixture to ``yield from``: stopped by pid afterwards."""
    site = Site(tmp_path_factory.mktemp(name), database, debug=debug, server=server, **env)
    site.start()
    try:
        yield site
    finally:
        site.stop()


def site_on_each_server(name: str, **env: str) -> Any:
    """A module's site fixture: a started site with ``env`` under each of ``SERVERS`` (``indirect`` picks one)."""

    @pytest.fixture(scope="module", params=SERVERS)
    def site(
        request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, database: Database
    ) -> Iterator[Site]:
        yield from running_site(tmp_path_factory, database, f"{name}-{request.param}", server=request.param, **env)

    return site
