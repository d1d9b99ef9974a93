"""Script one browser sends does not run in another user's BokehJS tab of a shared session.

The board app (tests/bokeh/gallery/functions.py) served ``"shareable": True``: a victim's
Chromium tab shows a session; an attacker's page joins it by ``?session_id=`` and speaks
Bokeh's protocol on a raw websocket with that page's token, as any browser's devtools
can. Before docsync refused HTML and code from browsers in such sessions, the attacker's
``Div.text = "<img src=x onerror=...>"`` reached the victim's tab, and a new CustomJS
attached to the Div's ``js_property_callbacks`` ran there at the next change of its text.
Now both patches are refused, the victim's tab never sees them (nor does a tab that opens
the session afterwards), while the attacker's plain text and the app's own CustomJS keep
working; with ``"client_html": True`` the app takes HTML as Bokeh does; and a user's own
(unshared) session takes what a CustomJS in their page writes, HTML and new callbacks
included.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
import urllib.request
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets
from playwright.sync_api import BrowserContext

from docsync.protocol import ERROR, OK, new_message, pull_doc_req
from docsync.testing import RawSocket, ServerProcess
from tests.hardening.bokeh_tabs import named

from .bokeh_page import BokehPage, session_of
from .conftest import start_server

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")

#: Records, in the page, every text the Div "note" takes and whether any script of the attacker ran.
_WATCH = """() => {
  const note = Bokeh.documents[0].get_model_by_name("note");
  window.__texts = [];
  note.connect(note.properties.text.change, () => window.__texts.push(note.text));
}"""


@pytest.fixture(scope="module")
def server(workdir: Path, database: str) -> Iterator[ServerProcess]:
    process = start_server(workdir, database, "bokeh_html", DJANGO_SETTINGS_MODULE="tests.hardening.bokeh_settings")
    yield process
    process.stop()


def _run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    # Playwright's sync API holds this thread's event loop: the raw socket gets its own.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result(timeout=60)


def _attacker_token(server: ServerProcess, app: str, session_id: str) -> str:
    """The token of the attacker's own page of ``session_id`` (a shareable app's page joins it)."""
    with urllib.request.urlopen(f"{server.url}{app}/?session_id={session_id}", timeout=20) as answer:
        html = answer.read().decode()
    assert session_of(html) == session_id, "the attacker's page did not join the session"
    token = re.search(r'"token":\s*"([^"]+)"', html)
    assert token is not None
    return token.group(1)


async def _attack(url: str, token: str, patches: list[Any]) -> list[Any]:
    """Send each patch (a function of the pulled document's JSON) and return the replies."""
    socket = await websockets.connect(url, subprotocols=["bokeh", token], max_size=None)  # type: ignore[list-item]
    tab = RawSocket(socket)
    try:
        assert (await tab.read_message()).msgtype == "ACK"
        doc = (await tab.request(pull_doc_req())).content["doc"]
        replies = []
        for make in patches:
            replies.append(await tab.request(new_message("PATCH-DOC", {"events": make(doc)})))
        return replies
    finally:
        await tab.close()


def _text(value: str) -> Any:
    return lambda doc: [{"kind": "ModelChanged", "model": {"id": named(doc, "note")}, "attr": "text", "new": value}]


def _attach_script(doc: dict[str, Any]) -> list[dict[str, Any]]:
    script = {
        "type": "object",
        "name": "CustomJS",
        "id": "attacker-js",
        "attributes": {"code": "window.__pwned = 'customjs'"},
    }
    callbacks = {"type": "map", "entries": [["change:text", [script]]]}
    return [
        {"kind": "ModelChanged", "model": {"id": named(doc, "note")}, "attr": "js_property_callbacks", "new": callbacks}
    ]


PAYLOAD = "<img src=x onerror=\"window.__pwned = 'img'\">"


def test_another_browsers_script_never_reaches_the_victim(context: BrowserContext, server: ServerProcess) -> None:
    victim = BokehPage.open(context, server, "bk_board")
    victim.page.evaluate(_WATCH)
    assert victim.session is not None
    token = _attacker_token(server, "bk_board", victim.session)
    url = server.url.replace("http", "ws", 1) + "bk_board/ws"
    replies = _run(_attack(url, token, [_text(PAYLOAD), _attach_script, _text("plain words")]))
    assert [r.msgtype for r in replies] == [ERROR, ERROR, OK], [r.content for r in replies]
    assert "Div.text" in replies[0].content["text"] and "client_html" in replies[0].content["text"]
    assert "js_property_callbacks" in replies[1].content["text"]
    victim.until(lambda: victim.js("note", "m.text") == "plain words", "the attacker's plain text")
    assert victim.page.evaluate("window.__texts") == ["plain words"]  # the HTML never arrived
    assert victim.page.evaluate("window.__pwned") is None
    assert victim.python("note", "text") == "plain words"
    # A tab that opens the session afterwards finds nothing of it either.
    later = BokehPage.open(context, server, "bk_board", f"?session_id={victim.session}")
    assert later.session == victim.session
    assert later.js("note", "m.text") == "plain words"
    assert later.js("note", "Object.keys(m.js_property_callbacks)") == []
    # The app's own CustomJS (slider -> note) still writes its text, and the server takes it.
    victim.js("level", "(m.value = 4, true)")
    victim.until(lambda: victim.python("note", "text") == "level 4", "the app's CustomJS write")
    later.until(lambda: later.js("note", "m.text") == "level 4", "the other tab to hear it")
    assert victim.page.evaluate("window.__pwned") is None and later.page.evaluate("window.__pwned") is None
    assert victim.errors == [] and later.errors == []


def test_an_app_that_opts_in_shows_another_browsers_html(context: BrowserContext, server: ServerProcess) -> None:
    victim = BokehPage.open(context, server, "bk_board_html")
    assert victim.session is not None
    token = _attacker_token(server, "bk_board_html", victim.session)
    url = server.url.replace("http", "ws", 1) + "bk_board_html/ws"
    replies = _run(_attack(url, token, [_text('<b id="bold">bold</b>')]))
    assert [r.msgtype for r in replies] == [OK], [r.content for r in replies]
    victim.until(lambda: victim.page.locator("b#bold").count() == 1, "the HTML drawn, as Bokeh draws it")


def test_a_users_own_session_takes_what_their_customjs_writes(context: BrowserContext, server: ServerProcess) -> None:
    page = BokehPage.open(context, server, "bk_board_own")
    page.js("note", "(m.text = '<b id=\"mine\">mine</b>', true)")
    page.until(lambda: page.python("note", "text") == '<b id="mine">mine</b>', "the HTML at the server")
    attach = """(() => {
      const CustomJS = Bokeh.Models.get("CustomJS");
      m.js_property_callbacks = {"change:text": [new CustomJS({code: "window.__ran = true"})]};
      return true;
    })()"""
    page.js("note", attach)
    page.until(lambda: "change:text" in str(page.python("note", "js_property_callbacks")), "the callback at the server")
    assert page.errors == []
