"""An app's page built from cached parts around its configuration is the text Django's render of app.html gives."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.shortcuts import render
from django.test import RequestFactory, override_settings
from django.utils.html import json_script

from docsync.views import _app_html, _config_script


def _context(app: str, title: str, token: str) -> dict[str, Any]:
    config = {"app": app, "token": token, "clientBase": "http://testserver/docsync-client/", "note": "</script><b>&"}
    return {
        "app": app,
        "title": title,
        "config_json": "{}",
        "config": config,
        "client_base": config["clientBase"],
        "nonce": "0123",
    }


def _request() -> Any:
    request = RequestFactory().get("/sliders/")
    request.user = AnonymousUser()
    return request


@pytest.mark.parametrize("title", ["Sliders", 'a "title" </title><script>x</script> & more'])
def test_the_page_is_the_rendered_template_for_every_visit(title: str) -> None:
    for token in ("first-token", "second-token", "third-token"):
        context = _context("sliders", title, token)
        expected = render(_request(), "docsync/app.html", context).content
        page = _app_html(_request(), context)
        assert page.content == expected and token.encode() in page.content
        assert page.status_code == 200 and page["Content-Type"] == "text/html; charset=utf-8"


def test_a_site_s_own_app_template_is_rendered_as_usual(tmp_path: Path) -> None:
    (tmp_path / "docsync").mkdir()
    (tmp_path / "docsync" / "app.html").write_text("site page {{ nonce }} {{ config.token }}", encoding="utf-8")
    templates = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]
    with override_settings(TEMPLATES=templates):
        for token in ("one", "two"):
            assert _app_html(_request(), _context("sliders", "t", token)).content == f"site page 0123 {token}".encode()


def test_a_site_s_own_base_template_is_rendered_as_usual(tmp_path: Path) -> None:
    (tmp_path / "docsync").mkdir()
    (tmp_path / "docsync" / "base.html").write_text("{{ nonce }}{% block body %}{% endblock %}", encoding="utf-8")
    templates = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]
    with override_settings(TEMPLATES=templates):
        page = _app_html(_request(), _context("sliders", "t", "tok")).content.decode()
        assert page.startswith("0123") and '"token": "tok"' in page


@pytest.mark.parametrize(
    "config",
    [
        {"token": "t", "note": "</script><b>&'\"", "n": [1, 2.5, None, True], "é": "ünï \u2028"},
        {"when": dt.datetime(2026, 12, 4, 21, 0, 0, 1234), "big": 10**20, "nan": float("nan")},
    ],
)
def test_the_configuration_script_is_json_script_s(config: dict[str, Any]) -> None:
    assert _config_script(config) == json_script(config, "docsync-config")
