"""/docsync-metrics: who may read it, and that its figures follow the sessions of a real server."""

from __future__ import annotations

import asyncio
import re
import urllib.error
import urllib.request
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, override_settings

from docsync.checks import check_settings

from .clients import ServerUnderTest, open_session, page_config, wait_until
from .conftest import StartServer
from .settings import DOCSYNC as TEST_DOCSYNC

TOKEN = "metrics-token-for-the-tests-0123456789"


def _scrape(server: ServerUnderTest, token: str | None) -> tuple[int, str, str]:
    request = urllib.request.Request(f"{server.url}docsync-metrics")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), ""


def _value(text: str, name: str, app: str | None = None) -> float:
    labels = f'{{app="{app}"}}' if app is not None else ""
    match = re.search(rf"^docsync_{re.escape(name)}{re.escape(labels)} (\S+)$", text, re.MULTILINE)
    assert match is not None, f"docsync_{name}{labels} missing from:\n{text}"
    return float(match.group(1))


@pytest.fixture(scope="module")
def metrics_server(start_server: StartServer) -> ServerUnderTest:
    return start_server("metrics", DOCSYNC_METRICS_TOKEN=TOKEN)


def test_the_token_opens_the_figures_and_nothing_else_does(metrics_server: ServerUnderTest) -> None:
    assert _scrape(metrics_server, None)[0] == 404
    assert _scrape(metrics_server, "wrong-" + TOKEN)[0] == 404
    status, content_type, text = _scrape(metrics_server, TOKEN)
    assert status == 200
    assert content_type == "text/plain; version=0.0.4; charset=utf-8"
    for family in ("sessions", "connections", "queued_bytes", "resident_memory_bytes", "cpu_seconds_total"):
        assert f"# TYPE docsync_{family} " in text
    assert _value(text, "resident_memory_bytes") > 10 * 1024 * 1024
    assert _value(text, "draining") == 0


@pytest.mark.asyncio
async def test_the_figures_follow_sessions_opening_and_expiring(metrics_server: ServerUnderTest) -> None:
    config = await page_config(metrics_server, "sliders")
    first = await open_session(config)
    second = await open_session(await page_config(metrics_server, "sliders"))
    try:
        text = (await asyncio.to_thread(_scrape, metrics_server, TOKEN))[2]
        assert _value(text, "sessions", "sliders") == 2
        assert _value(text, "connections", "sliders") == 2
        assert _value(text, "sessions_unused", "sliders") == 0
        created = _value(text, "sessions_created_total", "sliders")
        assert created >= 2
    finally:
        await first.close()
        await second.close()

    # Closed sessions expire (the test server's lifetime is about a second): the gauge falls to 0.
    latest = {"text": ""}

    def expired() -> bool:
        latest["text"] = _scrape(metrics_server, TOKEN)[2]
        return _value(latest["text"], "sessions", "sliders") == 0

    await wait_until(expired, 20, "both sessions to expire")
    assert _value(latest["text"], "sessions_destroyed_total", "sliders") >= 2
    assert _value(latest["text"], "sessions_created_total", "sliders") == created


def test_staff_users_may_read_it_under_the_default_rule(database: str) -> None:
    users = get_user_model()
    suffix = uuid.uuid4().hex[:8]
    staff = users.objects.create_user(f"metrics-staff-{suffix}", password="x", is_staff=True)
    plain = users.objects.create_user(f"metrics-plain-{suffix}", password="x")
    client = Client()
    with override_settings(DOCSYNC={**TEST_DOCSYNC, "ADMIN_REFRESH": 0}):
        assert client.get("/docsync-metrics").status_code == 404
        client.force_login(plain)
        assert client.get("/docsync-metrics").status_code == 404
        client.force_login(staff)
        response = client.get("/docsync-metrics")
        assert response.status_code == 200
        assert b"# TYPE docsync_sessions gauge" in response.content
    with override_settings(DOCSYNC={**TEST_DOCSYNC, "ADMIN_REFRESH": 0, "METRICS": None}):
        assert client.get("/docsync-metrics").status_code == 404  # None: nobody, staff included


def test_a_bad_rule_or_a_short_token_is_reported() -> None:
    with override_settings(DOCSYNC={**TEST_DOCSYNC, "METRICS": "everyone", "METRICS_TOKEN": "short"}):
        ids = sorted(m.id for m in check_settings() if m.id in ("docsync.E013", "docsync.E014"))
    assert ids == ["docsync.E013", "docsync.E014"]
    with override_settings(DOCSYNC={**TEST_DOCSYNC, "METRICS": "staff", "METRICS_TOKEN": TOKEN}):
        assert not [m for m in check_settings() if m.id in ("docsync.E013", "docsync.E014")]
