"""The how-to guides' examples (docs/howto/code/), run: a real daphne serving the example site, Chromium, Redis.

Every file the guides show is one of these; each guide's claims are checked here:
embedding (template tag, another site's origin), access rules, shared sessions,
streaming with rollover, uploads, deploy checks, scale-out across two processes over a
private redis-server, the guide's own example test, and the migration guides' apps (a
`bokeh serve` script and a bokeh-django handler driven by BokehJS, a Panel app ported).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import math
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from docsync.client import ClientSession, fetch_page_config
from docsync.testing import EVENT_WAIT, RedisServer, ServerProcess, free_port, wait_for_port
from tests.docs.blocks import block, blocks, command_lines, program

from .browser import open_app, wait_for
from .conftest import CHROMIUM, CHROMIUM_ARGS, NAVIGATION_TIMEOUT_MS, ROOT, SCREENSHOTS

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


async def _until(predicate: Callable[[], bool], what: str, timeout: float = EVENT_WAIT) -> None:
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


def test_embedding_from_another_site_with_the_guides_script_tag(site: Site, browser: Browser) -> None:
    # The guide's HTML as a page of https://blog.example.com (an allowed origin), the app's
    # address this test's server's instead of yours.example.com. The server listens on
    # loopback only because it is a test: Chromium's local-network-access check (a public
    # page may not reach a loopback address) is turned off in a browser of this test's own.
    html = block("docs/howto/embedding.md", "html", "<div id=").text.replace("https://yours.example.com/", site.url)
    args = [*CHROMIUM_ARGS, "--disable-features=LocalNetworkAccessChecks"]
    other = browser.browser_type.launch(executable_path=str(CHROMIUM), args=args, headless=True)
    try:
        page = other.new_page()
        page.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)  # as the context fixture's pages
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.route("https://blog.example.com/**", lambda route: route.fulfill(body=html, content_type="text/html"))
        page.goto("https://blog.example.com/post/")
        wait_for(lambda: "Figures for west" in page.inner_text("#here"), 20, "the app in the other site's page")
        assert errors == []
    finally:
        other.close()


def test_access_rules(site: Site) -> None:
    status, location = site.status("dash/staff_report/")
    assert status == 302 and location.startswith("/admin/login/?next=/dash/staff_report/")
    assert site.status("dash/staff_report/", "bob")[0] == 403
    assert site.status("dash/staff_report/", "sam")[0] == 200
    assert site.status("dash/beta/", "bob")[0] == 403
    assert site.status("dash/beta/", "bea")[0] == 200


def test_a_refused_user_gets_a_page_that_says_so(site: Site, context: BrowserContext) -> None:
    # It was one unstyled line, "you do not have access to this application", with no way on.
    context.add_cookies([{"name": "sessionid", "value": site.sessions["bob"], "url": site.url}])
    page = context.new_page()
    answer = page.goto(site.url + "dash/beta/")
    assert answer is not None and answer.status == 403
    assert page.title() == "beta: not open to you"
    expect(page.get_by_role("heading")).to_have_text("“beta” is not open to you")
    expect(page.locator("main")).to_contain_text("You are signed in as bob")
    assert page.locator("main").evaluate("m => getComputedStyle(m).maxWidth") != "none"  # docsync.css applies
    expect(page.get_by_role("link", name="Sign in as someone else")).to_have_attribute(
        "href", "/admin/login/?next=/dash/beta/"
    )
    page.get_by_role("link", name="Applications open to you").click()
    expect(page.get_by_role("link", name="greeting")).to_be_visible()
    expect(page.get_by_role("link", name="beta")).to_have_count(0)


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
            await ann.sync(EVENT_WAIT)
            await _until(lambda: "last edit" in _named(ben, "present").text, "ben to see the edit")
            return _named(ben, "notes").value, _named(ben, "present").text, _named(other, "notes").value
        finally:
            for session in (ann, ben, other):
                await session.close()

    seen, present, elsewhere = _run(scenario)
    assert seen == "agenda: docs"
    assert present == "2 connected; last edit by sam"
    assert elsewhere == ""


def test_a_page_without_a_room_joins_the_default_room(site: Site) -> None:
    """docs/howto/shared.md: every page with the same ``?room=`` joins one session, ``default`` without one."""
    ids = [fetch_page_config(site.url + f"dash/whiteboard/{query}")["sessionId"] for query in ("", "?room=default", "")]
    assert len(set(ids)) == 1
    assert fetch_page_config(site.url + "dash/whiteboard/?room=defaults")["sessionId"] != ids[0]


def test_anonymous_visitors_of_a_room_are_one_user(site: Site) -> None:
    """docs/howto/shared.md: ``session_context.users`` lists users once; every anonymous visitor is AnonymousUser."""

    async def scenario() -> str:
        first = await _open(site.url + "dash/whiteboard/?room=anonymous")
        second = await _open(site.url + "dash/whiteboard/?room=anonymous")
        try:
            assert first.id == second.id
            _named(first, "notes").value = "hello"
            await first.sync(EVENT_WAIT)
            await _until(lambda: "last edit" in _named(second, "present").text, "the second page to see the edit")
            return str(_named(second, "present").text)
        finally:
            await first.close()
            await second.close()

    assert _run(scenario) == "1 connected; last edit by AnonymousUser"


def test_streaming_rolls_over(site: Site) -> None:
    async def scenario() -> list[int]:
        session = await _open(site.url + "dash/ticker/")
        lengths = []
        try:
            source = _named(session, "prices")

            def far() -> bool:
                lengths.append(len(source.data["t"]))
                return len(source.data["t"]) > 0 and source.data["t"][-1] >= 300

            await _until(far, "300 points streamed")
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
    # A file named .csv need not be text: the guide's code said UnicodeDecodeError, as a failed callback.
    page.locator("input[type=file]").set_input_files(
        [{"name": "c.csv", "mimeType": "text/csv", "buffer": b"\xff\xfe\x00"}]
    )
    wait_for(lambda: "c.csv: not UTF-8 text" in page.inner_text("body"), 20, "the file that is no text named")
    assert "failed" not in page.inner_text("body")
    assert page.errors == []  # type: ignore[attr-defined]


def test_the_deploy_settings_pass_every_deploy_check(tmp_path: Path) -> None:
    env = _env("howto_site.settings_deploy", tmp_path / "db.sqlite3", DJANGO_SECRET_KEY="k" * 20 + "-howto-" + "q" * 40)
    command = [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"]
    done = subprocess.run(command, cwd=CODE, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    # and the base settings, with DEBUG on, are what the deploy checks are for (the
    # security checks are those: the others, half of the run's CPU, say nothing of DEBUG)
    env = _env("howto_site.settings", tmp_path / "db.sqlite3")
    security = [*command, "--tag", "security"]
    done = subprocess.run(security, cwd=CODE, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "security.W018" in done.stdout + done.stderr


_NGINX = """daemon off;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log;
events {{}}
http {{
    access_log off;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
{guide}
}}
"""


@contextlib.contextmanager
def _nginx(guide: str, work: Path) -> Iterator[None]:
    """Run the guide's nginx configuration (inside an http block, as conf.d files are) in a real nginx."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(nginx).exists(), "nginx is not installed (scripts/setup.sh installs it)"
    (work / "nginx.conf").write_text(_NGINX.format(work=work, guide=guide), encoding="utf-8")
    # -e: nginx's own error log in the work directory from the start (not /var/log/nginx).
    where = ["-p", str(work), "-c", str(work / "nginx.conf"), "-e", str(work / "error.log")]
    checked = subprocess.run([nginx, "-t", *where], capture_output=True)
    assert checked.returncode == 0, checked.stderr.decode()
    with open(work / "nginx.log", "wb") as log:
        process = subprocess.Popen([nginx, *where], stdout=log, stderr=log)
    try:
        yield
    finally:
        process.terminate()  # nginx's master stops its worker on SIGTERM
        process.wait(timeout=30)


def test_scale_out_runs_as_the_guide_says(tmp_path: Path) -> None:
    commands = command_lines(block("docs/howto/scale-out.md", "bash", "export").text)
    nginx_config = block("docs/howto/scale-out.md", "nginx", "upstream").text
    ports = {"8001": free_port(), "8002": free_port(), "80": free_port()}
    started: list[subprocess.Popen[bytes]] = []
    with RedisServer() as redis:
        env = _env("howto_site.settings", tmp_path / "db.sqlite3")
        env.pop("DJANGO_SETTINGS_MODULE")
        try:
            for line in commands:
                line = line.replace("redis://127.0.0.1:6379/0", redis.url)
                for shown, port in ports.items():
                    line = re.sub(rf"(?<![\d.]){shown}\b", str(port), line)
                words = shlex.split(line.rstrip("&"))
                if words[0] == "export":
                    env.update(word.split("=", 1) for word in words[1:])
                    continue
                command = [program(words[0]), *words[1:]]
                if line.endswith("&"):
                    log = open(tmp_path / f"{words[0]}-{len(started)}.log", "wb")  # noqa: SIM115
                    started.append(subprocess.Popen(command, cwd=CODE, env=env, stdout=log, stderr=log))
                    log.close()
                else:
                    done = subprocess.run(command, cwd=CODE, env=env, capture_output=True, timeout=120)
                    assert done.returncode == 0, done.stderr.decode()
            assert len(started) == 2
            for process, shown in zip(started, ("8001", "8002"), strict=True):
                wait_for_port(ports[shown], process=process)
            guide = re.sub(r"listen 80;", f"listen 127.0.0.1:{ports['80']};", nginx_config)
            for shown in ("8001", "8002"):
                guide = guide.replace(f"127.0.0.1:{shown};", f"127.0.0.1:{ports[shown]};")
            with _nginx(guide, tmp_path):
                wait_for_port(ports["80"])
                balancer = f"http://127.0.0.1:{ports['80']}/"

                async def scenario() -> list[str]:
                    urls = [balancer] * 3 + [f"http://127.0.0.1:{ports[p]}/" for p in ("8001", "8002")]
                    sessions = [await _open(url + "dash/whiteboard/?room=ops") for url in urls]
                    try:
                        assert len({session.id for session in sessions}) == 1
                        _named(sessions[0], "notes").value = "through nginx"
                        await sessions[0].sync(EVENT_WAIT)
                        for session in sessions:
                            await _until(lambda s=session: _named(s, "notes").value == "through nginx", "the edit")
                        return [str(_named(session, "notes").value) for session in sessions]
                    finally:
                        for session in sessions:
                            await session.close()

                assert _run(scenario) == ["through nginx"] * 5
        finally:
            for process in started:
                process.terminate()
            for process in started:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=30)


_BOKEH_DRAWN = """() => window.Bokeh != null && Bokeh.documents.length > 0
  && Bokeh.documents.every((d) => d.is_idle) && Bokeh.index.roots.length > 0
  && Bokeh.index.roots.every((v) => v.has_finished() && v.is_idle)"""


def _bokeh_page(context: BrowserContext, url: str) -> Any:
    """Open a Bokeh app's page (or a page embedding one) and wait until BokehJS has drawn it."""
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    response = page.goto(url)
    assert response is not None and response.ok, url
    page.wait_for_function(_BOKEH_DRAWN, timeout=EVENT_WAIT * 1000)
    assert errors == []
    return page


def _bokeh_value(page: Any, name: str, expression: str) -> Any:
    return page.evaluate(
        f"""() => {{ const m = Bokeh.documents[0].get_model_by_name({json.dumps(name)}); return {expression}; }}"""
    )


_SERVERS = ("uvicorn", "daphne", "granian", "hypercorn")


def _server_commands() -> list[str]:
    """The server command lines the servers and deploying guides show, each once."""
    found: list[str] = []
    for page in ("docs/howto/servers.md", "docs/howto/deploying.md"):
        for shown in blocks(ROOT / page):
            if shown.language == "bash":
                found += [line for line in command_lines(shown.text) if line.split()[0] in _SERVERS]
    return list(dict.fromkeys(found))


def test_the_servers_guide_shows_each_server() -> None:
    assert sorted({command.split()[0] for command in _server_commands()}) == sorted(_SERVERS)


#: Starts of a documented server command, each on a new free port (see ``_serving``).
_STARTS = 3


@contextlib.contextmanager
def _serving(command: str, env: dict[str, str], log: Path) -> Iterator[str]:
    """Run a guide's server command as written, on 127.0.0.1 and a free port instead of 0.0.0.0:8000; yield its URL.

    A free port may be taken by another process between ``free_port`` and the server's
    bind (other test workers start servers too): such a start is tried again on another.
    """
    for attempt in range(_STARTS):
        port = free_port()
        words = shlex.split(command.replace("0.0.0.0", "127.0.0.1").replace("8000", str(port)))
        with open(log, "wb") as out:
            process = subprocess.Popen([program(words[0]), *words[1:]], cwd=CODE, env=env, stdout=out, stderr=out)
        try:
            try:
                wait_for_port(port, process=process)
            except RuntimeError:
                if attempt + 1 < _STARTS and b"already in use" in log.read_bytes():
                    continue
                raise
            yield f"http://127.0.0.1:{port}/"
            return
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)
    raise AssertionError("not reached: the last start raises")


async def _round_trip(url: str, room: str, text: str) -> str:
    """Edit a shared room's notes in one session; return what a second session joining it sees."""
    first = await _open(url + "dash/whiteboard/?room=" + room)
    try:
        _named(first, "notes").value = text
        await first.sync(EVENT_WAIT)
        second = await _open(url + "dash/whiteboard/?room=" + room)
        try:
            assert second.id == first.id
            return str(_named(second, "notes").value)
        finally:
            await second.close()
    finally:
        await first.close()


@pytest.mark.parametrize("command", _server_commands(), ids=lambda command: command.split()[0])
def test_a_documented_server_command_serves_the_site(command: str, site: Site, tmp_path: Path) -> None:
    with _serving(command, site.server.env, tmp_path / "server.log") as url:
        with urllib.request.urlopen(url + "dash/greeting/", timeout=30) as answer:
            assert answer.status == 200
        text = f"served by {command.split()[0]}"
        assert _run(lambda: _round_trip(url, command.split()[0], text)) == text


def test_the_bokeh_serve_command_the_migration_starts_from(tmp_path: Path) -> None:
    pytest.importorskip("bokeh")
    [command] = command_lines(block("docs/howto/migrate-bokeh-serve.md", "bash", "bokeh serve").text)
    port = free_port()
    words = shlex.split(command.replace("5006", str(port)))  # the guide's command, on a free port
    assert words[:2] == ["bokeh", "serve"]
    with open(tmp_path / "bokeh.log", "wb") as log:
        process = subprocess.Popen(
            [program(words[0]), *words[1:]], cwd=CODE / "howto_site" / "bokeh_apps", stdout=log, stderr=log
        )
    try:
        wait_for_port(port, process=process)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/wave", timeout=30) as answer:
            page = answer.read().decode()
        assert answer.status == 200 and "<title>Wave</title>" in page
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_migrating_a_bokeh_serve_script_unchanged(site: Site, context: BrowserContext) -> None:
    pytest.importorskip("bokeh")
    page = _bokeh_page(context, site.url + "dash/wave/")
    assert page.title() == "Wave"
    handle = page.locator(".noUi-handle").first
    handle.focus()
    handle.press("ArrowRight")
    handle.press("ArrowRight")  # 1.0 -> 2.0 in steps of 0.5: the Python callback answers
    wait_for(lambda: _bokeh_value(page, "status", "m.text") == "frequency 2.0", 20, "the status Python set")
    x1, y1 = _bokeh_value(page, "wave", "[m.data.x[1], m.data.y[1]]")
    assert y1 == pytest.approx(math.sin(2 * x1))
    page.set_viewport_size({"width": 560, "height": 360})  # the app's fixed-size layout, no blank margin
    page.screenshot(path=str(SCREENSHOTS / "howto-migrating-bokeh-serve.png"))


def test_a_bokeh_session_made_by_the_view(site: Site, context: BrowserContext) -> None:
    pytest.importorskip("bokeh")
    page = _bokeh_page(context, site.url + "wave-at/")
    # The view set the slider before the page loaded; the app's own callback ran on that change.
    assert _bokeh_value(page, "frequency", "m.value") == 2.5
    assert _bokeh_value(page, "status", "m.text") == "frequency 2.5"
    handle = page.locator(".noUi-handle").first
    handle.focus()
    handle.press("ArrowRight")
    wait_for(lambda: _bokeh_value(page, "status", "m.text") == "frequency 3.0", 20, "the session stays live")


def test_migrating_a_bokeh_django_handler_and_its_page(site: Site, context: BrowserContext) -> None:
    pytest.importorskip("bokeh")
    # What docsync adds: the page's login rule holds for the app's own page and websocket too.
    assert site.status("dash/shapes/")[0] == 302
    assert site.status("shapes/")[0] == 302
    context.add_cookies([{"name": "sessionid", "value": site.sessions["bob"], "url": site.url}])
    page = _bokeh_page(context, site.url + "shapes/")
    assert page.inner_text("h1") == "Shapes for bob"
    wait_for(lambda: _bokeh_value(page, "said", "m.text") == "triangle: 3 sides", 15, "the handler's first drawing")
    page.locator("select").select_option("hexagon")
    wait_for(lambda: _bokeh_value(page, "said", "m.text") == "hexagon: 6 sides", 20, "the Python callback's redraw")
    assert len(_bokeh_value(page, "plot", "m.renderers[0].data_source.data.x")) == 6
    page.set_viewport_size({"width": 560, "height": 440})
    page.screenshot(path=str(SCREENSHOTS / "howto-migrating-bokeh-django.png"))


def test_migrating_a_panel_app_ported_to_docsync_models(site: Site, context: BrowserContext) -> None:
    page = open_app(context, site.url + "dash/sine/")
    page.locator('[data-docsync-name="frequency"] input').focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    wait_for(lambda: "frequency 2.0" in page.inner_text('[data-docsync-name="summary"]'), 20, "the Python callback")
    assert page.errors == []  # type: ignore[attr-defined]
    page.set_viewport_size({"width": 900, "height": 390})
    page.screenshot(path=str(SCREENSHOTS / "howto-migrating-panel.png"))


def _visitor_cookie(site: Site) -> str:
    """The ``docsync_visitor`` cookie an app page's response sets (its ``Set-Cookie``), as ``name=value``."""
    with urllib.request.urlopen(site.url + "dash/greeting/", timeout=30) as answer:
        cookies = answer.headers.get_all("Set-Cookie") or []
    [visitor] = [c.split(";", 1)[0] for c in cookies if c.startswith("docsync_visitor=")]
    return visitor


def test_the_testing_guides_way_to_rejoin_a_session(site: Site) -> None:
    """docs/howto/testing.md: a cookie naming the visitor, sent with page and websocket, rejoins; others do not."""

    async def rejoins(headers: dict[str, str]) -> tuple[str, str]:
        first = await _open(site.url + "dash/greeting/", headers)
        try:
            again = await _open(site.url + f"dash/greeting/?session_id={first.id}", headers)
            await again.close()
            return first.id, again.id
        finally:
            await first.close()

    for headers in ({}, {"Cookie": "unrelated=1"}):  # no visitor: a new session each time
        first, again = _run(lambda headers=headers: rejoins(headers))
        assert first != again
    for headers in ({"Cookie": _visitor_cookie(site)}, {"Cookie": f"sessionid={site.sessions['bob']}"}):
        first, again = _run(lambda headers=headers: rejoins(headers))
        assert first == again


def test_the_testing_guides_example_passes(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DOCSYNC_"))}
    env["PYTHONPATH"] = str(ROOT)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path)]
    done = subprocess.run(
        [*command, str(CODE / "test_greeting.py")], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0 and "1 passed" in done.stdout, done.stdout + done.stderr
