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
from .test_resume import ProxyThread

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


# The page's sockets drop what arrives while ``window.deaf`` is set: an answer lost with
# the connection, after the server applied the patch.
DEAFENED_SOCKETS = """(() => {
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    set onmessage(handler) {
      super.onmessage = handler && ((event) => { if (!window.deaf) handler(event); });
    }
    get onmessage() { return super.onmessage; }
  };
})();"""

ADD_OWN_CARD = """async () => {
  const { Model } = await import("/docsync-client/model.js");  // (the page's own copy: its import map)
  window.deaf = true;
  window.ownCard = new Model("TextInput", { id: "page-card", attributes: { value: "mine" } });
  window.docsync.document.addRoot(window.ownCard);
}"""

PUT_BACK_OFFLINE = """() => {
  const document = window.docsync.document;
  document.removeRoot(window.ownCard);
  window.ownCard.set("value", "written while out");  // no event: it is in no document
  document.addRoot(window.ownCard);
}"""

MOVE_ASIDE = """() => {
  const card = window.docsync.document.getModelById("page-card");
  window.docsync.document.removeRoot(card);
  window.docsync.getModelByName("aside").splice("children", 0, 0, [card]);
}"""


def _names(page: Page, column: str) -> list[str]:
    script = f"window.docsync.getModelByName({column!r}).get('children').map((c) => c.get('name') ?? c.id)"
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


def test_a_pages_put_back_of_its_own_card_across_a_resume_is_not_refused(
    server: ServerProcess, context: BrowserContext
) -> None:
    room = uuid.uuid4().hex[:8]
    proxy = ProxyThread(server.port)
    try:
        context.add_init_script(DEAFENED_SOCKETS)
        url = f"{proxy.url}cards_room/?room={room}"
        page, other = open_app(context, url), open_app(context, f"{server.url}cards_room/?room={room}")
        page.evaluate("() => { window.errors = []; window.docsync.onError((e) => window.errors.push(e.text)); }")
        page.evaluate(ADD_OWN_CARD)
        # The server applied it (the other page sees the card); its answer was not heard.
        arrived = "Boolean(window.docsync.document.getModelById('page-card'))"
        wait_for(lambda: other.evaluate(arrived), 10, "the card to arrive")
        assert not settled(page)
        assert proxy.cut(block=True) >= 1
        page.wait_for_function("window.docsync.state === 'reconnecting'", timeout=10_000)
        page.evaluate("window.deaf = false")
        page.evaluate(PUT_BACK_OFFLINE)  # queued while the patch defining the card is unanswered
        other.evaluate(MOVE_ASIDE)  # the other page's move of the card wins
        wait_for(lambda: settled(other), 10, "the move to be answered")
        proxy.unblock()
        wait_for(lambda: settled(page), 20, "the page to resume and its put-back to be answered")
        wait_for(lambda: settled(other), 10, "the other page to settle")
        # (It defined the card again: ERROR "duplicate model id 'page-card'", the patch refused.)
        assert page.evaluate("window.errors") == []
        assert _names(other, "aside") == ["page-card"]
        wait_for(lambda: _names(page, "aside") == ["page-card"], 10, "the page to show the move that won")
        assert python_document(url) == page_document(page, proxy.url) == page_document(other, server.url)
        assert page.errors == [] and other.errors == []  # type: ignore[attr-defined]
    finally:
        proxy.close()


# The page's sockets keep what arrives while ``window.held`` is set, and hand it over in
# order on ``window.release()``: a message delayed on its way, as a slow network does.
HELD_SOCKETS = """(() => {
  const Native = window.WebSocket;
  const held = [];
  window.release = () => { window.held = false; for (const deliver of held.splice(0)) deliver(); };
  window.WebSocket = class extends Native {
    set onmessage(handler) {
      super.onmessage = handler && ((event) => {
        if (window.held) held.push(() => handler(event));
        else handler(event);
      });
    }
    get onmessage() { return super.onmessage; }
  };
})();"""

REORDER = """() => {
  const board = window.docsync.getModelByName("board");
  const [a, b, c] = board.get("children");
  board.set("children", [b, a, c]);
}"""

LAST_SEQ = "window.docsync.connection.lastSeq"


def test_a_pages_change_of_a_card_it_took_out_holds_when_a_correction_defines_the_card_again(
    server: ServerProcess, context: BrowserContext
) -> None:
    # The scenario of tests/sync/test_client_moves_server_models.py's last case, in
    # Chromium: bob's splice of the board, made before he heard carol's reorder, loses;
    # its correction (to every page) defines the board's cards with the server's values.
    # Alice, who has not heard it yet, changes card 1 (in flight) and takes it out
    # (queued); the server applies her change after the correction; then she hears the
    # correction, which defines card 1 anew, with its old value. She kept "card 1" for
    # good while the server and the other pages had "alice's".
    room = uuid.uuid4().hex[:8]
    url = f"{server.url}cards_room/?room={room}"
    context.add_init_script(HELD_SOCKETS)
    alice, bob, carol = open_app(context, url), open_app(context, url), open_app(context, url)
    bob.evaluate("window.held = true")
    carol.evaluate(REORDER)
    wait_for(lambda: settled(carol), 10, "carol's reorder to be answered")
    wait_for(lambda: _names(alice, "board") == ["card 1", "card 0", "card 2"], 10, "alice to see the reorder")
    alice.evaluate("window.held = true")
    seen = carol.evaluate(LAST_SEQ)
    bob.evaluate("() => window.docsync.getModelByName('board').splice('children', 2, 1, [])")  # loses
    wait_for(lambda: carol.evaluate(LAST_SEQ) > seen, 10, "the correction of bob's splice to reach carol")
    alice.evaluate("() => window.docsync.getModelByName('card 1').set('value', \"alice's\")")

    def applied() -> bool:
        models = python_document(url)["models"].values()
        return any(m["attributes"].get("value") == "alice's" for m in models)

    wait_for(applied, 10, "the server to apply alice's change")
    alice.evaluate(  # taken out while the change is unanswered: it waits
        "() => { const board = window.docsync.getModelByName('board'); board.splice('children', 0, 1, []); }"
    )
    assert not settled(alice)
    alice.evaluate("window.release()")
    bob.evaluate("window.release()")
    wait_for(lambda: all(settled(page) for page in (alice, bob, carol)), 10, "every page to settle")
    server_document: Any = python_document(url)
    assert _names(alice, "board") == ["card 1", "card 0", "card 2"]  # (the removal lost to the correction)
    assert alice.evaluate("window.docsync.getModelByName('card 1').get('value')") == "alice's"  # (it kept "card 1")
    assert server_document == page_document(alice, server.url) == page_document(bob, server.url)
    assert server_document == page_document(carol, server.url)
    assert alice.errors == [] and bob.errors == [] and carol.errors == []  # type: ignore[attr-defined]
