"""Fixtures of the browser tests: the system Chromium, real daphne processes, a migrated SQLite file.

Chromium is /usr/bin/chromium (Playwright cannot download its own here): when it is
missing the tests fail, loudly, rather than skip. One server per test module, one
browser for all of them (stopped right after the last, so that the event loop
Playwright's sync API runs is gone before other tests use asyncio); every process is
stopped by its own pid.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Playwright, sync_playwright

from docsync.testing import ServerProcess, SiteUnderTest

ROOT = Path(__file__).resolve().parents[2]
# Tests never rewrite tracked files: screenshots go to an untracked folder (or
# DOCSYNC_SCREENSHOTS); `bash scripts/screenshots.sh` copies them into docs/screenshots/.
SCREENSHOTS = Path(os.environ.get("DOCSYNC_SCREENSHOTS", ROOT / "build" / "screenshots"))
CHROMIUM = Path(os.environ.get("DOCSYNC_CHROMIUM", "/usr/bin/chromium"))
# axe-core, the accessibility checker the browser tests run in pages: installed from the
# npm registry into the untracked build/node/ (by scripts/setup.sh, or by the first test
# that needs it).
AXE = Path(os.environ.get("DOCSYNC_AXE", ROOT / "build" / "node" / "node_modules" / "axe-core" / "axe.min.js"))
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
#: How long a page may take to load (page.goto, reload, go_back) before the test fails.
NAVIGATION_TIMEOUT_MS = 180_000


def _in_here(item: pytest.Item | None) -> bool:
    return item is not None and Path(__file__).parent in Path(str(item.fspath)).parents


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _in_here(item):
            item.add_marker(pytest.mark.browser)


class _Chromium:
    """The one Chromium of the browser tests, launched on first use, stopped when they are done."""

    def __init__(self) -> None:
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None

    def get(self) -> Browser:
        if self._browser is None:
            if not CHROMIUM.exists():
                pytest.fail(
                    f"Chromium is missing at {CHROMIUM}: the browser tests cannot run. "
                    "Install it (scripts/setup.sh does: apt-get install -y chromium).",
                    pytrace=False,
                )
            self._playwright = sync_playwright().start()
            # launch() gives the browser a fresh temporary profile directory.
            self._browser = self._playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
            )
        return self._browser

    def stop(self) -> None:
        if self._browser is not None:
            self._browser.close()
        if self._playwright is not None:
            self._playwright.stop()
        self._browser = self._playwright = None


_CHROMIUM = _Chromium()


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    # Playwright's sync API keeps an event loop running in this thread while it is
    # started: the tests after these ones (asyncio.run, pytest-asyncio) need it gone.
    if _in_here(item) and not _in_here(nextitem):
        _CHROMIUM.stop()


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


def start_server(workdir: Path, database: str, name: str, **env: str) -> ServerProcess:
    """Start daphne serving the test settings (``env`` may name others); the caller stops it."""
    return site(workdir, database, name, **{"DOCSYNC_ADMIN_REFRESH": "0.2", **env}).start().server


def site(workdir: Path, database: str, name: str, servers: tuple[str, ...] = ("daphne",), **env: str) -> SiteUnderTest:
    """The test settings (or ``env``'s) served by ``servers`` (not started), logging to ``workdir/name/``."""
    return SiteUnderTest(
        workdir / name,
        settings=env.pop("DJANGO_SETTINGS_MODULE", SETTINGS),
        servers=servers,
        cwd=ROOT,
        env={"DJANGO_DEBUG": "1", "DOCSYNC_SQLITE": database, **env},
    )


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest, workdir: Path, database: str) -> Iterator[ServerProcess]:
    """The server of one test module (its ``SERVER_ENV`` adds environment variables)."""
    env = getattr(request.module, "SERVER_ENV", {})
    process = start_server(workdir, database, request.module.__name__.rsplit(".", 1)[-1], **env)
    yield process
    process.stop()


@pytest.fixture
def browser() -> Browser:
    """The system Chromium, headless: one for all the browser tests of a run."""
    return _CHROMIUM.get()


@pytest.fixture(scope="module")
def module_browser() -> Browser:
    """The same Chromium as ``browser``, for a module-scoped fixture (a page kept open for a module's tests)."""
    return _CHROMIUM.get()


def new_context(browser: Browser, **options: Any) -> BrowserContext:
    """A browser context (``options`` as Playwright's ``new_context``) whose pages get NAVIGATION_TIMEOUT_MS to load."""
    ctx = browser.new_context(**options)
    # A page's load event is an event to wait for, not a speed to check: a module's first
    # page is its server's first request (its URLconf and the app imported then), which
    # under load took longer than Playwright's default 30 s.
    ctx.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
    return ctx


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser context (its own cookies), desktop-sized."""
    ctx = new_context(browser, viewport={"width": 1100, "height": 760})
    yield ctx
    ctx.close()


@pytest.fixture(scope="session")
def axe_core() -> Path:
    """The axe-core script, installed on first use; fails, with the fix, when it cannot be had."""
    if not AXE.exists() and "DOCSYNC_AXE" not in os.environ:
        subprocess.run(
            ["npm", "install", "--prefix", str(ROOT / "build" / "node"), "--no-audit", "--no-fund", "axe-core@4"],
            capture_output=True,
            timeout=300,
            check=False,
        )
    if not AXE.exists():
        pytest.fail(
            f"axe-core is missing at {AXE}: the accessibility checks cannot run. Install it "
            "(scripts/setup.sh does: npm install --prefix build/node axe-core@4).",
            pytrace=False,
        )
    return AXE


@pytest.fixture(scope="session", autouse=True)
def screenshots_dir() -> Path:
    """The folder this run writes its screenshots to (untracked; see SCREENSHOTS)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
