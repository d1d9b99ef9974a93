"""The protocol-spec tests' server: the spec settings under daphne, then under uvicorn, each stopped by its pid.

docsync supports both (README, docs/howto/servers.md), and the wire differs between them
where the ASGI server frames, bounds and closes websockets: every test of the spec client
that talks to ``server`` runs against each. pytest orders a module's tests by this
module-scoped parameter, so each kind is started once per module.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from docsync.testing import ServerProcess, SiteUnderTest
from tests.sites import migrated_sqlite

ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY = "docsync-spec-tests-key"
ALLOWED_ORIGIN = "http://embedder.example:8080"


def spec_site(folder: Path, database: Path, kind: str = "daphne", **env: str) -> SiteUnderTest:
    """The spec settings served by ``kind`` on ``database`` (not started), logging to ``folder``, plus ``env``."""
    return SiteUnderTest(
        folder,
        settings="tests.spec.settings",
        servers=(kind,),
        cwd=ROOT,
        env={
            "DJANGO_SECRET_KEY": SECRET_KEY,
            "DJANGO_DEBUG": "0",
            "DOCSYNC_SQLITE": str(database),
            "DOCSYNC_ALLOWED_ORIGINS": ALLOWED_ORIGIN,
            **env,
        },
    )


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The spec servers' SQLite file, migrated: an anonymous visitor's page saves a Django session."""
    path = tmp_path_factory.mktemp("spec-db") / "db.sqlite3"
    migrated_sqlite(path, "tests.spec.settings")
    return path


#: The ASGI servers every wire case runs under (``manage.py runserver`` is daphne's protocol server).
SERVER_KINDS = ("daphne", "uvicorn")


@pytest.fixture(scope="module", params=SERVER_KINDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, database: Path
) -> Iterator[ServerProcess]:
    """The spec site under ``request.param`` (daphne, uvicorn): one process per module and kind."""
    with spec_site(tmp_path_factory.mktemp(f"spec-{request.param}"), database, request.param) as site:
        yield site.server
