"""Fixtures of the browser tests: the system Chromium, real daphne processes, a migrated SQLite file.

Chromium is /usr/bin/chromium (Playwright cannot download its own here): when it is
missing the tests fail, loudly, rather than skip. One server per test module, one
browser per session; every process is stopped by its own pid.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, sync_playwright

from docsync.testing import ServerProcess

from .browser import open_app

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = Path(os.environ.get("DOCSYNC_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SETTINGS = "tests.e2e.settings"
ADMIN = ("admin", "admin-password-for-tests")

__all__ = ["ADMIN", "SCREENSHOTS", "open_app"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This run's directory of databases and server logs."""
    return tmp_path_factory.mktemp("docsync-e2e")


@pytest.fixture(scope="session")
def database(workdir: Path) -> str:
    """A migrated SQLite file (the catalog's products included) with a superuser."""
    path = str(workdir / "db.sqlite3")
    name, password = ADMIN
    script = (
        "from django.core.management import call_command\n"
        "from django.contrib.auth import get_user_model\n"
        "call_command('migrate', verbosity=0, interactive=False)\n"
        f"get_user_model().objects.create_superuser({name!r}, 'admin@example.com', {password!r})\n"
    )
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS, "DOCSYNC_SQLITE": path},
        check=True,
        capture_output=True,
        timeout=120,
    )
    return path


def start_server(workdir: Path, database: str, name: str, *, port: int | None = None, **env: str) -> ServerProcess:
    """Start daphne serving the test settings; the caller stops it."""
    server = ServerProcess(
        cwd=ROOT,
        port=port,
        log_path=workdir / f"{name}.log",
        env={
            "DJANGO_SETTINGS_MODULE": SETTINGS,
            "DJANGO_DEBUG": "1",
            "DOCSYNC_SQLITE": database,
            "DOCSYNC_ADMIN_REFRESH": "0.2",
            **env,
        },
    )
    return server.start()


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest, workdir: Path, database: str) -> Iterator[ServerProcess]:
    """The server of one test module (its ``SERVER_ENV`` adds environment variables)."""
    env = getattr(request.module, "SERVER_ENV", {})
    process = start_server(workdir, database, request.module.__name__.rsplit(".", 1)[-1], **env)
    yield process
    process.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """The system Chromium, headless, with a fresh profile."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is missing at {CHROMIUM}: the browser tests cannot run. "
            "Install it (scripts/setup.sh does: apt-get install -y chromium).",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        # launch() gives every browser a fresh temporary profile directory.
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser context (its own cookies), desktop-sized."""
    ctx = browser.new_context(viewport={"width": 1100, "height": 760})
    yield ctx
    ctx.close()


@pytest.fixture(scope="session", autouse=True)
def screenshots_dir() -> Path:
    """docs/screenshots/, written by this run."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
