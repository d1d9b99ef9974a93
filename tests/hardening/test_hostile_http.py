"""Origins, token-carrying pages, the index, static names and the demo key (findings 6 and 7).

Against real servers: the shared test site (ALLOWED_HOSTS localhost and 127.0.0.1) and
one whose ALLOWED_HOSTS is ``['*']``. A refused websocket gets the ERROR ``origin not
allowed`` (code ``close-1008``) and close 1008; the session it aimed at is unharmed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from docsync.conf import DEFAULTS
from docsync.testing import ServerProcess

from .conftest import LIFETIME, MAX_PATCHES_PER_SECOND
from .harness import ROOT, Database, Site, expect_refusal, open_raw
from .hostile import Victim
from .settings import MAX_BUFFERS, MAX_FRAME_BYTES, MAX_MESSAGE_BYTES

POLICY = 1008


@pytest.fixture(scope="module")
def star_site(tmp_path_factory: pytest.TempPathFactory, database: Database) -> Iterator[Site]:
    """A site whose ALLOWED_HOSTS is ['*']."""
    site = Site(
        tmp_path_factory.mktemp("star"),
        database,
        DJANGO_ALLOWED_HOSTS="*",
        DOCSYNC_UNUSED_SESSION_LIFETIME=str(LIFETIME),
    )
    site.start()
    try:
        yield site
    finally:
        site.stop()


def _origins(site: Site) -> dict[str, str]:
    port = site.server.port
    return {
        "another port on the same host": f"http://127.0.0.1:{port + 1}",
        "another scheme": f"https://127.0.0.1:{port}",
        "another host": "http://evil.example",
        "null": "null",
    }


@pytest.mark.asyncio
@pytest.mark.parametrize("which", ["site", "star_site"])
async def test_only_the_page_s_own_origin_opens_a_websocket(request: pytest.FixtureRequest, which: str) -> None:
    site: Site = request.getfixturevalue(which)
    victim = await Victim.open(site)
    try:
        for what, origin in _origins(site).items():
            code, errors = await expect_refusal(victim.url, victim.config["token"], origin=origin)
            assert (code, errors) == (POLICY, ["origin not allowed"]), what
        own = await open_raw(victim.url, victim.config["token"], origin=f"http://127.0.0.1:{site.server.port}")
        assert own.messages[0].msgtype == "ACK"
        await own.close()
        await victim.assert_unharmed()
    finally:
        await victim.close()


def test_the_page_hands_the_server_s_wire_limits_to_its_client(site: Site) -> None:
    connection = site.browser().page_config("hostile")["connection"]
    wire = {"maxFrameBytes": MAX_FRAME_BYTES, "maxMessageBytes": MAX_MESSAGE_BYTES, "maxBuffers": MAX_BUFFERS}
    assert connection["receiverLimits"] == wire
    # And what it takes from clients: the client checks what it sends against them.
    assert connection["sendLimits"] == {
        **wire,
        "maxFrameContainers": DEFAULTS["MAX_FRAME_CONTAINERS"],
        "maxFrameValues": DEFAULTS["MAX_FRAME_VALUES"],
        "maxPatchesPerSecond": MAX_PATCHES_PER_SECOND,
    }


def test_token_carrying_responses_are_never_stored(site: Site) -> None:
    browser = site.browser()
    for path in ("hostile/", "hostile/autoload.js?target=here"):
        answer = browser.get(path)
        assert answer.status == 200 and '"token"' in answer.body, path
        assert "no-store" in answer.headers.get("Cache-Control", ""), (path, answer.headers)


def test_a_kept_client_module_is_answered_304_without_its_body(site: Site) -> None:
    # Every page view downloaded the whole client again (79 modules, 584 KB for sliders):
    # its files had no validator. They are asked again each time (no-cache: never an old
    # module beside new ones after an upgrade), and a kept one costs no body.
    browser = site.browser()
    first = browser.get("docsync-client/embed.js")
    assert first.status == 200 and "export" in first.body
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "no-cache" and first.headers.get("Last-Modified")
    kept = browser.get("docsync-client/embed.js", headers={"If-None-Match": etag})
    assert (kept.status, kept.body, kept.headers["ETag"]) == (304, "", etag)
    assert kept.headers["Cache-Control"] == "no-cache" and "Origin" in kept.headers.get("Vary", "")
    other = browser.get("docsync-client/embed.js", headers={"If-None-Match": '"0-0"'})
    assert other.status == 200 and other.body == first.body
    # Each file has its own validator.
    assert browser.get("docsync-client/model.js").headers["ETag"] != etag
    # Under the version an app page's import map names, a file is kept for good; under
    # another version (a page from before an upgrade) it is today's file, asked again.
    page = browser.get("hostile/")
    version = re.search(r'docsync-client/(v-[0-9a-f]{16})/"', page.body)
    assert page.status == 200 and version, page.body[:500]
    kept = browser.get(f"docsync-client/{version.group(1)}/embed.js")
    assert (kept.status, kept.body) == (200, first.body)
    assert kept.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    old = browser.get("docsync-client/v-0123456789abcdef/embed.js")
    assert (old.status, old.body, old.headers["Cache-Control"]) == (200, first.body, "no-cache")
    assert browser.get(f"docsync-client/{version.group(1)}/no-such.js").status == 404


def test_the_index_lists_only_what_the_visitor_may_open(site: Site) -> None:
    anonymous = site.browser().get("")
    alice = site.browser("alice").get("")
    assert anonymous.status == alice.status == 200
    for body, shown, hidden in [
        (anonymous.body, {"rule_public", "hostile"}, {"rule_login", "rule_staff", "rule_perm", "rule_dotted"}),
        (alice.body, {"rule_public", "rule_login", "rule_perm", "rule_dotted"}, {"rule_staff", "rule_callable"}),
    ]:
        assert all(f'href="/{app}/"' in body for app in shown), body
        assert not any(f'href="/{app}/"' in body for app in hidden), body
        # Nor the rules themselves: they describe the site's users and permissions.
        assert "login_required" not in body and "perm:" not in body and "callable" not in body
    # The anonymous visitor is told that signing in may show more, and where; alice is not.
    assert 'Signed-in users may see more: <a href="/accounts/login/?next=/">log in</a>.' in anonymous.body
    assert "Signed-in users may see more" not in alice.body


@pytest.mark.parametrize(
    "path",
    [
        "docsync-client/%00",
        "docsync-client/protocol.js%00.txt",
        "docsync-client/" + "a" * 300,
        "docsync-client/" + "a/" * 1000 + "x.js",
        "docsync-client/%2e%2e/%2e%2e/settings.py",
        "docsync-client/%C3%A9%CC%81.js",
        "lifecycle/static/%00",
        "lifecycle/static/" + "b" * 5000,
    ],
    ids=["NUL", "NUL inside", "long part", "long path", "dot-dot", "combining", "app NUL", "app long"],
)
def test_odd_static_names_answer_404(site: Site, path: str) -> None:
    answer = site.browser().get(path)
    assert answer.status == 404, (path[:60], answer.status, answer.body[:200])


def test_the_demo_refuses_to_start_with_debug_off_and_its_public_key(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SECRET_KEY"}
    env.update(DJANGO_SETTINGS_MODULE="project.settings", DJANGO_DEBUG="0")
    server = ServerProcess(cwd=ROOT, env=env, log_path=tmp_path / "demo.log")
    with pytest.raises(RuntimeError, match="server exited"):
        server.start(timeout=60)
    log = (tmp_path / "demo.log").read_text()
    assert "DJANGO_DEBUG=0 with the demo's public SECRET_KEY: set DJANGO_SECRET_KEY" in log
    # With a key of its own the same settings load: every test server runs them so.
