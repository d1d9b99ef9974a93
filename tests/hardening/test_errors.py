"""Errors sent to clients carry no traceback or server path unless DEBUG is on."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from docsync.server.admission.tokens import generate_session_id

from .harness import ROOT, Site, mint_token, open_raw

SERVER_ERROR = 1011
LEAKS = ("Traceback", 'File "', str(ROOT), ".py")


def _leaks(text: str) -> list[str]:
    return [marker for marker in LEAKS if marker in text]


def _token(site: Site, app: str) -> str:
    """The page's token; a failed app's page shows its error instead, so one is signed."""
    if app == "broken":
        return mint_token(generate_session_id(), app, None)
    return str(site.browser().page_config(app)["token"])


#: app -> what the server log says of its failure
FAILURES = {"failing": "modify_document fails on purpose", "broken": "this application module is broken on purpose"}


async def _refusal(site: Site, app: str) -> tuple[int | None, list[dict[str, Any]]]:
    sock = await open_raw(site.ws_url(app), _token(site, app))
    code = (await sock.until_closed()).code
    return code, [m.content for m in sock.messages]


@pytest.mark.parametrize("app", sorted(FAILURES))
def test_application_error_on_the_websocket_without_debug(site: Site, app: str) -> None:
    code, contents = asyncio.run(_refusal(site, app))
    assert code == SERVER_ERROR
    assert contents == [{"text": "application error", "code": "close-1011"}]
    assert FAILURES[app] in site.log_text(), "the server log keeps the detail"


@pytest.mark.parametrize("app", sorted(FAILURES))
def test_application_error_on_the_websocket_with_debug(debug_site: Site, app: str) -> None:
    code, contents = asyncio.run(_refusal(debug_site, app))
    assert code == SERVER_ERROR and len(contents) == 1
    text, detail = contents[0]["text"], contents[0]["detail"]
    assert text.startswith("application error: ") and FAILURES[app] in text
    assert detail.startswith("Traceback (most recent call last):") and FAILURES[app] in detail
    assert ("tests/apps_shared.py" if app == "failing" else "tests/hardening/broken_app.py") in detail


def test_failing_page_without_debug(site: Site) -> None:
    answer = site.browser().get("broken/")
    assert answer.status == 500
    assert "The server log has the details" in answer.body
    assert not _leaks(answer.body), _leaks(answer.body)
    assert "broken on purpose" not in answer.body
    assert "broken on purpose" in site.log_text()


def test_failing_page_with_debug(debug_site: Site) -> None:
    answer = debug_site.browser().get("broken/")
    assert answer.status == 500
    assert "this application module is broken on purpose" in answer.body
    assert "Traceback" in answer.body and "broken_app.py" in answer.body


def test_django_errors_without_debug_show_no_detail(site: Site) -> None:
    # A missing app and a bad admin object id: Django's own pages, DEBUG off.
    browser = site.browser()
    for path in ("no_such_app/", "no_such_app/metadata", "docsync-client/../../settings.py"):
        answer = browser.get(path)
        assert answer.status == 404
        assert not _leaks(answer.body), (path, _leaks(answer.body))
