"""A page whose change runs a callback that attaches a model twice and moves a held one: the page takes every patch.

The callback (``tests.apps_shared.reattach``) attaches a new Div, detaches it, changes it
and attaches it again, then moves a Div the page holds and changes it on the way. Its
changes used to reach the page as one PATCH-DOC defining the new Div twice, which the
page's client refused ("cannot apply the server's patch: duplicate model id") and pulled
the whole document again; they now come as several positions (docs/protocol.md §9).
"""

from __future__ import annotations

from playwright.sync_api import BrowserContext

from docsync.testing import ServerProcess

from .browser import open_app, settled, wait_for


def test_the_page_applies_the_patches_of_a_callback_that_attaches_a_model_twice(
    server: ServerProcess, context: BrowserContext
) -> None:
    page = open_app(context, server.url + "reattach/")
    logged: list[str] = []
    page.on("console", lambda message: logged.append(f"{message.type}: {message.text}"))
    applied = page.evaluate("window.docsync.connection.lastSeq")
    page.evaluate("window.docsync.getModelByName('slider').set('value', 5)")
    wait_for(lambda: settled(page), 10, "the change to be answered and its callback's changes in")

    def text(name: str) -> str | None:
        return page.evaluate(f"window.docsync.getModelByName({name!r})?.get('text') ?? null")  # type: ignore[no-any-return]

    wait_for(lambda: text("kept") == "kept 5", 10, "the callback's changes")
    assert text("note 5") == "changed while detached 5"
    children = page.evaluate("window.docsync.getModelByName('root').get('children').map((c) => c.get('name'))")
    assert children == ["note 5", "slider", "kept"]
    # Several positions for one callback: the page took each of them, and pulled nothing.
    assert page.evaluate("window.docsync.connection.lastSeq") >= applied + 3
    assert [line for line in logged if "docsync" in line] == []
    assert page.errors == []  # type: ignore[attr-defined]
