"""docs/extending.md's JavaScript view, as the page shows it, drawing the demo's board in Chromium.

The board's ``NoteBoard`` names the view module ``extensions/note_board.js``, as the
page's Python example does (tests/docs/test_extending_doc.py holds the two together).
Here the browser is served the page's own view for that module, instead of the shipped
one (which is this view with remove buttons and styling): the board must draw and edit
with it, the edit reaching the server and another page.
"""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import BrowserContext, Route, expect

from docsync.testing import ServerProcess
from tests.docs.blocks import block

from .browser import open_app, wait_for

_MODULE = re.compile(r".*/docsync-client/extensions/note_board\.js(\?.*)?$")


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
