"""autoload.js answers only pages whose origin a websocket would be let in from (either dialect).

Its script starts with the app's configuration, token included, and the page that runs
it can read that configuration (it hooks ``Promise.prototype.then`` before the script
runs and hands the script's callback a module of its own: checked in Chromium, a page
of another port of the same host read a logged-in user's token). The token carries the
user's pk (or the browser's visitor id) and the request's headers and cookies the site
lets through; a browser sends ``SameSite=Lax`` cookies with a script request from any
page of the same site (another port, another subdomain). Such a page's websocket is
refused anyway, so it was handed its visitor's identity for nothing.

A browser tells the page's origin by ``Origin``, else ``Referer``, and whether it is
another origin by ``Sec-Fetch-Site``. Against real daphne processes: a site listing one
other origin, logged-in user alice, and the Bokeh dialect's shared site.

And every answer whose ``Access-Control-Allow-Origin`` depends on the request's ``Origin``
says ``Vary: Origin``, for shared caches.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .harness import Browser, Database, Site, running_site, token_payload

LISTED = "https://blog.example.com"
APP = "rule_login"  # alice may open it; its token names her pk


@pytest.fixture(scope="module")
def listing_site(tmp_path_factory: pytest.TempPathFactory, database: Database) -> Iterator[Site]:
    """The main test site, with one other origin in ``ALLOWED_ORIGINS``."""
    yield from running_site(tmp_path_factory, database, "autoload-origins", DOCSYNC_ALLOWED_ORIGINS=LISTED)


@pytest.fixture(scope="module")
def alice(listing_site: Site) -> Browser:
    return listing_site.browser("alice")


def _other_port(site: Site) -> str:
    return f"http://127.0.0.1:{site.server.port + 1}"


def _refused_pages(site: Site) -> dict[str, tuple[dict[str, str], str]]:
    """What a browser sends for a ``<script src>`` of a page that may not embed: headers, and the refusal's reason."""
    other = _other_port(site)
    return {
        "another port of the same host (same site)": (
            {"Sec-Fetch-Site": "same-site", "Referer": f"{other}/page.html"},
            f"the page's origin {other} is not in",
        ),
        "another site": (
            {"Sec-Fetch-Site": "cross-site", "Referer": "https://evil.example/x?y=1"},
            "the page's origin https://evil.example is not in",
        ),
        "another site hiding its page (no-referrer)": (
            {"Sec-Fetch-Site": "cross-site"},
            "the page sends no Referer naming an origin, so its origin cannot be checked",
        ),
        "a module script of another site": (
            {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
            "the page's origin https://evil.example is not in",
        ),
        "a sandboxed frame": ({"Sec-Fetch-Site": "cross-site", "Origin": "null"}, "the page's origin null is not in"),
        "an old browser (no Sec-Fetch-Site) on another site": (
            {"Referer": "http://evil.example/"},
            "the page's origin http://evil.example is not in",
        ),
    }


def test_a_page_of_an_unlisted_origin_is_refused_and_gets_no_token(listing_site: Site, alice: Browser) -> None:
    for what, (headers, reason) in _refused_pages(listing_site).items():
        answer = alice.get(f"{APP}/autoload.js?target=here", headers=headers)
        assert answer.status == 403, f"{what}: {answer.status} {answer.body[:300]}"
        assert answer.headers["Content-Type"] == "text/javascript", what
        assert answer.body.startswith(f'console.error("docsync: autoload.js of {APP} refused: {reason}'), what
    # The browser runs none of it and its console shows only the 403: the server's log says why.
    log = listing_site.log_text()
    for what, (_headers, reason) in _refused_pages(listing_site).items():
        assert f"docsync: autoload.js of {APP} refused: {reason}" in log, what
        assert "token" not in answer.body and "sessionId" not in answer.body, what
        # Nothing was made for the page: no visitor cookie either.
        assert "docsync_visitor" not in answer.headers.get("Set-Cookie", ""), what


def test_the_site_s_own_pages_listed_origins_and_non_browsers_still_get_their_token(
    listing_site: Site, alice: Browser
) -> None:
    own = f"http://{listing_site.host}"
    allowed = {
        "the site's own page": {"Sec-Fetch-Site": "same-origin", "Referer": f"{own}/report/"},
        "the site's own page, by Referer alone": {"Referer": f"{own}/report/"},
        "a listed origin": {"Sec-Fetch-Site": "cross-site", "Referer": f"{LISTED}/post/1"},
        "a listed origin's module script": {"Sec-Fetch-Site": "cross-site", "Origin": LISTED},
        "a client that is no browser": {},
    }
    for what, headers in allowed.items():
        answer = alice.get(f"{APP}/autoload.js?target=here", headers=headers)
        assert answer.status == 200, f"{what}: {answer.status} {answer.body[:300]}"
        token = answer.body.split('"token":"', 1)[1].split('"', 1)[0]
        assert token_payload(token)["uid"] == str(listing_site.user_ids["alice"]), what


def test_the_bokeh_dialect_s_autoload_is_held_to_the_same_rule(shared_bokeh_site: Site) -> None:
    browser = shared_bokeh_site.browser()
    other = _other_port(shared_bokeh_site)
    refused = browser.get("bk_sliders/autoload.js?target=here", {"Sec-Fetch-Site": "same-site", "Referer": other})
    assert refused.status == 403, refused.body[:300]
    assert refused.body.startswith(
        f"console.error(\"docsync: autoload.js of bk_sliders refused: the page's origin {other} is not in"
    )
    assert "token" not in refused.body
    own = browser.get("bk_sliders/autoload.js?target=here", {"Sec-Fetch-Site": "same-origin"})
    assert own.status == 200 and '"token"' in own.body.replace('\\"', '"')


def _vary(headers: dict[str, str]) -> set[str]:
    return {name.strip().lower() for name in headers.get("Vary", "").split(",") if name.strip()}


def test_every_answer_a_listed_origin_may_read_varies_by_origin(listing_site: Site, alice: Browser) -> None:
    """Also the answer to a request without ``Origin`` (Fetch, "CORS protocol and HTTP caches").

    Without it an nginx ``proxy_cache`` in front kept BokehJS's answer to a request
    without ``Origin`` (``public, max-age=3600``) and gave it, without
    ``Access-Control-Allow-Origin``, to a listed page's request (X-Cache: HIT).
    """
    paths = ("docsync-client/embed.js", f"{APP}/views.json?type=Div", f"{APP}/autoload.js?target=here")
    for path in paths:
        plain = alice.get(path)
        assert plain.status == 200 and "Access-Control-Allow-Origin" not in plain.headers, path
        assert "origin" in _vary(plain.headers), f"{path}: Vary {plain.headers.get('Vary')!r}"
        listed = alice.get(path, headers={"Origin": LISTED})
        assert listed.status == 200 and listed.headers["Access-Control-Allow-Origin"] == LISTED, path
        assert "origin" in _vary(listed.headers), path


def test_bokehjs_files_vary_by_origin(shared_bokeh_site: Site) -> None:
    answer = shared_bokeh_site.browser().get("docsync-bokeh/static/js/bokeh.min.js")
    assert answer.status == 200 and answer.headers["Cache-Control"] == "public, max-age=3600"
    assert "origin" in _vary(answer.headers), answer.headers.get("Vary")
