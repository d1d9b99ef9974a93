"""Servers of the hardening tests, each a daphne (or uvicorn) process on a free port, stopped by pid."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio

from .harness import SERVERS, Database, Site, running_site, shared_database
from .hostile import Victim
from .test_fuzz import LoopThread

#: Low limits of the main site (the others are in ``settings.py``).
MAX_PATCHES_PER_SECOND = 100
MAX_CONNECTIONS_PER_SESSION = 3
LIFETIME = 1.0


@pytest.fixture(scope="session")
def database(tmp_path_factory: pytest.TempPathFactory) -> Database:
    return shared_database(lambda name: tmp_path_factory.mktemp(name))


#: The main site's environment: DEBUG off, low limits, sessions expire a second after their last tab.
MAIN_SITE_ENV = {
    "DOCSYNC_MAX_PATCHES_PER_SECOND": str(MAX_PATCHES_PER_SECOND),
    "DOCSYNC_MAX_CONNECTIONS_PER_SESSION": str(MAX_CONNECTIONS_PER_SESSION),
    "DOCSYNC_UNUSED_SESSION_LIFETIME": str(LIFETIME),
    # Every test of a worker connects from 127.0.0.1: one client for the per-client buckets,
    # which outlive their sockets. The document fuzzer's ~3 requests per draw came after
    # others had drained the 500 at once, and was refused (4029) for what they had sent.
    # The per-client limit is tested on sites of its own (test_client_message_rate).
    "DOCSYNC_MAX_DOCUMENT_REQUESTS_PER_SECOND_PER_CLIENT": "none",
}


@pytest.fixture(scope="session")
def daphne_site(tmp_path_factory: pytest.TempPathFactory, database: Database) -> Iterator[Site]:
    """The main site under daphne, one process for this worker's modules."""
    yield from running_site(tmp_path_factory, database, "site", **MAIN_SITE_ENV)


@pytest.fixture(scope="session")
def site(daphne_site: Site) -> Site:
    """The main site (daphne); a module runs its cases under uvicorn too with ``main_site_on_each_server``."""
    return daphne_site


def _on_each_server(fixture: str, shared: str, name: str, env: dict[str, str]) -> Any:
    """A module-scoped fixture named ``fixture``: the shared daphne site ``shared``, then a uvicorn one of this module.

    The wire differs between the two where the ASGI server reads, bounds and closes a
    websocket (docs/howto/servers.md): a module whose cases are about the wire runs them
    under each. pytest orders the module's cases by this parameter, so its uvicorn process
    (settings ``env``) is started once, after the daphne cases, and stopped after the module.
    """

    @pytest.fixture(scope="module", params=SERVERS, name=fixture)
    def on_each_server(
        request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, database: Database
    ) -> Iterator[Site]:
        if request.param == "daphne":
            yield request.getfixturevalue(shared)
            return
        yield from running_site(tmp_path_factory, database, f"{name}-{request.param}", server=request.param, **env)

    return on_each_server


def main_site_on_each_server(name: str) -> Any:
    """A module's ``site`` fixture: the shared daphne main site, then a uvicorn one of this module."""
    return _on_each_server("site", "daphne_site", name, MAIN_SITE_ENV)


@pytest.fixture(scope="session")
def debug_site(tmp_path_factory: pytest.TempPathFactory, database: Database) -> Iterator[Site]:
    """The same site with DEBUG on."""
    yield from running_site(tmp_path_factory, database, "debug-site", debug=True)


#: The default-limits site's environment.
DEFAULT_SITE_ENV = {"DJANGO_SETTINGS_MODULE": "tests.hardening.default_limits_settings"}


@pytest.fixture(scope="session")
def shared_default_site(tmp_path_factory: pytest.TempPathFactory, database: Database) -> Iterator[Site]:
    """A site with docsync's default wire and model limits (``default_limits_settings``), under daphne."""
    yield from running_site(tmp_path_factory, database, "default-limits", **DEFAULT_SITE_ENV)


@pytest.fixture(scope="session")
def default_site(shared_default_site: Site) -> Site:
    """The default-limits site (daphne); ``default_site_on_each_server`` runs a module under uvicorn too."""
    return shared_default_site


def default_site_on_each_server(name: str) -> Any:
    """A module's ``default_site`` fixture: the shared daphne one, then a uvicorn one of this module.

    As ``main_site_on_each_server``, for a module whose wire cases need docsync's default limits.
    """
    return _on_each_server("default_site", "shared_default_site", name, DEFAULT_SITE_ENV)


@pytest.fixture(scope="session")
def shared_bokeh_site(tmp_path_factory: pytest.TempPathFactory, database: Database) -> Iterator[Site]:
    """One ``tests.hardening.bokeh_settings`` site for this worker's modules that need nothing else of it.

    A Bokeh server costs ~2.2 s of CPU to start and serve its first page. The modules on
    it each use sessions of their own, read its log from an offset and measure nothing of
    the whole process (peak memory, CPU ticks: those keep a site of their own).
    """
    yield from running_site(
        tmp_path_factory, database, "bokeh-shared", DJANGO_SETTINGS_MODULE="tests.hardening.bokeh_settings"
    )


@pytest.fixture(scope="session")
def shared_stock_bokeh_site(tmp_path_factory: pytest.TempPathFactory, database: Database) -> Iterator[Site]:
    """One ``tests.bokeh.settings`` site for this worker's modules, shared as ``shared_bokeh_site`` is."""
    yield from running_site(
        tmp_path_factory, database, "stock-bokeh-shared", DJANGO_SETTINGS_MODULE="tests.bokeh.settings"
    )


@pytest_asyncio.fixture
async def victim(site: Site) -> AsyncIterator[Victim]:
    """An anonymous client of a fresh session of the shared site, closed after the test."""
    made = await Victim.open(site)
    try:
        yield made
    finally:
        await made.close()


@pytest.fixture(scope="session")
def session_fuzz_site(tmp_path_factory: pytest.TempPathFactory, database: Database) -> Iterator[Site]:
    """The site of the session fuzzers (``session_fuzz``): sessions expire a second after their last tab."""
    # Every case makes a session, all as one client: past the default 2 a second.
    yield from running_site(
        tmp_path_factory,
        database,
        "session-fuzz",
        DOCSYNC_UNUSED_SESSION_LIFETIME="1.0",
        DOCSYNC_NEW_SESSIONS_PER_CLIENT_PER_SECOND="1000",
        # All its fuzzers are one client (127.0.0.1), and its buckets outlive their sockets:
        # on a fast host the resume fuzzer's requests, after the other fuzzers', went past the
        # 500 at once and 50 a second (close 4029 mid-case; CI of 2026-12-07). The per-client
        # limits are tested on sites of their own (test_client_message_rate).
        DOCSYNC_MAX_DOCUMENT_REQUESTS_PER_SECOND_PER_CLIENT="none",
        DOCSYNC_MAX_PATCHES_PER_SECOND_PER_CLIENT="none",
        DOCSYNC_MAX_VALUES_PER_SECOND_PER_CLIENT="none",
        DOCSYNC_MAX_WEBSOCKET_FRAMES_PER_SECOND_PER_CLIENT="none",
    )


@pytest.fixture(scope="session")
def fuzz_loop() -> Iterator[LoopThread]:
    """An event loop in a thread, where the session fuzzers' cases run (hypothesis draws in the main thread)."""
    loop = LoopThread()
    try:
        yield loop
    finally:
        loop.stop()
