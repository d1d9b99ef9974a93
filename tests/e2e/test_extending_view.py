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

from playwright.sync_api import BrowserContext, Route, expect

from docsync.testing import ServerProcess
from tests.docs.blocks import block

from .browser import open_app, wait_for

# An app page's import map sends it to the client's versioned URL (docsync-client/v-<hash>/...).
_MODULE = re.compile(r".*/docsync-client/(v-[0-9a-f]+/)?extensions/note_board\.js(\?.*)?$")
_VIEWS_JSON = re.compile(r".*/board/views\.json\?.*")
# extending.md §4: the CORS header for an origin listed in ALLOWED_ORIGINS.
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


def test_the_views_and_modules_answer_cors_for_listed_origins_only(server: ServerProcess) -> None:
    # extending.md §4 (a page of a listed origin embedding the board, its view imported from
    # this server, runs in Chromium in tests/e2e/test_embedding.py): the CORS header is there
    # for listed origins, and not for others, whose pages then cannot import the view.
    for origin, allowed in ((_BLOG, _BLOG), ("https://elsewhere.example.com", None)):
        for path in ("board/views.json?type=NoteBoard", "docsync-client/extensions/note_board.js"):
            request = urllib.request.Request(server.url + path, headers={"Origin": origin})
            with urllib.request.urlopen(request, timeout=30) as answer:
                assert answer.headers.get("Access-Control-Allow-Origin") == allowed, (origin, path)


_HOST_PAGE = """<!doctype html><meta charset="utf-8"><div id="here"></div><div id="there"></div>
<script type="module">
import { embed } from "/docsync-client/embed.js";
import { View } from "/docsync-client/views/view.js";
import { h } from "/docsync-client/views/dom.js";

class BoardView extends View {
  render() { return h("p", { class: "my-board" }, `notes: ${this.prop("notes").length}`); }
}
class CountView extends View {
  render() { return h("p", { class: "my-count" }, String(this.prop("text"))); }
}
async function configOf(url) {
  const html = await (await fetch(url)).text();
  return JSON.parse(new DOMParser().parseFromString(html, "text/html").getElementById("docsync-config").textContent);
}
const handed = { ...(await configOf("/board/?room=ROOM-a")), target: "here", page: false };
window.handed = await embed(handed, { views: { NoteBoard: BoardView, Div: CountView } });
const named = { ...(await configOf("/board/?room=ROOM-b")), target: "there", page: false };
named.viewModules = { NoteBoard: "/docsync-client/extensions/note_board.js" };
delete named.viewModulesUrl;
window.named = await embed(named);
</script>"""


def test_views_handed_to_embed_or_named_in_advance_are_used_without_asking(
    server: ServerProcess, context: BrowserContext
) -> None:
    # extending.md §3: embed(config, { views }) replaces built-in or imported views for that
    # embed; viewModules names a type's module in advance (no views.json question).
    room = f"handed-{uuid.uuid4().hex[:8]}"
    asked: list[str] = []
    context.on("request", lambda request: asked.append(request.url))
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # The host page, on the server's origin: a real answer of the server's (a route's
    # answer counts as a public page, which Chromium keeps off loopback), its HTML then set.
    page.goto(f"{server.url}docsync-client/docsync.css")
    page.set_content(_HOST_PAGE.replace("ROOM", room))
    expect(page.locator("#here .my-board")).to_have_text("notes: 1")
    expect(page.locator("#here .my-count")).to_have_text("1 note")  # a built-in model's view replaced
    assert page.locator("#here section.ds-note-board").count() == 0
    expect(page.locator("#there section.ds-note-board h3")).to_have_text("Shared notes")
    expect(page.locator("#there .my-board")).to_have_count(0)  # the views were that embed's only
    assert not [url for url in asked if "views.json" in url], asked
    assert errors == []


_PROBE_PAGE = """<!doctype html><meta charset="utf-8"><div id="here"></div>
<script type="module">
import { embed } from "/docsync-client/embed.js";
import { View } from "/docsync-client/views/view.js";
import { h, setText } from "/docsync-client/views/dom.js";

// A view written from extending.md's table: it keeps what it is told, for the test to read.
class ProbeView extends View {
  render() { return h("p", { class: "probe" }); }
  connected() {
    window.probe = this;
    window.watched = [];
    this.watch("notes", (attr, old, now) => window.watched.push(now.length));
    setText(this.el, String(this.prop("notes").length));
  }
}
const html = await (await fetch("/board/?room=ROOM")).text();
const parsed = new DOMParser().parseFromString(html, "text/html");
const config = JSON.parse(parsed.getElementById("docsync-config").textContent);
window.session = await embed({ ...config, target: "here", page: false }, { views: { NoteBoard: ProbeView } });
</script>"""


def test_a_views_set_and_request_reach_the_server_as_the_table_says(
    server: ServerProcess, context: BrowserContext
) -> None:
    room = f"probe-{uuid.uuid4().hex[:8]}"
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{server.url}docsync-client/docsync.css")  # the server's origin (see above)
    page.set_content(_PROBE_PAGE.replace("ROOM", room))
    page.wait_for_function("window.session && window.session.state === 'live' && window.probe")
    outcome = page.evaluate(
        """async () => {
          try { await window.probe.request("poke", { a: 1 }); return "resolved"; }
          catch (e) { return "rejected: " + JSON.stringify(e.text ?? e.message ?? String(e)); }
        }"""
    )
    # request(): rejected with the server's refusal (NoteBoard lists no __client_events__).
    assert outcome == "rejected: \"NoteBoard does not accept 'poke' events\""
    # set(): refused unless __client_writable__ lists the property, and undone in the page.
    page.evaluate("window.probe.set('title', 'not writable')")
    expect(page.locator(".ds-notice-error")).to_contain_text(
        "Your change to board.title was refused: NoteBoard.title is not writable from the client."
    )
    wait_for(lambda: page.evaluate("window.probe.prop('title')") == "Shared notes", 20, "the refused title undone")
    page.evaluate("window.probe.set('notes', ['one', 'two'])")
    other = open_app(context, f"{server.url}board/?room={room}")
    wait_for(
        lambda: other.evaluate("window.docsync.getModelByName('board').get('notes')") == ["one", "two"],
        20,
        "the notes set in the probe's page",
    )
    assert other.evaluate("window.docsync.getModelByName('board').get('title')") == "Shared notes"
    assert page.evaluate("window.watched") == [2]  # watch() is told of the page's own change too
    assert errors == []
