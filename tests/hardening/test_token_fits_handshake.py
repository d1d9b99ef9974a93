"""A page's token always fits the websocket handshake of the server docs/howto/deploying.md runs.

The token carries the page's query arguments (at most MAX_ARGUMENT_BYTES, 4096, as its
JSON holds them) and the request's headers and cookies a session may see, in the
``Sec-WebSocket-Protocol`` header, which uvicorn reads as one line of at most 8 KB. With
both near their limits, or headers of non-ASCII bytes (escaped to 6 bytes each in the
token's JSON), the page loaded and its socket was refused. Against a real uvicorn
serving a docsync app and a Bokeh app.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from .harness import Database, Site, page_config_of, running_site, token_payload
from .test_hostile_bokeh_http import _opens, _token_of

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")


@pytest.fixture(scope="module")
def uvicorn_site(tmp_path_factory: pytest.TempPathFactory, database: Database) -> Iterator[Site]:
    yield from running_site(
        tmp_path_factory,
        database,
        "token-handshake",
        server="uvicorn",
        DJANGO_SETTINGS_MODULE="tests.hardening.bokeh_settings",
    )


HEADERS = {
    # Near MAX_REQUEST_INFO_BYTES (4096) of names and values, ASCII.
    "ascii": {f"X-Note-{i}": "n" * 950 for i in range(4)},
    # Bytes above 0x7f: Django reads them as latin-1, one character each, which the
    # token's JSON escapes (\u00e9): 1,200 bytes of header made 7,200 bytes of token.
    "latin-1": {"X-Name": "\u00e9" * 1200},
}


@pytest.mark.parametrize("app", ["bk_sliders", "sliders"], ids=["bokeh", "docsync"])
@pytest.mark.parametrize("headers", sorted(HEADERS))
def test_a_token_with_the_longest_arguments_and_many_headers_opens_a_websocket(
    uvicorn_site: Site, app: str, headers: str
) -> None:
    browser = uvicorn_site.browser()
    value = "x" * 4000  # the arguments' JSON {"a":["x..."]} is 4,009 bytes: under the limit
    sent = HEADERS[headers]  # urllib sends them as latin-1 bytes, which Django reads back as latin-1
    answer = browser.get(f"{app}/?a={value}", headers=sent)
    assert answer.status == 200, (answer.status, answer.body[:200])
    token = _token_of(answer.body) if app.startswith("bk_") else page_config_of(answer.body)["token"]
    payload = token_payload(token)
    assert payload["args"] == {"a": [value]}
    # What the token holds of the headers is the first that fit, each whole.
    held = payload.get("hdr", {})
    assert all(held[name] == sent[name] for name in held if name in sent)
    assert asyncio.run(_opens(uvicorn_site, browser, app, token)), f"a {len(token)}-byte token did not open"
