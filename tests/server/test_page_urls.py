"""The app page's URLs, reversed once per URLconf, script prefix and language, are what ``reverse`` gives."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import override_settings
from django.urls import get_script_prefix, reverse, set_script_prefix, set_urlconf

from docsync.views import _page_path


@pytest.fixture
def prefix() -> Iterator[None]:
    before = get_script_prefix()
    try:
        yield
    finally:
        set_script_prefix(before)
        set_urlconf(None)


def _pages() -> tuple[str, str]:
    return _page_path("sliders"), reverse("docsync:app", args=["sliders"])


def test_the_path_follows_the_script_prefix(prefix: None) -> None:
    for root in ("/", "/site/", "/other/", "/"):
        set_script_prefix(root)
        page, expected = _pages()
        assert page == expected == f"{root}sliders/"


def test_the_path_follows_the_urlconf_setting_and_a_request_s_own(prefix: None) -> None:
    assert _pages()[0] == "/sliders/"
    with override_settings(ROOT_URLCONF="tests.server.urls_mounted"):
        page, expected = _pages()
        assert page == expected == "/dash/sliders/"
    assert _pages()[0] == "/sliders/"
    set_urlconf("tests.server.urls_mounted")  # what a middleware setting request.urlconf does
    assert _pages()[0] == "/dash/sliders/"
    set_urlconf(None)
    assert _page_path("bench") == "/bench/"
