"""docs/extending.md's JavaScript view, as the page shows it, drawing the demo's board in Chromium.

The board's ``NoteBoard`` names the view module ``extensions/note_board.js``, as the
page's Python example does (tests/docs/test_extending_doc.py holds the two together).
Here the browser is served the page's own view for that module, instead of the shipped
one (which is this view with remove buttons and styling): the board must draw and edit
with it, the edit reaching the server and another page.
"""

from __future__ import annotations

import json
import re
import urllib.request
import uuid

from playwright.sync_api import Browser, BrowserContext, Route, expect

from docsync.testing import ServerProcess
from tests.docs.blocks import block

from .browser import open_app, wait_for
from .conftest import CHROMIUM, CHROMIUM_ARGS, NAVIGATION_TIMEOUT_MS

_MODULE = re.compile(r".*/docsync-client/extensions/note_board\.js(\?.*)?$")
_VIEWS_JSON = re.compile(r".*/board/views\.json\?.*")
# extending.md §4: an origin listed in ALLOWED_ORIGINS embeds the board, custom view and all.
_BLOG = "https://blog.example.com"
SERVER_ENV = {"DOCSYNC_ALLOWED_ORIGINS": _BLOG}


def test_the_guides_view_draws_and_edits_the_board(server: ServerProcess, context: BrowserContext) -> None:
    view = block("docs/extending.md", "js", "import { h, setText }").text
    served: list[str] = []

    def serve_the_guides_view(route: Route) -> None:
        served.append(route.request.url)
        route.fulfill(body=view, content_type="text/javascript")

    context.route(_MODULE, serve_the_guides_view)
    url = f"{server.url}board/?room=guide-{uuid.uuid4().hex[:8]}"
    page = open_app(context, url)
    board = page.locator("section.ds-note-board")
    expect(board.locator("h3")).not_to_be_empty()
    title = page.evaluate("window.docsync.getModelByName('board').get('title') ?? 'Notes'")
    expect(board.locator("h3")).to_have_text(title)
    board.get_by_label("New note").fill("from the guide's view")
    board.get_by_role("button", name="Add").click()

    other = open_app(context, url)  # the same room: the note went through the server
    wait_for(
        lambda: "from the guide's view" in other.locator("section.ds-note-board ul").inner_text(),
        20,
        "the note in another page",
    )
    assert served, "the page imported the guide's view"
    assert page.errors == [] and other.errors == []  # type: ignore[attr-defined]


def _room() -> str:
    return f"board/?room=loading-{uuid.uuid4().hex[:8]}"


def test_a_page_asks_for_a_custom_models_module_once_and_only_when_its_document_holds_one(
    server: ServerProcess, context: BrowserContext
) -> None:
    # extending.md §1: "<app>/views.json?type=NoteBoard answers {"NoteBoard": "<absolute URL>"}".
    asked: list[str] = []
    context.on("request", lambda request: asked.append(request.url) if "views.json" in request.url else None)
    page = open_app(context, server.url + _room())
    expect(page.locator("section.ds-note-board")).to_be_visible()
    assert len(asked) == 1 and asked[0].endswith("/board/views.json?type=NoteBoard"), asked
    with urllib.request.urlopen(asked[0], timeout=30) as answer:
        assert json.loads(answer.read()) == {"NoteBoard": server.url + "docsync-client/extensions/note_board.js"}
    open_app(context, server.url + "sliders/")  # no custom model: no question
    assert len(asked) == 1, asked


def test_a_view_that_fails_to_import_says_so_in_its_place_and_in_a_notice(
    server: ServerProcess, context: BrowserContext
) -> None:
    # extending.md §3: "If the import fails, the placeholder says so and the page shows a notice."
    context.route(_MODULE, lambda route: route.fulfill(status=500, body="broken"))
    page = open_app(context, server.url + _room())
    expect(page.locator(".ds-unknown")).to_have_text("NoteBoard: its view could not be loaded")
    expect(page.locator(".ds-notice-error")).to_contain_text("the view of NoteBoard could not be loaded")
    assert page.locator("section.ds-note-board").count() == 0


def test_a_type_with_no_module_is_shown_as_having_no_view(server: ServerProcess, context: BrowserContext) -> None:
    # extending.md §3: "A type with neither a built-in view nor a module is shown as 'Type (no view)'."
    context.route(_VIEWS_JSON, lambda route: route.fulfill(body="{}", content_type="application/json"))
    page = open_app(context, server.url + _room())
    expect(page.locator(".ds-unknown")).to_have_text("NoteBoard (no view)")
    assert page.errors == []  # type: ignore[attr-defined]


def test_a_listed_origin_embeds_the_board_with_its_view(server: ServerProcess, browser: Browser) -> None:
    # extending.md §4: autoload.js from a page of a listed origin; the browser fetches views.json
    # and imports the view module in CORS mode, from this server. (Loopback only because it is a
    # test: Chromium's local-network-access check is turned off, as in tests/e2e/test_howto.py.)
    room = f"embed-{uuid.uuid4().hex[:8]}"
    html = f'<div id="here"></div><script src="{server.url}board/autoload.js?target=here&room={room}"></script>'
    args = [*CHROMIUM_ARGS, "--disable-features=LocalNetworkAccessChecks"]
    other = browser.browser_type.launch(executable_path=str(CHROMIUM), args=args, headless=True)
    try:
        page = other.new_page()
        page.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.route(f"{_BLOG}/**", lambda route: route.fulfill(body=html, content_type="text/html"))
        page.goto(f"{_BLOG}/post/")
        board = page.locator("#here section.ds-note-board")
        expect(board).to_be_visible(timeout=30_000)
        board.get_by_label("New note").fill("from the blog")
        board.get_by_role("button", name="Add").click()
        expect(board.locator("ul")).to_contain_text("from the blog")
        assert errors == []
    finally:
        other.close()
    # An origin not listed is given no CORS header, so its pages cannot import the view.
    for origin, allowed in ((_BLOG, _BLOG), ("https://elsewhere.example.com", None)):
        for path in ("board/views.json?type=NoteBoard", "docsync-client/extensions/note_board.js"):
            request = urllib.request.Request(server.url + path, headers={"Origin": origin})
            with urllib.request.urlopen(request, timeout=30) as answer:
                assert answer.headers.get("Access-Control-Allow-Origin") == allowed, (origin, path)
