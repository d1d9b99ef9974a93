"""One server for the protocol-spec tests (daphne, the spec settings), stopped by its pid."""

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


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, database: Path) -> Iterator[ServerProcess]:
    with spec_site(tmp_path_factory.mktemp("spec"), database) as site:
        yield site.server
