"""An anonymous visitor's Bokeh sessions are its own browser's (docs/bokeh.md, *Pages and embedding*).

Against a real daphne serving the Bokeh test gallery, with one cookie jar per browser:
``?session_id=`` on the app's page, or on its autoload.js (the template tag's
``session_id=``), rejoins a session of the same browser, and gives another browser a
session of its own; so does a session a view made with ``make_session`` (kept in the
browser's Django session, as the view's response set no docsync cookie).
"""

from __future__ import annotations

import re

import pytest

from .harness import Browser, Site, token_payload

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")

APP = "bk_sliders"


def _session_of(answer_body: str) -> str:
    found = re.search(r'"token":\s*"([^"]+)"', answer_body)
    assert found, "no Bokeh token in the answer"
    return str(token_payload(found.group(1))["session_id"])


def _page(browser: Browser, query: str = "") -> str:
    answer = browser.get(f"{APP}/{query}")
    assert answer.status == 200, answer.status
    return _session_of(answer.body)


def _autoload(browser: Browser, session_id: str) -> str:
    answer = browser.get(f"{APP}/autoload.js?target=here&session_id={session_id}")
    assert answer.status == 200, answer.status
    return _session_of(answer.body)


def test_a_page_session_is_rejoined_by_its_browser_only(shared_stock_bokeh_site: Site) -> None:
    mine, other = shared_stock_bokeh_site.browser(), shared_stock_bokeh_site.browser()
    session = _page(mine)
    assert _page(mine, f"?session_id={session}") == session
    assert _autoload(mine, session) == session
    assert _page(other, f"?session_id={session}") != session
    assert _autoload(other, session) != session


def test_a_session_a_view_made_is_its_browsers_only(shared_stock_bokeh_site: Site) -> None:
    mine, other = shared_stock_bokeh_site.browser(), shared_stock_bokeh_site.browser()
    page = mine.get("_test/bokeh/embedded/")  # a first visit: the view's make_session
    assert page.status == 200
    made = re.search(rf"{APP}/autoload\.js\?[^\"]*session_id=([\w-]+)", page.body)
    assert made, "the view's page embeds its session by id"
    session = made.group(1)
    assert mine.session_cookie, "the view's response set Django's session cookie"
    assert _autoload(mine, session) == session
    assert _autoload(other, session) != session
    assert _page(other, f"?session_id={session}") != session
