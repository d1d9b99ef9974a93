"""HEAD is answered where a GET makes nothing; the pages that make a token refuse it (405).

HTTP servers must answer HEAD wherever they answer GET (RFC 9110 §9.1), and monitors and
link checkers send it: the index, the metadata and every static file answered 405. An
app's page and autoload.js each make a token (a Bokeh app's page makes its session), which
a HEAD would throw away: those still refuse it. Against real daphne and uvicorn processes:
the ASGI server sends the headers of the GET (its Content-Length too) and no body.
"""

from __future__ import annotations

import urllib.request

from .conftest import main_site_on_each_server
from .harness import Site

site = main_site_on_each_server("head-requests")

ANSWERED = (
    "",  # the index
    "docsync-client/embed.js",
    "rule_public/metadata",
    "rule_public/views.json?type=Div",
    "lifecycle/static/README.txt",
)
REFUSED = ("rule_public/", "rule_public/autoload.js?target=here")


def _head(site: Site, path: str) -> tuple[int, bytes, dict[str, str]]:
    browser = site.browser()
    request = urllib.request.Request(browser.base + path, method="HEAD")
    answer = browser._open(request)
    return answer.status, answer.body.encode(), answer.headers


def test_head_gets_the_headers_of_a_get_without_its_body(site: Site) -> None:
    for path in ANSWERED:
        got = site.browser().get(path)
        assert got.status == 200, path
        status, body, headers = _head(site, path)
        assert (status, body) == (200, b""), (path, status, body[:100])
        length = next(value for name, value in headers.items() if name.lower() == "content-length")
        assert int(length) == len(got.body.encode()), path
        content_type = next(value for name, value in headers.items() if name.lower() == "content-type")
        assert content_type == got.headers.get("Content-Type", got.headers.get("content-type")), path


def test_pages_that_make_a_token_refuse_head(site: Site) -> None:
    for path in REFUSED:
        status, _, headers = _head(site, path)
        assert status == 405, (path, status)
        allow = next(value for name, value in headers.items() if name.lower() == "allow")
        assert allow == "GET", path
