"""The admin's live sessions, with real sessions open on a real server.

The list (columns, filters, search, sorting, freshness), the live detail page
(connections, document tree, callbacks), every action (notice, keep alive / allow
expiry, expire now, and the list actions), and who may see any of it.
"""

from __future__ import annotations

import asyncio
import html
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from docsync.client import ClientSession
from docsync.document.models import ColumnDataSource
from docsync.server.admin_support.session_detail import MAX_DESCRIBED, MODELS_PER_PAGE
from docsync.testing import EVENT_WAIT
from tests.hardening.harness import Browser, Database, Site, open_client, wait_until

from .conftest import CHANGELIST, LIFETIME, changelist_rows, live_url

USER_AGENT = "docsync-admin-test-agent/1.0"


class Sessions:
    """Clients this test opened, closed at its end."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.clients: list[ClientSession] = []

    async def open(self, app: str, user: str | None = None, agent: str = USER_AGENT) -> ClientSession:
        browser = await asyncio.to_thread(self.site.browser, user)
        config = await asyncio.to_thread(browser.page_config, app)
        client = await open_client(config, headers={**browser.cookie_header(), "User-Agent": agent})
        self.clients.append(client)
        return client

    async def close(self) -> None:
        for client in self.clients:
            await client.close()


@pytest_asyncio.fixture
async def sessions(admin_site: Site) -> AsyncIterator[Sessions]:
    opened = Sessions(admin_site)
    try:
        yield opened
    finally:
        await opened.close()


async def _rows(browser: Browser, query: str = "") -> list[dict[str, str]]:
    return await asyncio.to_thread(changelist_rows, browser, query)


async def _get(browser: Browser, path: str) -> Any:
    return await asyncio.to_thread(browser.get, path)


async def _post(browser: Browser, path: str, data: Any) -> Any:
    return await asyncio.to_thread(browser.post, path, data)


async def _listed(browser: Browser, *clients: ClientSession, query: str = "") -> dict[str, dict[str, str]]:
    """Wait until every client's session is in the list; return their rows by session id."""
    wanted = {c.id[:10]: c.id for c in clients}
    found: dict[str, dict[str, str]] = {}
    deadline = time.monotonic() + EVENT_WAIT
    while time.monotonic() < deadline:
        rows = {r["short_id"]: r for r in await _rows(browser, query)}
        found = {wanted[short]: rows[short] for short in wanted if short in rows}
        if len(found) == len(wanted):
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"sessions not listed after 10 s: {set(wanted) - {k[:10] for k in found}}")


@pytest.mark.asyncio
async def test_list_columns_filters_search_sorting_and_freshness(admin_site: Site, sessions: Sessions) -> None:
    sliders = await sessions.open("sliders")
    stream = await sessions.open("stream", user="alice")
    other = await sessions.open("sliders", user="bob")
    viewer = await asyncio.to_thread(admin_site.browser, "viewer")
    rows = await _listed(viewer, sliders, stream, other)

    page = (await _get(viewer, CHANGELIST)).body
    for column in ("app", "user_name", "process", "created_at", "active_at", "connections", "models_count"):
        assert f"column-{column}" in page, f"no {column} column"
    for column in ("messages", "traffic", "keep_alive", "snapshot"):
        assert f"column-{column}" in page, f"no {column} column"
    assert re.search(r"Data as of \d+\.\d s ago; each process reports every 0\.3 s\.", page)
    # Nothing is changed here in a form: the title does not ask to select one to change.
    assert "<title>Live sessions |" in page and "<h1>Live sessions</h1>" in page
    assert "to change" not in page

    row = rows[sliders.id]
    # No user: "anonymous", as the detail page says.
    assert (row["app"], row["user_name"], row["connections"]) == ("sliders", "anonymous", "1")
    assert row["models_count"] == str(len(sliders.document.models))
    # Figures in / out share a column: "1 / 2" messages, "216 bytes / 2.4 KB".
    messages_in, messages_out = (int(n.replace(",", "")) for n in row["messages"].split(" / "))
    assert messages_in >= 1 and messages_out >= 2
    bytes_in, bytes_out = row["traffic"].split(" / ")
    assert re.fullmatch(r"\d+\xa0bytes", bytes_in) and int(bytes_in.split("\xa0")[0]) > 0, bytes_in
    assert re.fullmatch(r"[\d.]+\xa0(bytes|KB|MB)", bytes_out) and bytes_out != "0\xa0bytes", bytes_out
    assert re.fullmatch(r"\d\d:\d\d:\d\d", row["created_at"]) and row["snapshot"] == "-"
    assert rows[stream.id]["user_name"] == "alice" and rows[other.id]["user_name"] == "bob"

    # Filters: by app, by user.
    assert {r["short_id"] for r in await _rows(viewer, "?app__exact=stream")} == {stream.id[:10]}
    by_app = {r["short_id"] for r in await _rows(viewer, "?app__exact=sliders")}
    assert by_app == {sliders.id[:10], other.id[:10]}
    assert {r["short_id"] for r in await _rows(viewer, "?user__exact=bob")} == {other.id[:10]}
    # Search by (part of) the id.
    assert [r["short_id"] for r in await _rows(viewer, f"?q={other.id[:14]}")] == [other.id[:10]]

    # Sorting by last activity: make the first session the most recently active.
    await asyncio.sleep(0.05)
    sliders.document.get_model_by_name("frequency").value = 2.5  # type: ignore[union-attr]
    await sliders.sync(EVENT_WAIT)

    mine = {c.id[:10] for c in sessions.clients}

    async def order(query: str) -> list[str]:
        return [r["short_id"] for r in await _rows(viewer, query) if r["short_id"] in mine]

    # Column 5 of the list is the last activity (0: the short id; the checkbox is not counted).
    newest_first, oldest_first = "?o=-5", "?o=5"
    for query, direction in ((newest_first, "descending"), (oldest_first, "ascending")):
        header = re.search(
            r'<th scope="col" class="([^"]*column-active_at[^"]*)"', (await _get(viewer, CHANGELIST + query)).body
        )
        assert header is not None and f"sorted {direction}" in header.group(1), (query, header)
    await wait_until_async(lambda: order(newest_first), lambda got: got[0] == sliders.id[:10], "newest activity first")
    assert (await order(oldest_first))[-1] == sliders.id[:10]
    # Touching another session moves it to the front.
    other.document.get_model_by_name("phase").value = 1.0  # type: ignore[union-attr]
    await other.sync(EVENT_WAIT)
    await wait_until_async(
        lambda: order(newest_first), lambda got: got[:2] == [other.id[:10], sliders.id[:10]], "re-sorted"
    )
    assert (await order(oldest_first))[-2:] == [sliders.id[:10], other.id[:10]]


def _user_filter(page: str) -> list[tuple[str, str, bool]]:
    """The "By user" filter's choices: (link, text, selected)."""
    block = re.search(r'<details data-filter-title="user"[^>]*>(.*?)</details>', page, re.S)
    assert block is not None, "no By user filter"
    choices = re.findall(r'<li( class="selected")?>\s*<a href="([^"]*)">([^<]*)</a>', block.group(1))
    return [(link, html.unescape(text).strip(), bool(selected)) for selected, link, text in choices]


@pytest.mark.asyncio
async def test_the_user_filter_names_anonymous_sessions_as_the_list_does(admin_site: Site, sessions: Sessions) -> None:
    anonymous = await sessions.open("sliders")
    bob = await sessions.open("sliders", user="bob")
    viewer = await asyncio.to_thread(admin_site.browser, "viewer")
    await _listed(viewer, anonymous, bob)

    # "anonymous", as in the user column, not a link with no text.
    choices = _user_filter((await _get(viewer, CHANGELIST)).body)
    assert ("?user=", "anonymous", False) in choices, choices
    assert ("?user=bob", "bob", False) in choices
    assert all(text for _, text, _ in choices), choices
    # With counts, "anonymous (n)".
    counted = _user_filter((await _get(viewer, CHANGELIST + "?_facets=True")).body)
    assert any(re.fullmatch(r"anonymous \(\d+\)", text) for _, text, _ in counted), counted
    # It filters: anonymous sessions only, and it is the selected choice.
    rows = await _rows(viewer, "?user=")
    assert anonymous.id[:10] in {r["short_id"] for r in rows} and bob.id[:10] not in {r["short_id"] for r in rows}
    assert {r["user_name"] for r in rows} == {"anonymous"}
    selected = [text for _, text, on in _user_filter((await _get(viewer, CHANGELIST + "?user=")).body) if on]
    assert selected == ["anonymous"]


async def wait_until_async(fetch: Any, check: Any, what: str, timeout: float = EVENT_WAIT) -> None:
    """Poll ``await fetch()`` until ``check(result)``; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = await fetch()
        if check(result):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}: {result}")
        await asyncio.sleep(0.1)


@pytest.mark.asyncio
async def test_detail_page_shows_connections_document_tree_and_callbacks(admin_site: Site, sessions: Sessions) -> None:
    sliders = await sessions.open("sliders", user="alice")
    await sessions.open("sliders", agent="a-second-tab/2.0")  # another session, not shown
    stream = await sessions.open("stream")
    viewer = await asyncio.to_thread(admin_site.browser, "viewer")
    await _listed(viewer, sliders, stream)

    # The admin's change view leads to the live page.
    change = await _get(viewer, f"{CHANGELIST}{sliders.id}/change/")
    assert change.status == 302 and change.location.endswith(live_url(sliders.id))

    page = await _get(viewer, live_url(sliders.id))
    assert page.status == 200
    body = page.body
    assert sliders.id in body and "alice" in body
    # Its breadcrumbs as the list's: Home, the app, Live sessions, then this one.
    crumbs = re.sub(r"\s+", " ", body.split('<div class="breadcrumbs">', 1)[1].split("</div>", 1)[0])
    expected = ' <a href="/admin/">Home</a> > <a href="/admin/docsync/">docsync live sessions</a> >'
    expected += f' <a href="/{CHANGELIST}">Live sessions</a> > {sliders.id[:10]} '
    assert crumbs == expected.replace(" > ", " \N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK} "), crumbs
    assert "Data as of" in body and "each process reports every" in body
    # Its connection: remote address and user agent.
    connections = _section(body, "connections")
    assert "127.0.0.1" in connections and USER_AGENT in connections
    assert "a-second-tab" not in connections and connections.count("<tr>") == 2  # header and one connection
    # The document tree: every model, its type and property values.
    tree = _section(body, "document-tree")
    for model in sliders.document.models.values():
        assert f"<strong>{model.__type_name__}</strong> <code>{model.id}</code>" in tree
    assert "Slider" in tree and "&#x27;frequency&#x27;" in tree and "<code>5.1</code>" in tree
    # The 200-point arrays are shown truncated.
    arrays = re.findall(r"ndarray float64\[200\] \[[^\]]*\]", tree)
    assert len(arrays) == 2 and all(a.endswith(", …]") and a.count(",") == 8 for a in arrays), arrays
    # Writable properties are marked.
    assert "value ✎" in tree
    assert "None." in _section(body, "callbacks")  # the sliders app schedules no callback

    # The stream app's periodic callback is listed.
    stream_page = (await _get(viewer, live_url(stream.id))).body
    callbacks = _section(stream_page, "callbacks")
    assert re.search(r"periodic 0\.1s: modify_doc\.&lt;locals&gt;\.tick", callbacks), callbacks

    # Times as the list writes them (24-hour hh:mm:ss), with their date.
    listed = (await _listed(viewer, sliders))[sliders.id]
    created = re.search(r"<th>Created</th><td>([^<]*)</td>", body)
    assert created is not None and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", created.group(1)), created
    assert created.group(1).endswith(" " + listed["created_at"])
    assert re.search(r"<td>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d</td>", connections)  # connected since
    anonymous = (await _get(viewer, live_url(stream.id))).body
    assert "<th>User</th><td>anonymous</td>" in anonymous and "a.m." not in anonymous

    # The viewer may look, not act.
    assert 'id="action-expire"' not in body
    refused = await _post(viewer, live_url(sliders.id), {"action": "notice", "text": "not allowed"})
    assert refused.status == 403
    assert not sliders.notices


@pytest.mark.asyncio
async def test_a_password_typed_into_a_session_is_hidden_from_the_admin(admin_site: Site, sessions: Sessions) -> None:
    """A PasswordInput's value was on the detail page, as typed, for any staff user allowed to view sessions."""
    gallery = await sessions.open("gallery")
    gallery.document.get_model_by_name("password").value = "hunter2-typed-secret"
    gallery.document.get_model_by_name("text").value = "Ada typed her name"
    await gallery.sync()
    viewer = await asyncio.to_thread(admin_site.browser, "viewer")
    await _listed(viewer, gallery)
    tree = _section((await _get(viewer, live_url(gallery.id))).body, "document-tree")
    model = r"<summary><strong>(\w+)</strong> <code>[^<]*</code>.*?</summary>(.*?)</details>"
    models = dict(re.findall(model, tree, re.S))
    # The app echoes it into a Div of its own (its choice): the model's own value is hidden.
    password = models["PasswordInput"]
    assert "hunter2" not in password, password
    assert "<tr><th>value ✎</th><td><code>(hidden: a secret, such as a password)</code></td></tr>" in password
    assert "&#x27;Password&#x27;" in password  # its other properties are shown
    assert "<tr><th>value ✎</th><td><code>&#x27;Ada typed her name&#x27;</code></td></tr>" in models["TextInput"]


def _nested(depth: int) -> Any:
    """Lists of 8 lists of 8 ... ``depth`` deep, of zeros: each list no longer than the page's cut of 8 items."""
    return 0 if depth == 0 else [_nested(depth - 1) for _ in range(8)]


@pytest.mark.asyncio
async def test_a_value_of_any_nesting_is_described_in_a_bounded_text(admin_site: Site, sessions: Sessions) -> None:
    """Each list was cut at 8 items and each item described whole: 8**6 zeros were all on the page.

    Measured on the demo (runserver): 30 such sources (20 MB) made a 23 MB page in 6.1 s,
    during which another session's round trip took 5.7 s; now 78 KB, 0.06 s and 0.02 s.
    """
    client = await sessions.open("sliders")
    # Within this site's 64 KiB frames: 16,384 zeros, 45 KB of JSON.
    client.document.add_root(ColumnDataSource(data={"n": [_nested(4)] * 4}))
    await client.sync()
    assert not client.changes_lost
    viewer = await asyncio.to_thread(admin_site.browser, "viewer")
    await _listed(viewer, client)
    page = (await _get(viewer, live_url(client.id))).body
    cells = [html.unescape(c) for c in re.findall(r"<tr><th>data ✎</th><td><code>(.*?)</code></td></tr>", page, re.S)]
    nested = [c for c in cells if c.startswith("{'n': [[[[")]
    assert len(nested) == 1, [c[:80] for c in cells]
    # Whole before: 53,839 characters.
    assert all(len(c) == MAX_DESCRIBED and c.endswith("…") for c in nested), [len(c) for c in nested]


def _models_on(page: str) -> list[str]:
    """The ids of the models a page's document tree shows."""
    return re.findall(r"<summary><strong>\w+</strong> <code>([^<]*)</code>", _section(page, "document-tree"))


@pytest.mark.asyncio
async def test_a_document_of_many_models_is_shown_a_page_at_a_time(admin_site: Site, sessions: Sessions) -> None:
    """Every model was described on one page: a visitor's 995 wide models made a 25 MB page.

    Measured (daphne, docsync's default limits): 24.8 MB in 1.36 s; now a page of 200 models.
    """
    client = await sessions.open("many_models")
    everyone = set(client.document.models)
    assert len(everyone) > 2 * MODELS_PER_PAGE
    viewer = await asyncio.to_thread(admin_site.browser, "viewer")
    await _listed(viewer, client)
    first = (await _get(viewer, live_url(client.id))).body
    assert f"Document: {len(everyone)} models" in first
    shown = _models_on(first)
    assert len(shown) == MODELS_PER_PAGE, len(shown)
    assert f"{len(everyone) - MODELS_PER_PAGE} more models not shown" in first
    pages = -(-len(everyone) // MODELS_PER_PAGE)
    assert f'<a href="?page={pages}">{pages}</a>' in first and '<span class="this-page">1</span>' in first
    # Every page in turn: each model on one page, once.
    seen = list(shown)
    for number in range(2, pages + 1):
        page = (await _get(viewer, live_url(client.id) + f"?page={number}")).body
        assert f'<span class="this-page">{number}</span>' in page
        seen += _models_on(page)
    assert sorted(seen) == sorted(everyone)
    # Past the last page: the last; not a number: the first.
    assert _models_on((await _get(viewer, live_url(client.id) + "?page=999")).body) == seen[-len(_models_on(page)) :]
    assert _models_on((await _get(viewer, live_url(client.id) + "?page=x")).body) == shown
    # The wide FileInput's properties past a model's share of a page are on its own page.
    wide = next(m for m in client.document.models.values() if m.__type_name__ == "FileInput")
    on = (await _get(viewer, live_url(client.id) + f"?page={seen.index(wide.id) // MODELS_PER_PAGE + 1}")).body
    cut = re.findall(r'(\d+) more properties not shown: <a href="\?model=([^"]+)">', on)
    assert [model for _, model in cut] == [wide.id], cut
    alone = (await _get(viewer, live_url(client.id) + f"?model={wide.id}")).body
    assert _models_on(alone) == [wide.id] and "more properties not shown" not in alone
    rows = re.findall(r"<tr><th>(\w+)", _section(alone, "document-tree"))
    assert rows == list(wide.properties())
    missing = (await _get(viewer, live_url(client.id) + "?model=nope")).body
    assert "The document holds no model <code>nope</code>" in missing and _models_on(missing) == shown


def _section(body: str, element_id: str) -> str:
    """The element with ``element_id`` (the document tree: up to the next heading)."""
    end = r"(?=<h2>|</body>)" if element_id == "document-tree" else r"</(table|ul|form)>"
    match = re.search(rf'id="{element_id}".*?{end}', body, re.S)
    assert match is not None, f"no #{element_id} on the page"
    return match.group(0)


@pytest.mark.asyncio
async def test_notice_is_shown_in_the_session(admin_site: Site, sessions: Sessions) -> None:
    client = await sessions.open("sliders")
    watcher = await open_client(client.config)  # a second tab of the same session
    sessions.clients.append(watcher)
    operator = await asyncio.to_thread(admin_site.browser, "operator")
    await _listed(operator, client)
    answer = await _post(operator, live_url(client.id), {"action": "notice", "text": "Maintenance at noon"})
    assert answer.status == 302 and answer.location.endswith(live_url(client.id))
    for tab in (client, watcher):
        await tab.wait_for(lambda t=tab: t.notices == [{"text": "Maintenance at noon"}], EVENT_WAIT)
    page = (await _get(operator, live_url(client.id))).body
    assert "Message sent." in page and "Maintenance at noon" in page
    # An empty message is not sent.
    await _post(operator, live_url(client.id), {"action": "notice", "text": "  "})
    # A notice sent after it arrives after it would have: the empty one was never sent.
    await _post(operator, live_url(client.id), {"action": "notice", "text": "Done"})
    await client.wait_for(lambda t=client: len(t.notices) == 2, EVENT_WAIT)
    assert client.notices == [{"text": "Maintenance at noon"}, {"text": "Done"}]
    assert not client.errors and client.close_code is None


@pytest.mark.asyncio
async def test_nothing_offers_to_edit_and_the_actions_are_admin_buttons(admin_site: Site, sessions: Sessions) -> None:
    client = await sessions.open("sliders")
    operator = await asyncio.to_thread(admin_site.browser, "operator")  # may act on sessions
    await _listed(operator, client)
    # The admin index offers to view live sessions, not to add or change one.
    index = (await _get(operator, "admin/")).body
    entry = re.search(r'<tr class="model-livesession[^"]*">.*?</tr>', index, re.S)
    assert entry is not None
    assert 'class="viewlink"' in entry.group(0) and ">View</a>" in entry.group(0)
    assert "changelink" not in entry.group(0) and "addlink" not in entry.group(0)
    # The detail page's actions: Django's submit buttons, in its submit row; Expire now is red.
    page = (await _get(operator, live_url(client.id))).body
    assert 'href="/static/admin/css/forms.css"' in page and 'href="/static/docsync/admin.css"' in page
    assert '<input type="submit" class="default" value="Send">' in _section(page, "action-notice")
    actions = re.search(r'<div class="submit-row docsync-actions">.*?</div>', page, re.S)
    assert actions is not None
    assert '<input type="submit" value="Keep from expiring">' in actions.group(0)
    assert '<input type="submit" class="docsync-danger" value="Expire now">' in actions.group(0)
    assert "<button" not in page.split("<h2>Actions</h2>")[1]


@pytest.mark.asyncio
async def test_keep_alive_stops_expiry_until_allowed_again(admin_site: Site, sessions: Sessions) -> None:
    kept = await sessions.open("sliders")
    control = await sessions.open("sliders")
    operator = await asyncio.to_thread(admin_site.browser, "operator")
    await _listed(operator, kept, control)
    answer = await _post(operator, live_url(kept.id), {"action": "keep_alive"})
    assert answer.status == 302
    await kept.close()
    await control.close()

    # The control session expires after LIFETIME; the kept one stays, with no connection.
    def rows() -> dict[str, dict[str, Any]]:
        return {r["session_id"]: r for r in admin_site.live_rows("sliders")}

    await wait_until(lambda: control.id not in rows(), 5 * LIFETIME + 5, "the control session to expire")
    await asyncio.sleep(2 * LIFETIME)
    assert kept.id in rows() and rows()[kept.id]["connections"] == 0 and rows()[kept.id]["keep_alive"]
    page = (await _get(operator, live_url(kept.id))).body
    assert "No connection: the session expires unless kept." in page and "Let it expire again" in page
    # Its document is still there: its token reattaches to it.
    rejoined = await open_client(kept.config)
    assert rejoined.document.get_model_by_name("frequency") is not None
    await rejoined.close()

    answer = await _post(operator, live_url(kept.id), {"action": "allow_expiry"})
    assert answer.status == 302
    await wait_until(lambda: kept.id not in rows(), 5 * LIFETIME + 5, "the released session to expire")
    # Its page says it ended, as an admin page (it answered a bare 404).
    gone = await _get(operator, live_url(kept.id))
    assert gone.status == 200 and "No process holds this session: it ended" in gone.body


@pytest.mark.asyncio
async def test_expire_now_closes_the_clients_and_removes_the_row(admin_site: Site, sessions: Sessions) -> None:
    doomed = await sessions.open("stream")
    other_tab = await open_client(doomed.config)
    sessions.clients.append(other_tab)
    bystander = await sessions.open("stream")
    operator = await asyncio.to_thread(admin_site.browser, "operator")
    await _listed(operator, doomed, bystander)
    answer = await _post(operator, live_url(doomed.id), {"action": "expire"})
    assert answer.status == 302 and answer.location.endswith(CHANGELIST)
    for tab in (doomed, other_tab):
        await tab.wait_for(lambda t=tab: t.close_code is not None, EVENT_WAIT)
        assert (tab.close_code, tab.close_reason) == (4001, "This session was ended by an administrator.")
        # The reason comes in an ERROR too (some servers drop close reasons), for the page to show.
        assert [e.content for e in tab.errors] == [
            {"text": "This session was ended by an administrator.", "code": "close-4001"}
        ]
    listed = {r["short_id"] for r in await _rows(operator)}
    assert doomed.id[:10] not in listed and bystander.id[:10] in listed

    # It stays gone (no later report brings it back: the bystander's row is reported twice
    # more meanwhile), and its page is gone.
    def reported() -> Any:
        return {r["session_id"]: r["reported"] for r in admin_site.live_rows()}.get(bystander.id)

    for _ in range(2):
        last = reported()
        await wait_until(lambda last=last: reported() != last, 30, "the next report")
    assert doomed.id not in {r["session_id"] for r in admin_site.live_rows()}
    # Its page says it ended, as an admin page (it answered a bare 404).
    gone = await _get(operator, live_url(doomed.id))
    assert gone.status == 200 and "No process holds this session: it ended" in gone.body
    assert bystander.close_code is None


@pytest.mark.asyncio
async def test_list_actions(admin_site: Site, sessions: Sessions) -> None:
    first, second, spared = [await sessions.open("sliders") for _ in range(3)]
    operator = await asyncio.to_thread(admin_site.browser, "operator")
    await _listed(operator, first, second, spared)
    chosen = [("_selected_action", first.id), ("_selected_action", second.id)]

    answer = await _post(operator, CHANGELIST, [("action", "keep_from_expiring"), ("index", "0"), *chosen])
    assert answer.status == 302
    rows = {r["session_id"]: r for r in admin_site.live_rows()}
    assert rows[first.id]["keep_alive"] and rows[second.id]["keep_alive"] and not rows[spared.id]["keep_alive"]
    answer = await _post(operator, CHANGELIST, [("action", "allow_expiring"), ("index", "0"), *chosen])
    assert answer.status == 302
    rows = {r["session_id"]: r for r in admin_site.live_rows()}
    assert not rows[first.id]["keep_alive"] and not rows[second.id]["keep_alive"]

    answer = await _post(operator, CHANGELIST, [("action", "expire_now"), ("index", "0"), *chosen])
    assert answer.status == 302
    for client in (first, second):
        await client.wait_for(lambda c=client: c.close_code == 4001, EVENT_WAIT)
    assert spared.close_code is None
    listed = {r["short_id"] for r in await _rows(operator)}
    assert first.id[:10] not in listed and second.id[:10] not in listed and spared.id[:10] in listed


@pytest.mark.asyncio
async def test_only_staff_with_the_permission_see_live_sessions(admin_site: Site, sessions: Sessions) -> None:
    client = await sessions.open("sliders")
    viewer = await asyncio.to_thread(admin_site.browser, "viewer")
    await _listed(viewer, client)
    # Staff without the permission: refused.
    staffer = await asyncio.to_thread(admin_site.browser, "staffer")
    assert (await _get(staffer, CHANGELIST)).status == 403
    assert (await _get(staffer, live_url(client.id))).status == 403
    assert (await _post(staffer, live_url(client.id), {"action": "expire"})).status == 403
    # Not staff, or not logged in: sent to the admin's login.
    for user in ("bob", None):
        browser = await asyncio.to_thread(admin_site.browser, user)
        for path in (CHANGELIST, live_url(client.id)):
            answer = await _get(browser, path)
            assert answer.status == 302 and answer.location.startswith("/admin/login/?next=/admin/"), (user, path)
    # The viewer may not act; nothing happened to the session.
    assert (await _post(viewer, live_url(client.id), {"action": "expire"})).status == 403
    client.document.get_model_by_name("frequency").value = 2.5  # type: ignore[union-attr]
    await client.sync(EVENT_WAIT)  # a round trip after the refusal: the session is still served
    assert client.close_code is None and client.id in {r["session_id"] for r in admin_site.live_rows()}


@pytest.mark.asyncio
async def test_an_expired_session_never_comes_back_to_the_list(admin_site: Site, sessions: Sessions) -> None:
    # The table is written from a snapshot in a worker thread; a write in flight when a
    # session is expired must not bring its row back after the admin removed it.
    clients = [await sessions.open("sliders") for _ in range(12)]
    operator = await asyncio.to_thread(admin_site.browser, "operator")
    await _listed(operator, *clients)
    back = []
    for client in clients:
        answer = await _post(operator, live_url(client.id), {"action": "expire"})
        assert answer.status == 302
        for _ in range(3):
            if client.id in {r["session_id"] for r in admin_site.live_rows()}:
                back.append(client.id[:10])
            await asyncio.sleep(0.02)
    assert not back, f"expired sessions listed again: {back}"


@pytest.mark.asyncio
async def test_a_killed_process_s_sessions_leave_the_list(
    tmp_path_factory: pytest.TempPathFactory, database: Database
) -> None:
    # A process killed outright (or runserver's child, replaced at each reload) cannot
    # remove its rows; the process after it writes the table only once it has a session
    # of its own. The list showed the dead process's sessions as live meanwhile, however
    # long it had been silent (seen: 41 s after a kill, PROCESS_TIMEOUT 15 s).
    site = Site(tmp_path_factory.mktemp("killed"), database, DOCSYNC_PROCESS_TIMEOUT="2")
    site.start()
    try:
        opened = Sessions(site)
        client = await opened.open("sliders")
        operator = await asyncio.to_thread(site.browser, "operator")
        await _listed(operator, client)
        site.server.kill()
        await asyncio.to_thread(site.restart)  # the same database, no session yet
        operator = await asyncio.to_thread(site.browser, "operator")
        await _until_unlisted(operator, client.id[:10])
        answer = await _get(operator, CHANGELIST)
        assert "No live sessions reported" in answer.body
        await opened.close()
    finally:
        site.stop()


async def _until_unlisted(browser: Browser, short_id: str) -> None:
    """Wait until the list no longer shows the session (well past PROCESS_TIMEOUT, 2 s, if it stays)."""
    shown: list[str] = []
    for _ in range(50):
        shown = [r["short_id"] for r in await _rows(browser)]
        if short_id not in shown:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"a session of a killed process still listed: {shown}")


@pytest.mark.asyncio
async def test_a_notice_past_its_bound_is_refused_not_cut(admin_site: Site, sessions: Sessions) -> None:
    client = await sessions.open("sliders")
    operator = await asyncio.to_thread(admin_site.browser, "operator")
    await _listed(operator, client)
    assert 'maxlength="500"' in (await _get(operator, live_url(client.id))).body
    # Past 500 characters: refused with the count (before: cut to 500 and "Message sent.").
    await _post(operator, live_url(client.id), {"action": "notice", "text": "x" * 501})
    page = (await _get(operator, live_url(client.id))).body
    assert "A message is at most 500 characters; this one has 501: not sent." in page
    assert "Message sent." not in page
    # 500 characters arrive whole, as text: markup is neither stripped nor escaped on the wire.
    text = "<b>bold</b> & " + "y" * 486
    assert len(text) == 500
    await _post(operator, live_url(client.id), {"action": "notice", "text": text})
    await client.wait_for(lambda: len(client.notices) >= 1, EVENT_WAIT)
    assert client.notices == [{"text": text}]
    # The admin lists it escaped, not as markup.
    page = (await _get(operator, live_url(client.id))).body
    assert "Message sent." in page and html.escape(text, quote=False) in page and "<b>bold</b>" not in page


@pytest.mark.asyncio
async def test_a_notice_to_a_session_that_ended_is_sent_nowhere_and_says_so(
    admin_site: Site, sessions: Sessions
) -> None:
    ended = await sessions.open("sliders")
    operator = await asyncio.to_thread(admin_site.browser, "operator")
    await _listed(operator, ended)
    await ended.close()  # its last tab: it expires after LIFETIME and leaves the list
    await wait_until(
        lambda: ended.id not in {r["session_id"] for r in admin_site.live_rows("sliders")},
        5 * LIFETIME + 5,
        "the session to end",
    )
    answer = await _post(operator, live_url(ended.id), {"action": "notice", "text": "Anyone there?"})
    assert answer.status == 200 and "The session is not live: nothing was done." in answer.body
    assert "Message sent." not in answer.body
