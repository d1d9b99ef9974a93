"""A site that mounts docsync under ``/dash/``: pages, websockets, custom views and template tags keep the prefix."""

from __future__ import annotations

from playwright.sync_api import BrowserContext, Page, expect

from docsync.testing import ServerProcess

from .browser import open_app, session_config, value, wait_for
from .conftest import SCREENSHOTS

SERVER_ENV = {"DJANGO_SETTINGS_MODULE": "tests.e2e.prefix_settings"}


def embedded(page: Page, selector: str, name: str, attr: str) -> object:
    return page.evaluate(
        "([s, n, a]) => document.querySelector(s).docsyncSession.getModelByName(n).get(a)", [selector, name, attr]
    )


def wait_live(page: Page, selector: str) -> None:
    page.wait_for_function(
        "(s) => document.querySelector(s)?.docsyncSession?.state === 'live'", arg=selector, timeout=15_000
    )


def test_pages_and_websockets_keep_the_prefix(server: ServerProcess, context: BrowserContext) -> None:
    # docsync takes /dash/ only: the site root is the site's own (here: nothing).
    assert server.get("")[0] == 404
    status, index = server.get("dash/")
    assert status == 200 and 'href="/dash/sliders/"' in index

    page = open_app(context, server.url + "dash/sliders/")
    config = session_config(page)
    assert config["wsUrl"] == f"ws://127.0.0.1:{server.port}/dash/sliders/ws"
    # The page lists no custom view modules: it asks for those its document holds.
    assert "viewModules" not in config and "NoteBoard" not in str(config)
    page.locator('[data-docsync-name="phase"] input').focus()
    page.keyboard.press("End")
    expect(page.locator('[data-docsync-name="status"]')).to_contain_text("phase changed from 0 to")
    assert page.errors == []  # type: ignore[attr-defined]

    # A custom model's view module, named relative to docsync's client, is found under the prefix too.
    board = open_app(context, server.url + "dash/board/?room=prefix")
    expect(board.locator(".ds-note-board")).to_be_visible()
    board.get_by_role("textbox", name="New note").fill("under a prefix")
    board.get_by_role("button", name="Add").click()
    expect(board.locator(".ds-note-board li")).to_have_count(2)
    wait_for(lambda: value(board, "board", "notes")[-1] == "under a prefix", 5, "the note in the document")
    board.screenshot(path=SCREENSHOTS / "prefix-board.png", full_page=True)
    assert board.errors == []  # type: ignore[attr-defined]


def test_template_tag_with_arguments_and_a_session_to_join(server: ServerProcess, context: BrowserContext) -> None:
    owner = open_app(context, server.url + "dash/sliders/")
    session_id = session_config(owner)["sessionId"]

    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{server.url}embeds/?session={session_id}")
    for selector in ("#with-arguments", "#first", "#second"):
        wait_live(page, selector)
    # The arguments reach the session's context; autoload.js's own "target" does not.
    expect(page.locator('#with-arguments [data-docsync-name="shown"]')).to_have_text(
        "arguments: [('colour', ['teal', 'coral']), ('size', ['3'])]"
    )
    # Both embeds joined the owner's session: a change in one shows in the other and in the owner's page.
    page.locator('#first [data-docsync-name="offset"] input').focus()
    page.keyboard.press("End")
    wait_for(lambda: embedded(page, "#second", "offset", "value") == 5.0, 5, "the second embed to follow")
    wait_for(lambda: value(owner, "offset", "value") == 5.0, 5, "the owner's page to follow")
    expect(page.locator('#second [data-docsync-name="status"]')).to_contain_text("offset changed from 0 to 5")
    page.screenshot(path=SCREENSHOTS / "template-tag-arguments.png", full_page=True)
    assert errors == []
