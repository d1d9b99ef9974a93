"""Embedding in Chromium: the template tag, and autoload.js from a page on another origin."""

from __future__ import annotations

import functools
import http.server
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from docsync.testing import ServerProcess, free_port

from .browser import page_document, settled, wait_for
from .conftest import SCREENSHOTS

# The page on the other origin: it is served there, the apps come from the docsync server.
HOST_PORT = free_port()
SERVER_ENV = {"DOCSYNC_ALLOWED_ORIGINS": f"127.0.0.1:{HOST_PORT}"}

HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Somebody else's page</title></head>
<body>
  <h1>A page on another origin</h1>
  <div id="sliders-here">sliders go here</div>
  <div id="board-here">the board goes here</div>
  <script src="{base}sliders/autoload.js?target=sliders-here"></script>
  <script src="{base}board/autoload.js?target=board-here&room={room}"></script>
</body></html>
"""


# A host page in the browser's dark mode: one that offers no dark scheme (the browser draws
# it light), one that offers it by a meta tag, one by CSS.
THEME_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A host page</title>{head}</head>
<body><p>Some text of the host page.</p><div id="sliders-here"></div>
  <script src="{base}sliders/autoload.js?target=sliders-here"></script></body></html>
"""
THEME_PAGES = {
    "light-only.html": "",
    "meta-dark.html": '<meta name="color-scheme" content="light dark">',
    "css-dark.html": "<style>:root { color-scheme: dark light; background: #000; color: #eee; }</style>",
}


# A page on an origin that is not listed, which reads the configuration of any autoload.js
# it loads: it hooks Promise.prototype.then before the script runs, and hands the script's
# callback a module of its own whose embed() keeps what it is given.
UNLISTED_PORT = free_port()
READING_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A page that reads tokens</title></head>
<body><div id="x"></div>
<script>
  window.read = [];
  const then = Promise.prototype.then;
  Promise.prototype.then = function (done, failed) {{
    if (typeof done === "function" && /embed/.test(String(done))) {{
      try {{ done({{ embed: (config) => window.read.push(config) }}); }} catch (e) {{}}
    }}
    return then.call(this, done, failed);
  }};
</script>
<script src="{base}sliders/autoload.js?target=x" onload="window.loaded = true" onerror="window.loaded = false"></script>
</body></html>
"""


def _serve(root: Path, port: int) -> Iterator[http.server.ThreadingHTTPServer]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def reading_site(server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A plain http.server on UNLISTED_PORT serving READING_PAGE; return the page's URL."""
    root: Path = tmp_path_factory.mktemp("reading-site")
    (root / "index.html").write_text(READING_PAGE.format(base=server.url), encoding="utf-8")
    for _ in _serve(root, UNLISTED_PORT):
        yield f"http://127.0.0.1:{UNLISTED_PORT}/index.html"


@pytest.fixture(scope="module")
def host_site(server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A plain http.server on HOST_PORT serving HOST_PAGE; return the page's URL."""
    root: Path = tmp_path_factory.mktemp("host-site")
    (root / "index.html").write_text(HOST_PAGE.format(base=server.url, room="autoload"), encoding="utf-8")
    for name, head in THEME_PAGES.items():
        (root / name).write_text(THEME_PAGE.format(base=server.url, head=head), encoding="utf-8")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", HOST_PORT), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{HOST_PORT}/index.html"
    httpd.shutdown()
    httpd.server_close()


def session_of(page: Page, selector: str) -> str:
    return str(page.evaluate("(s) => document.querySelector(s).docsyncSession.connection.url", selector))


def embedded_value(page: Page, selector: str, name: str, attr: str) -> object:
    return page.evaluate(
        "([s, n, a]) => document.querySelector(s).docsyncSession.getModelByName(n).get(a)", [selector, name, attr]
    )


def wait_live(page: Page, selector: str) -> None:
    page.wait_for_function(
        "(s) => document.querySelector(s)?.docsyncSession?.state === 'live'", arg=selector, timeout=15_000
    )


def test_two_apps_embedded_with_the_template_tag(server: ServerProcess, context: BrowserContext) -> None:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server.url + "embed-demo/")
    sliders, stream = "#embed-sliders", "#embed-stream"
    wait_live(page, sliders)
    wait_live(page, stream)
    # Each embed replaced its placeholder and keeps its own session and views.
    expect(page.locator(".docsync-root")).to_have_count(2)
    assert page.locator("link[href$='docsync.css']").count() == 1
    tokens = page.evaluate(
        "() => [...document.querySelectorAll('.docsync-root')].map((el) => el.docsyncSession.connection.token)"
    )
    assert len(set(tokens)) == 2

    streamed = lambda: len(embedded_value(page, stream, "source", "data")["t"])  # type: ignore[index]  # noqa: E731
    wait_for(lambda: streamed() >= 20, 10, "the embedded stream to stream")
    slider = page.locator(f'{sliders} [data-docsync-name="phase"] input')
    slider.focus()
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    wait_for(lambda: embedded_value(page, sliders, "phase", "value") == 1.0, 5, "the embedded slider's value")
    expect(page.locator(f'{sliders} [data-docsync-name="status"]')).to_contain_text(
        re.compile(r"phase changed from [\d.]+ to 1$")
    )
    # The other app is untouched by it, and keeps streaming.
    assert embedded_value(page, stream, "running", "active") is True
    count = streamed()
    wait_for(lambda: streamed() > count, 5, "the stream to go on")
    wait_for(lambda: settled(page, sliders), 5, "the sliders embed to settle")
    page.wait_for_timeout(200)
    page.screenshot(path=SCREENSHOTS / "embed-demo.png", full_page=True)
    assert errors == []


def test_autoload_from_a_page_on_another_origin(server: ServerProcess, context: BrowserContext, host_site: str) -> None:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(host_site)
    assert page.evaluate("location.origin") != server.url.rstrip("/")
    wait_live(page, "#sliders-here")
    wait_live(page, "#board-here")
    expect(page.get_by_text("sliders go here")).to_have_count(0)
    # The custom model's view module came from the docsync server too.
    board = page.locator("#board-here .ds-note-board")
    expect(board).to_be_visible()
    page.locator("#board-here").get_by_role("textbox", name="New note").fill("from another origin")
    page.locator("#board-here").get_by_role("button", name="Add").click()
    expect(board.locator("li")).to_have_count(2)

    slider = page.locator('#sliders-here [data-docsync-name="frequency"] input')
    slider.focus()
    page.keyboard.press("End")
    wait_for(lambda: embedded_value(page, "#sliders-here", "frequency", "value") == 5.1, 5, "the slider at its end")
    expect(page.locator('#sliders-here [data-docsync-name="status"]')).to_contain_text("to 5.1")
    wait_for(lambda: settled(page, "#board-here"), 5, "the board to settle")
    page_document(page, server.url, "#board-here")  # the document is readable through the embed
    page.screenshot(path=SCREENSHOTS / "autoload.png", full_page=True)
    assert errors == []


def test_a_page_of_an_unlisted_origin_reads_no_token(
    server: ServerProcess, context: BrowserContext, reading_site: str
) -> None:
    """The page is of the same site (another port): the browser sends the visitor's cookie with the script's request."""
    own = context.new_page()
    own.goto(server.url + "sliders/")  # the browser is a visitor of the site now (its docsync_visitor cookie)
    wait_live(own, "#docsync-root")
    assert any(c["name"] == "docsync_visitor" for c in context.cookies(server.url))
    page = context.new_page()
    statuses: list[int] = []
    page.on("response", lambda response: "autoload.js" in response.url and statuses.append(response.status))
    page.goto(reading_site)
    page.wait_for_function("window.loaded !== undefined", timeout=15_000)
    # Served, the script's configuration and token were the page's to read (the visitor's id in it).
    assert page.evaluate("window.read") == []
    # A 403: the browser runs none of it (the console shows the 403; its body says why).
    assert page.evaluate("window.loaded") is False and statuses == [403]


@pytest.mark.parametrize(
    ("name", "theme"), [("light-only.html", "light"), ("meta-dark.html", ""), ("css-dark.html", "")]
)
def test_an_auto_theme_embed_follows_its_host_page(
    server: ServerProcess, context: BrowserContext, host_site: str, name: str, theme: str
) -> None:
    """In the browser's dark mode, an embed is dark only in a page that offers a dark scheme.

    A page that declares no ``color-scheme`` stays white in dark mode: an embed following the
    browser alone drew its light text on that white, unreadable (found building a new site
    from the README).
    """
    page = context.new_page()
    page.emulate_media(color_scheme="dark")
    page.goto(host_site.replace("index.html", name))
    wait_live(page, "#sliders-here")
    assert page.evaluate("document.querySelector('#sliders-here').dataset.theme ?? ''") == theme
    ink = page.evaluate("getComputedStyle(document.querySelector('#sliders-here')).getPropertyValue('--ds-ink').trim()")
    assert ink == ("#1f2328" if theme == "light" else "#e6edf3")
