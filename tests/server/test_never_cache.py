"""docsync's never_cache writes what Django's add_never_cache_headers writes, in the same order."""

from __future__ import annotations

import time

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils.cache import add_never_cache_headers

from docsync.views import _never_cache_headers, never_cache


def _headers(response: HttpResponse) -> list[tuple[str, str]]:
    return list(response.headers.items())


@pytest.mark.parametrize(
    "given",
    [{}, {"Cache-Control": "max-age=60, public"}, {"Expires": "Thu, 01 Jan 1970 00:00:00 GMT"}, {"X-Other": "1"}],
)
def test_the_headers_are_djangos(given: dict[str, str]) -> None:
    for _ in range(3):  # the first and the cached Expires of a second
        ours, django = HttpResponse("x", headers=given), HttpResponse("x", headers=given)
        second = int(time.time())
        _never_cache_headers(ours)
        add_never_cache_headers(django)
        if int(time.time()) == second:  # Expires is the time of the call, to the second
            assert _headers(ours) == _headers(django)
        assert [name for name, _ in _headers(ours)] == [name for name, _ in _headers(django)]


def test_the_decorator_checks_the_request_and_returns_the_views_response() -> None:
    @never_cache
    def view(request: object, value: str) -> HttpResponse:
        return HttpResponse(value)

    response = view(RequestFactory().get("/"), "body")
    assert response.content == b"body"
    assert "no-store" in response["Cache-Control"]
    with pytest.raises(TypeError, match="never_cache didn't receive an HttpRequest"):
        view(object(), "body")
