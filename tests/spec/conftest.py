"""One server for the protocol-spec tests (daphne, the spec settings), stopped by its pid."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from docsync.testing import ServerProcess

ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY = "docsync-spec-tests-key"
ALLOWED_ORIGIN = "http://embedder.example:8080"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    folder = tmp_path_factory.mktemp("spec")
    process = ServerProcess(
        cwd=ROOT,
        log_path=folder / "server.log",
        env={
            "DJANGO_SETTINGS_MODULE": "tests.spec.settings",
            "DJANGO_SECRET_KEY": SECRET_KEY,
            "DJANGO_DEBUG": "0",
            "DOCSYNC_SQLITE": str(folder / "db.sqlite3"),
            "DOCSYNC_ALLOWED_ORIGINS": ALLOWED_ORIGIN,
        },
    )
    process.start()
    yield process
    process.stop()
