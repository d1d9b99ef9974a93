"""A page reads its query string's arguments only when it has a query string, and reads the same ones."""

from __future__ import annotations

from django.http import QueryDict
from django.test import RequestFactory

from docsync.views import _arguments, _has_query


def test_no_query_string_no_query_dict_and_no_arguments() -> None:
    request = RequestFactory().get("/sliders/")
    assert not _has_query(request) and _arguments(request, frozenset()) == {}
    assert "GET" not in request.__dict__


def test_a_query_string_s_arguments_as_before() -> None:
    request = RequestFactory().get("/sliders/?a=1&a=2&b=&session_id=s")
    assert _has_query(request)
    assert _arguments(request, frozenset({"session_id"})) == {"a": ["1", "2"], "b": [""]}


def test_a_query_dict_set_by_a_middleware_is_read() -> None:
    request = RequestFactory().get("/sliders/")
    request.GET = QueryDict("x=1")
    assert _has_query(request) and _arguments(request, frozenset()) == {"x": ["1"]}
