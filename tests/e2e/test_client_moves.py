"""A page's own code reorders and moves models the server made; the server's document and the other pages follow.

Chromium runs docsync's client; the room's app (``reorder_apps.cards_room``) holds its
cards. The page takes a card out of a Column and puts it back elsewhere with splices
(as code reordering children does), in one batch, and in two patches (the removal
answered before the insertion). The client used to define the card again, which the
server refused as a reserved id (ERROR `model id ... is reserved for the server's own
models`): the move was lost, and the page showed a document the server did not hold.
"""

from __future__ import annotations

import uuid
from typing import Any

from playwright.sync_api import BrowserContext, Page

from docsync.testing import ServerProcess

from . import reorder_apps  # noqa: F401  (its model type, for the Python client that pulls the room)
from .browser import open_app, page_document, python_document, settled, wait_for

MOVE_IN_ONE_BATCH = """() => {
  const board = window.docsync.getModelByName("board");
  const card = board.get("children")[0];
  board.splice("children", 0, 1, []);
  board.splice("children", 2, 0, [card]);  // card 0 last
}"""

TAKE_OUT = """() => {
  const board = window.docsync.getModelByName("board");
  window.movedCard = board.get("children")[0];
  board.splice("children", 0, 1, []);
}"""

PUT_ELSEWHERE = """() => {
  window.movedCard.set("value", "moved aside");  // written while out of the document
  window.docsync.getModelByName("aside").splice("children", 0, 0, [window.movedCard]);
}"""


def _names(page: Page, column: str) -> list[str]:
    script = f"window.docsync.getModelByName({column!r}).get('children').map((c) => c.get('name'))"
    return page.evaluate(script)  # type: ignore[no-any-return]


def _watch(page: Page) -> list[str]:
    logged: list[str] = []
    page.on("console", lambda message: logged.append(f"{message.type}: {message.text}"))
    return logged


def test_a_pages_reorder_of_server_made_children_reaches_the_server_and_the_other_pages(
    server: ServerProcess, context: BrowserContext
) -> None:
    room = uuid.uuid4().hex[:8]
    url = f"{server.url}cards_room/?room={room}"
    mover, watcher = open_app(context, url), open_app(context, url)
    logs = [_watch(mover), _watch(watcher)]

    mover.evaluate(MOVE_IN_ONE_BATCH)
    wait_for(lambda: settled(mover), 10, "the reorder to be answered")
    wait_for(lambda: _names(watcher, "board") == ["card 1", "card 2", "card 0"], 10, "the other page to see it")
    assert _names(mover, "board") == ["card 1", "card 2", "card 0"]
    assert python_document(url) == page_document(mover, server.url) == page_document(watcher, server.url)

    mover.evaluate(TAKE_OUT)
    wait_for(lambda: settled(mover), 10, "the removal to be answered")
    mover.evaluate(PUT_ELSEWHERE)
    wait_for(lambda: settled(mover), 10, "the insertion to be answered")
    wait_for(lambda: _names(watcher, "aside") == ["card 1"], 10, "the other page to see the card aside")
    text = "window.docsync.getModelByName('card 1').get('value')"
    wait_for(lambda: watcher.evaluate(text) == "moved aside", 10, "the text written while the card was out")
    server_document: Any = python_document(url)
    assert server_document == page_document(mover, server.url) == page_document(watcher, server.url)
    assert _names(mover, "board") == ["card 2", "card 0"]
    for logged in logs:
        assert [line for line in logged if "docsync" in line or "reserved" in line] == []
    assert mover.errors == [] and watcher.errors == []  # type: ignore[attr-defined]
