"""A real server for the admin tests, and a reader of the live-session pages."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest

from tests.hardening.harness import Browser, Database, Site, shared_database

#: Sessions expire this long after their last connection closed (unless kept alive).
LIFETIME = 1.0
ADMIN_REFRESH = 0.3


@pytest.fixture(scope="session")
def database(tmp_path_factory: pytest.TempPathFactory) -> Database:
    return shared_database(lambda name: tmp_path_factory.mktemp(name))


@pytest.fixture(scope="module")
def admin_site(tmp_path_factory: pytest.TempPathFactory, database: Database) -> Iterator[Site]:
    site = Site(
        tmp_path_factory.mktemp("admin-site"),
        database,
        DOCSYNC_UNUSED_SESSION_LIFETIME=str(LIFETIME),
        DOCSYNC_ADMIN_REFRESH=str(ADMIN_REFRESH),
    )
    site.start()
    try:
        yield site
    finally:
        site.stop()


CHANGELIST = "admin/docsync/livesession/"


def live_url(session_id: str) -> str:
    return f"{CHANGELIST}{session_id}/live/"


def changelist_rows(browser: Browser, query: str = "") -> list[dict[str, str]]:
    """The rows of the live-session list, in order: field name -> cell text."""
    answer = browser.get(CHANGELIST + query)
    assert answer.status == 200, f"changelist answered {answer.status}"
    rows = []
    for row in re.findall(r"<tr[^>]*>.*?</tr>", answer.body, re.S):
        cells = re.findall(r'<t[dh][^>]*class="field-(\w+)[^"]*"[^>]*>(.*?)</t[dh]>', row, re.S)
        fields = {name: html.unescape(re.sub(r"<[^>]+>", "", value)).strip() for name, value in cells}
        if "short_id" in fields:
            rows.append(fields)
    return rows
