"""The HTTP side of Bokeh apps under hostile requests: autoload.js's target, static files.

Bokeh's autoload.js template writes its element id raw into a JavaScript string (its
warning when the element is missing): a ``?target=`` holding a quote ran script in the
page that embedded it, as Bokeh's own server does with ``bokeh-autoload-element``. And
BokehJS's static route answered 500 to a NUL or an over-long name, where docsync's
own static routes answer 404. A directory app's own ``static/`` folder was served
whatever the app's access rule. Against a real daphne serving the Bokeh gallery.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import urllib.parse
from typing import Any

import pytest
import websockets

from docsync.protocol import ACK, OK, new_message, pull_doc_req
from docsync.testing import RawSocket

from .harness import Browser, Site, token_payload

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")

NODE = shutil.which("node")

#: Runs an autoload.js in node with a document that has no element of that id and absorbs
#: everything else; prints whether the target ran script and what the warning said.
_RUNNER = r"""
const fs = require("fs");
const stub = new Proxy(function () {}, {
  get: (t, k) => (k === Symbol.toPrimitive ? () => "" : stub),
  apply: () => stub,
  construct: () => stub,
  set: () => true,
});
globalThis.window = globalThis;
globalThis.document = new Proxy({}, { get: (t, k) => (k === "getElementById" ? () => null : stub) });
const warnings = [];
console.warn = (...args) => warnings.push(args.join(" "));
console.debug = console.log = console.error = () => {};
try { eval(fs.readFileSync(0, "utf8")); } catch (e) { warnings.push("threw " + e); }
process.stdout.write(JSON.stringify({ pwned: globalThis.pwned === 1, warnings }));
"""

TARGETS = [
    'a"+(globalThis.pwned=1)+"',
    "a'\");}globalThis.pwned=1;if(0){//",
    "</script><script>globalThis.pwned=1</script>",
    'a\\"+(globalThis.pwned=1)+"\\',
    "x\u2028y\u2029z",
]


@pytest.fixture(scope="module")
def bokeh_site(shared_bokeh_site: Site) -> Site:
    return shared_bokeh_site  # this worker's, shared with the other modules on it


@pytest.mark.skipif(NODE is None, reason="node runs the scripts")
@pytest.mark.parametrize("app", ["bk_sliders", "sliders"], ids=["bokeh", "docsync"])
@pytest.mark.parametrize("target", TARGETS, ids=["quote", "block", "script", "backslash", "separators"])
def test_autoload_target_is_only_ever_an_element_id(bokeh_site: Site, app: str, target: str) -> None:
    answer = bokeh_site.browser().get(f"{app}/autoload.js?target={urllib.parse.quote(target)}")
    assert answer.status == 200, answer.body[:200]
    assert NODE is not None
    ran = subprocess.run([NODE, "-e", _RUNNER], input=answer.body, capture_output=True, text=True, timeout=60)
    result = json.loads(ran.stdout)
    assert result["pwned"] is False, (target, result)
    if app == "bk_sliders":  # the warning names the element as it was asked for
        assert result["warnings"] == [
            f"Bokeh: autoload.js configured with elementid '{target}' but no matching script tag was found."
        ], result


@pytest.mark.parametrize(
    "path",
    [
        "docsync-bokeh/static/%00",
        "docsync-bokeh/static/js/bokeh.min.js%00.txt",
        "docsync-bokeh/static/" + "a" * 300,
        "docsync-bokeh/static/js/" + "a/" * 1000 + "x.js",
        "docsync-bokeh/static/%2e%2e/%2e%2e/__init__.py",
        "docsync-bokeh/static/js",
    ],
    ids=["NUL", "NUL inside", "long part", "long path", "dot-dot", "directory"],
)
def test_odd_bokehjs_names_answer_404(bokeh_site: Site, path: str) -> None:
    answer = bokeh_site.browser().get(path)
    assert answer.status == 404, (path[:60], answer.status, answer.body[:200])
    assert bokeh_site.browser().get("docsync-bokeh/static/js/bokeh.min.js").status == 200


def test_a_restricted_apps_static_files_follow_its_access_rule(bokeh_site: Site) -> None:
    """A staff-only directory app's ``static/`` was served to anyone, its page and metadata to staff only."""
    path = "bk_lifecycle_staff/static/style.css"
    anonymous, alice, staffer = bokeh_site.browser(), bokeh_site.browser("alice"), bokeh_site.browser("staffer")
    refused = anonymous.get(path)
    assert refused.status == 302 and refused.location.endswith(f"login/?next=/{path}"), refused.status
    assert alice.get(path).status == 403
    served = staffer.get(path)
    assert served.status == 200 and served.body, served.status
    # The same file of the public app stays public.
    assert anonymous.get("bk_lifecycle/static/style.css").body == served.body


async def _bokeh_socket(site: Site, browser: Browser, app: str, token: str) -> RawSocket:
    url, headers = f"ws://{site.host}/{app}/ws", browser.cookie_header()
    sock = RawSocket(await websockets.connect(url, subprotocols=["bokeh", token], additional_headers=headers))  # type: ignore[list-item]
    assert (await sock.read_message()).msgtype == ACK
    return sock


async def _patched(site: Site, browser: Browser, app: str, token: str, events: list[dict[str, Any]]) -> None:
    """Send one PATCH-DOC as BokehJS would; it must be applied."""
    sock = await _bokeh_socket(site, browser, app, token)
    try:
        reply = await sock.request(new_message("PATCH-DOC", {"events": events}))
        assert reply.msgtype == OK, reply.content
    finally:
        await sock.close()


def _token_of(page: str) -> str:
    found = re.search(r'"token":\s*"([^"]+)"', page)
    assert found, "no Bokeh token in the page"
    return found.group(1)


@pytest.mark.parametrize(
    "root_id",
    ['x"><img src=x onerror="globalThis.pwned=1">', "</script><script>globalThis.pwned=1</script>"],
    ids=["attribute", "script"],
)
def test_a_root_a_browser_added_cannot_write_markup_into_the_page(bokeh_site: Site, root_id: str) -> None:
    """Bokeh's page template writes each root's id raw (``data-root-id``, and the roots' map in a script).

    A browser of a shareable session added a root under such an id; every user who
    opened the session's page (``?session_id=``) then ran its script.
    """
    attacker, reader = bokeh_site.browser(), bokeh_site.browser()
    token = _token_of(attacker.get("bk_board/").body)
    session_id = token_payload(token)["sid"]
    root = {"type": "object", "name": "Div", "id": root_id, "attributes": {"text": "plain text"}}

    event = {"kind": "RootAdded", "model": root}
    asyncio.run(_patched(bokeh_site, attacker, "bk_board", token, [event]))  # BokehJS may name its models so
    page = reader.get(f"bk_board/?session_id={session_id}")
    assert page.status == 200, page.body[:300]
    assert token_payload(_token_of(page.body))["sid"] == session_id, "the reader joined the shareable session"
    assert "pwned" not in page.body, page.body


def test_a_root_removed_by_a_browser_leaves_the_apps_page_served(bokeh_site: Site) -> None:
    """The lifecycle app's template places ``roots.controls``: with that root removed, its page answered 500.

    As in Bokeh, a browser may remove a root; the session's page (its user's, or every
    reader's of a shareable app) then holds the whole document in the default template.
    """
    browser = bokeh_site.browser()
    token = _token_of(browser.get("bk_lifecycle/").body)
    session_id = token_payload(token)["sid"]

    async def controls_id() -> str:
        sock = await _bokeh_socket(bokeh_site, browser, "bk_lifecycle", token)
        try:
            doc = (await sock.request(pull_doc_req())).content["doc"]
        finally:
            await sock.close()
        return next(str(root["id"]) for root in doc["roots"] if root["attributes"].get("name") == "controls")

    root_id = asyncio.run(controls_id())
    asyncio.run(
        _patched(bokeh_site, browser, "bk_lifecycle", token, [{"kind": "RootRemoved", "model": {"id": root_id}}])
    )
    page = browser.get(f"bk_lifecycle/?session_id={session_id}")
    assert page.status == 200, page.body[:300]
    assert token_payload(_token_of(page.body))["sid"] == session_id, "the page shows the same session"


async def _opens(site: Site, browser: Browser, app: str, token: str) -> bool:
    """Whether a websocket with ``token`` opens and is acknowledged (the token fits the handshake)."""
    url, headers = f"ws://{site.host}/{app}/ws", browser.cookie_header()
    protocol = "bokeh" if app.startswith("bk_") else "docsync"
    sock = RawSocket(await websockets.connect(url, subprotocols=[protocol, token], additional_headers=headers))  # type: ignore[list-item]
    try:
        return (await sock.read_message()).msgtype == ACK
    finally:
        await sock.close()


@pytest.mark.parametrize("app", ["bk_sliders", "sliders"], ids=["bokeh", "docsync"])
@pytest.mark.parametrize("page", ["{app}/?", "{app}/autoload.js?target=here&"], ids=["page", "autoload"])
def test_query_arguments_too_long_for_a_token_answer_400_naming_the_limit(
    bokeh_site: Site, app: str, page: str
) -> None:
    """A 12 KB argument made a 16 KB token, which daphne's handshake refused: the page loaded, its socket failed.

    The limit is MAX_ARGUMENT_BYTES (4096) of the arguments as the token's JSON holds
    them, on docsync's own pages as on Bokeh's; under it nothing changes.
    """
    browser, url = bokeh_site.browser(), page.format(app=app)
    for value in ["x" * 12_000, "\u00e9" * 1000]:  # 2000 bytes of UTF-8, but 6000 escaped in JSON
        answer = browser.get(url + "a=" + urllib.parse.quote(value))
        assert answer.status == 400, (answer.status, answer.body[:200])
        assert "over the limit of 4096 bytes" in answer.body, answer.body[:300]
        assert answer.headers["Content-Type"].startswith("text/plain"), answer.headers
    value = "x" * 3800  # under the limit: served as before, and its token opens a websocket
    answer = browser.get(url + "a=" + value + "&b=1&b=2")
    assert answer.status == 200, (answer.status, answer.body[:200])
    token = _token_of(answer.body)
    assert token_payload(token)["args"] == {"a": [value], "b": ["1", "2"]}
    assert asyncio.run(_opens(bokeh_site, browser, app, token))
