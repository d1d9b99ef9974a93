"""A browser may not put HTML or code into a Bokeh session that other users' pages show.

As in Bokeh, BokehJS lets any browser set any property: a PATCH-DOC that set a Div's
text to ``<img src=x onerror=...>``, a CustomJS's code, or attached a new CustomJS to a
model's ``js_property_callbacks`` ran that script in every other browser of the session.
Against a real daphne serving one board app (tests/bokeh/gallery/functions.py) four
ways: shared (``"shareable": True``), where alice's session is joined by bob's raw
websocket and each such patch is refused ``patch-refused`` and the document, pulled
afresh, is byte-identical, while what BokehJS itself sends (typed text with ``<`` in it,
table cells, slider values, plain text a CustomJS writes) is applied; shared with
``"client_html": True``, where the same patches are applied, as in Bokeh; and alice's
own (unshared), where her tab may write HTML and code as in Bokeh; and her own with
``"client_html": False``, where it may not. Beyond HTML, code and
offers, a shared session keeps nothing from a stranger: its roots and title are anyone's,
as in Bokeh (docs/bokeh.md).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
import websockets

from docsync.protocol import ERROR, OK, PULL_DOC_REPLY, Message, new_message, pull_doc_req
from docsync.testing import RawSocket

from .bokeh_tabs import definitions, named
from .harness import Browser, Site, token_payload

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")
pytestmark = pytest.mark.asyncio

_ids = itertools.count()
PAYLOAD = "<img src=x onerror=\"document.title='pwned'\">"


@pytest.fixture(scope="module")
def bokeh_site(shared_bokeh_site: Site) -> Site:
    return shared_bokeh_site  # this worker's, shared with the other modules on it


class BoardTab(RawSocket):
    """A raw connection, as BokehJS's, of a logged-in user to one session of a board app."""

    @classmethod
    async def join(cls, site: Site, app: str, browser: Browser, session_id: str | None = None) -> BoardTab:
        query = f"?session_id={session_id}" if session_id else ""
        page = browser.get(f"{app}/{query}")
        assert page.status == 200, page.body[:300]
        token = re.search(r'"token":\s*"([^"]+)"', page.body)
        assert token, "no Bokeh token in the page"
        if session_id is not None:
            assert token_payload(token.group(1))["session_id"] == session_id, "the page did not join the session"
        socket = await websockets.connect(
            f"ws://{site.host}/{app}/ws",
            subprotocols=["bokeh", token.group(1)],  # type: ignore[list-item]
            additional_headers=browser.cookie_header(),
            max_size=None,
        )
        tab = cls(socket)
        assert (await tab.read_message()).msgtype == "ACK"
        tab.session_id = token_payload(token.group(1))["session_id"]
        return tab

    session_id: str = ""

    async def document(self) -> tuple[str, dict[str, Any]]:
        """The document as a pull carries it: its content frame's text, and its JSON."""
        reply = await self.request(pull_doc_req())
        assert reply.msgtype == PULL_DOC_REPLY, reply.content
        return reply.to_frames()[2], reply.content["doc"]  # type: ignore[return-value]

    async def patch(self, events: list[dict[str, Any]]) -> Message:
        return await self.request(new_message("PATCH-DOC", {"events": events}))


Board = tuple[BoardTab, BoardTab, dict[str, Any]]


@pytest_asyncio.fixture
async def board(bokeh_site: Site) -> AsyncIterator[Board]:
    """Alice's session of the shared board, her tab and bob's (joined by its id), and the document's JSON."""
    alice = await BoardTab.join(bokeh_site, "bk_board", bokeh_site.browser("alice"))
    bob = await BoardTab.join(bokeh_site, "bk_board", bokeh_site.browser("bob"), alice.session_id)
    try:
        yield alice, bob, (await alice.document())[1]
    finally:
        await alice.close()
        await bob.close()


def changed(model_id: str, attr: str, new: Any) -> dict[str, Any]:
    return {"kind": "ModelChanged", "model": {"id": model_id}, "attr": attr, "new": new}


def new_model(name: str, **attributes: Any) -> dict[str, Any]:
    return {"type": "object", "name": name, "id": f"client-{next(_ids)}", "attributes": attributes}


def script(code: str = "document.title = 'pwned'") -> dict[str, Any]:
    return new_model("CustomJS", code=code, args=mapping())


def mapping(*entries: Any) -> dict[str, Any]:
    """A dict as Bokeh's JSON writes it."""
    return {"type": "map", "entries": list(entries)}


def hostile(doc: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """(what the refusal names, a patch that carries HTML or code) for the board's document."""
    note, para, level = named(doc, "note"), named(doc, "para"), named(doc, "level")
    echo, board, hover = named(doc, "echo"), named(doc, "board"), named(doc, "hover")
    go, tap, choices = named(doc, "go"), named(doc, "tap"), named(doc, "choices")
    column, template, plain = named(doc, "label_column"), named(doc, "template"), named(doc, "plain")
    return [
        ("Div.text", [changed(note, "text", PAYLOAD)]),
        # Paragraph text is HTML too once it holds TeX (BokehJS's process_tex).
        ("Paragraph.text", [changed(para, "text", f"$$x$$ {PAYLOAD}")]),
        ("Div.render_as_text", [changed(plain, "render_as_text", False)]),
        ("CustomJS.code", [changed(echo, "code", "document.title = 'pwned'")]),
        (
            "Slider.js_property_callbacks",
            [changed(level, "js_property_callbacks", mapping(["change:value", [script()]]))],
        ),
        ("Button.js_event_callbacks", [changed(go, "js_event_callbacks", mapping(["button_click", [{"id": echo}]]))]),
        ("TapTool.callback", [changed(tap, "callback", script())]),
        ("HoverTool.tooltips", [changed(hover, "tooltips", "@label{safe}")]),
        ("HTMLTemplateFormatter.template", [changed(template, "template", f"<%= value %>{PAYLOAD}")]),
        ("Div.html_attributes", [changed(note, "html_attributes", mapping(["onmouseover", "alert(1)"]))]),
        ("MultiChoice.options", [changed(choices, "options", ["a", PAYLOAD])]),
        ("TableColumn.title", [changed(column, "title", PAYLOAD)]),
        # New models that carry HTML or code, wherever they are attached.
        ("Div.text", [changed(board, "children", [{"id": note}, new_model("Div", text=PAYLOAD)])]),
        ("CustomJS", [{"kind": "RootAdded", "model": script()}]),
        ("OpenURL", [changed(tap, "callback", new_model("OpenURL", url="javascript:alert(1)"))]),
        # A later event of the patch: nothing of it is applied.
        ("Div.text", [changed(level, "value", 7), changed(note, "text", PAYLOAD)]),
    ]


async def test_html_and_code_from_another_browser_are_refused(board: Board) -> None:
    alice, bob, doc = board
    before, _ = await alice.document()
    for why, events in hostile(doc):
        reply = await bob.patch(events)
        assert reply.msgtype == ERROR, f"accepted: {events}"
        assert reply.content["code"] == "patch-refused", reply.content
        assert why in reply.content["text"] and "client_html" in reply.content["text"], reply.content
    # Pulled once (pulls per second are bounded): no refused patch changed anything.
    assert (await alice.document())[0] == before, "a refused patch changed the document"


async def test_what_bokehjs_sends_is_applied_in_a_shared_session(board: Board) -> None:
    alice, bob, doc = board
    rows, note, entry, level = named(doc, "rows"), named(doc, "note"), named(doc, "entry"), named(doc, "level")
    accepted = [
        [changed(entry, "value", "a <b> & <img src=x>")],  # typed into a TextInput
        [changed(entry, "value_input", "<3")],
        [{"kind": "ColumnsPatched", "model": {"id": rows}, "attr": "data", "patches": {"label": [[0, "<i>x</i>"]]}}],
        [changed(level, "value", 4)],
        [changed(note, "text", "level 4 & rising")],  # what the app's own CustomJS writes: no markup
        [{"kind": "TitleChanged", "title": "board & co"}],
    ]
    for events in accepted:
        reply = await bob.patch(events)
        assert reply.msgtype == OK, (events, reply.content)
    _, after = await alice.document()
    attributes = {d["id"]: d.get("attributes", {}) for d in definitions(after)}
    assert attributes[entry]["value"] == "a <b> & <img src=x>"
    assert attributes[note]["text"] == "level 4 & rising"


async def test_a_stranger_may_change_the_structure_of_a_shared_bokeh_session(bokeh_site: Site) -> None:
    # Unlike docsync's own dialect (tests/hardening/test_shared_structure.py): a Bokeh
    # session keeps no structure from those who join it, as docs/bokeh.md says (the
    # roots and title alone could not keep the page the app's: a layout's children do the same).
    alice = await BoardTab.join(bokeh_site, "bk_board", bokeh_site.browser("alice"))
    stranger = await BoardTab.join(bokeh_site, "bk_board", bokeh_site.browser(), alice.session_id)
    try:
        _, doc = await alice.document()
        board = named(doc, "board")
        sign = new_model("Div", text="this board is closed")
        events = [
            {"kind": "RootRemoved", "model": {"id": board}},
            {"kind": "RootAdded", "model": sign},
            {"kind": "TitleChanged", "title": "closed"},
        ]
        reply = await stranger.patch(events)
        assert reply.msgtype == OK, reply.content
        _, after = await alice.document()
        assert after["title"] == "closed"
        assert [root["id"] for root in after["roots"]] == [sign["id"]]
    finally:
        await alice.close()
        await stranger.close()


#: Where HTML and code are taken, what another rule still refuses: a MultiChoice's options
#: are what it offers, which no code of the app's changes (docs/bokeh.md, "What a widget offers").
_TAKEN = {"MultiChoice.options": ERROR}


async def test_an_app_that_opts_in_takes_html_and_code_as_bokeh_does(bokeh_site: Site) -> None:
    alice = await BoardTab.join(bokeh_site, "bk_board_html", bokeh_site.browser("alice"))
    bob = await BoardTab.join(bokeh_site, "bk_board_html", bokeh_site.browser("bob"), alice.session_id)
    try:
        _, doc = await alice.document()
        for why, events in hostile(doc)[:-1]:
            reply = await bob.patch(events)
            assert reply.msgtype == _TAKEN.get(why, OK), (events, reply.content)
        _, after = await alice.document()
        assert any(d.get("attributes", {}).get("text") == PAYLOAD for d in definitions(after))
    finally:
        await alice.close()
        await bob.close()


async def test_a_users_own_session_takes_html_and_code_as_bokeh_does(bokeh_site: Site) -> None:
    browser = bokeh_site.browser("alice")
    alice = await BoardTab.join(bokeh_site, "bk_board_own", browser)
    other_tab = await BoardTab.join(bokeh_site, "bk_board_own", browser, alice.session_id)
    try:
        _, doc = await alice.document()
        # What a CustomJS in her page may do: write HTML, change code, attach new callbacks.
        for why, events in hostile(doc)[:-1]:
            reply = await alice.patch(events)
            assert reply.msgtype == _TAKEN.get(why, OK), (events, reply.content)
        _, after = await other_tab.document()
        assert any(d.get("attributes", {}).get("text") == PAYLOAD for d in definitions(after))
        # Bob cannot join it (it is not shareable): his page gets a session of his own.
        page = bokeh_site.browser("bob").get(f"bk_board_own/?session_id={alice.session_id}")
        token = re.search(r'"token":\s*"([^"]+)"', page.body)
        assert token and token_payload(token.group(1))["session_id"] != alice.session_id
    finally:
        await alice.close()
        await other_tab.close()


async def test_an_app_may_refuse_html_and_code_in_every_session(bokeh_site: Site) -> None:
    # "client_html": False: even a user's own session (anonymous visitors count as one user).
    alice = await BoardTab.join(bokeh_site, "bk_board_strict", bokeh_site.browser("alice"))
    try:
        before, doc = await alice.document()
        reply = await alice.patch(hostile(doc)[0][1])
        assert reply.msgtype == ERROR and "Div.text" in reply.content["text"], reply.content
        assert (await alice.document())[0] == before
    finally:
        await alice.close()
