"""session_context.request: the page request's headers and cookies, chosen by the settings, credentials out."""

from __future__ import annotations

import ast
import asyncio
import json
from typing import Any

import pytest
from django.test import RequestFactory, override_settings

from docsync.client import ClientSession
from docsync.server.admission.request_info import MAX_REQUEST_INFO_BYTES, MAX_TOKEN_REQUEST_BYTES, request_info
from docsync.testing import EVENT_WAIT

from .clients import ServerUnderTest
from .settings import DOCSYNC

HEADERS = {
    "HTTP_X_TEAM": "blue",
    "HTTP_ACCEPT_LANGUAGE": "fr",
    "HTTP_AUTHORIZATION": "Bearer secret",
    "HTTP_COOKIE": "theme=dark; sessionid=s3cret; csrftoken=c5rf; docsync_visitor=v1:sig; tracking=1",
}


def _info(**settings: Any) -> dict[str, dict[str, str]]:
    request = RequestFactory().get("/sliders/", **HEADERS)
    with override_settings(DOCSYNC={**DOCSYNC, **settings}):
        return request_info(request, {})


def test_by_default_every_header_and_cookie_but_credentials() -> None:
    info = _info()
    assert info["headers"]["X-Team"] == "blue" and info["headers"]["Accept-Language"] == "fr"
    assert "Authorization" not in info["headers"] and "Cookie" not in info["headers"]
    assert info["cookies"] == {"theme": "dark", "tracking": "1"}  # no session, CSRF or visitor cookie


def test_include_and_exclude_as_bokeh_does() -> None:
    info = _info(INCLUDE_HEADERS=["x-team"], EXCLUDE_COOKIES=["tracking"])
    assert info == {"headers": {"X-Team": "blue"}, "cookies": {"theme": "dark"}}
    # A credential comes only when named.
    assert _info(INCLUDE_COOKIES=["sessionid"])["cookies"] == {"sessionid": "s3cret"}
    assert _info(EXCLUDE_HEADERS=[])["headers"]["Authorization"] == "Bearer secret"


def _json_bytes(info: dict[str, dict[str, str]]) -> int:
    """Bytes of the headers and cookies as the token's JSON holds them (each entry with its ":" and ",")."""
    return sum(len(json.dumps(k)) + len(json.dumps(v)) + 2 for part in info.values() for k, v in part.items())


@pytest.mark.parametrize("value", ["v" * 1000, "\u00e9" * 300, 'say "hi"\\' * 100], ids=["ascii", "latin-1", "escaped"])
def test_what_a_token_carries_is_bounded_as_its_json_holds_it(value: str) -> None:
    request = RequestFactory().get("/sliders/", **{f"HTTP_X_BIG_{n}": value for n in range(10)})
    info = request_info(request, {})
    assert _json_bytes(info) <= MAX_REQUEST_INFO_BYTES
    assert 0 < len(info["headers"]) < 10
    assert all(v == value for k, v in info["headers"].items() if k.startswith("X-Big"))


def test_the_arguments_come_first_in_a_tokens_budget() -> None:
    request = RequestFactory().get("/sliders/", **{f"HTTP_X_BIG_{n}": "v" * 300 for n in range(20)})
    arguments = {"a": ["x" * 4000]}
    info = request_info(request, arguments)
    size = len(json.dumps(arguments, separators=(",", ":")))
    assert 0 < _json_bytes(info) <= MAX_TOKEN_REQUEST_BYTES - size < MAX_REQUEST_INFO_BYTES
    assert _json_bytes(request_info(request, {})) > MAX_TOKEN_REQUEST_BYTES - size  # without them: more


@pytest.mark.asyncio
async def test_the_session_sees_the_page_requests_headers_and_cookies(server: ServerUnderTest) -> None:
    from docsync.client import fetch_page_config

    headers = {"X-Team": "blue", "Authorization": "Bearer secret", "Cookie": "theme=dark; sessionid=nope"}
    config = await asyncio.to_thread(lambda: fetch_page_config(f"{server.url}request_echo/?n=3", headers=headers))
    session = ClientSession(config)
    await asyncio.wait_for(session.connect(), EVENT_WAIT)
    try:
        shown = ast.literal_eval(session.document.get_model_by_name("shown").text)
    finally:
        await session.close()
    assert shown == {
        "team": "blue",
        "authorization": None,
        "cookies": {"theme": "dark"},
        "arguments": {"n": ["3"]},
        "as_keys": ["arguments", "cookies", "headers", "path", "user"],
    }


def test_the_headers_read_from_meta_are_djangos_request_headers() -> None:
    meta = {
        **HEADERS,
        "CONTENT_TYPE": "text/plain",
        "CONTENT_LENGTH": "0",
        "HTTP_": "nameless",
        "HTTP_X_DUP": "first",
        "HTTP_x_dup": "second",
        "SERVER_NAME": "not a header",
    }
    fresh, made = RequestFactory().get("/sliders/", **meta), RequestFactory().get("/sliders/", **meta)
    assert list(made.headers.items())  # made first: read from the mapping
    assert "headers" not in fresh.__dict__
    with override_settings(DOCSYNC={**DOCSYNC, "EXCLUDE_HEADERS": []}):
        from_meta, from_mapping = request_info(fresh, {}), request_info(made, {})
    assert "headers" not in fresh.__dict__  # the token did not make them
    assert list(from_meta["headers"].items()) == list(from_mapping["headers"].items())
    assert list(from_meta["headers"].items()) == list(made.headers.items())
