"""An app's page built from cached parts around its configuration is the text Django's render of app.html gives."""

from __future__ import annotations

import datetime as dt
import json
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


def _lean_context(token: str) -> dict[str, Any]:
    """What app_page hands ``_app_html``: no ``config_json`` or ``nonce`` (the cached parts read neither)."""
    context = _context("sliders", "t", token)
    del context["config_json"], context["nonce"]
    return context


def test_the_cached_page_needs_no_json_copy_or_nonce() -> None:
    context = _lean_context("tok")
    expected = render(_request(), "docsync/app.html", {**context, "config_json": "x", "nonce": "y"}).content
    assert _app_html(_request(), context).content == expected
    assert set(context) == {"app", "title", "config", "client_base"}  # left as it was


def test_a_site_s_own_app_template_gets_the_configuration_json_and_a_fresh_nonce(tmp_path: Path) -> None:
    (tmp_path / "docsync").mkdir()
    (tmp_path / "docsync" / "app.html").write_text("{{ nonce }}|{{ config_json|safe }}", encoding="utf-8")
    templates = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]
    with override_settings(TEMPLATES=templates):
        pages = [_app_html(_request(), _lean_context("tok")).content.decode() for _ in range(2)]
    nonces = [page.split("|")[0] for page in pages]
    assert all(len(nonce) == 16 and int(nonce, 16) >= 0 for nonce in nonces) and nonces[0] != nonces[1]
    assert [json.loads(page.split("|", 1)[1]) for page in pages] == [_lean_context("tok")["config"]] * 2
