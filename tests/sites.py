"""The suite's databases: a migrated SQLite file per settings module, made once per run and copied.

Migrating takes a Python process and a few seconds; every site of the suite that uses
SQLite (``DOCSYNC_SQLITE``, read by ``project.settings``) starts from a copy of the
template made for its settings (and the set-up script that adds its users), so each
server still has a database of its own. Under pytest-xdist the workers share the
templates (``DOCSYNC_TEMPLATES``, a folder the main process makes and removes): each is
made once per run, not once per worker.
"""

from __future__ import annotations

import atexit
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from docsync.testing import PostgresServer, SiteUnderTest

ROOT = Path(__file__).resolve().parents[1]

_templates: dict[tuple[str, str], tuple[Path, str]] = {}


def _remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


#: Names the folder of the run's shared templates; set by tests/conftest.py in the main process.
TEMPLATES_VARIABLE = "DOCSYNC_TEMPLATES"

# Migrate, then run the set-up script, in one Django process (``manage.py migrate`` and then
# ``manage.py shell -c`` were two: ~1.5 s of CPU each).
_MAKE_TEMPLATE = (
    "import sys, django; django.setup(); "
    "from django.core.management import call_command; "
    "call_command('migrate', verbosity=0, interactive=False); "
    "exec(sys.argv[1], {})"
)


def migrate_then_run(site: SiteUnderTest, script: str = "") -> str:
    """Migrate ``site``'s database, then run the Python ``script`` on it, in one Django process; its output."""
    return site.python("-c", _MAKE_TEMPLATE, script)


def _make_template(template: Path, settings: str, script: str) -> str:
    """Migrate a new SQLite file ``template`` for ``settings``, run ``script`` on it; return what it printed."""
    from docsync.testing import SiteUnderTest  # here: tests/conftest.py imports this module in every run

    maker = SiteUnderTest(
        template.parent, settings=settings, env={"DOCSYNC_SQLITE": str(template)}, servers=(), cwd=ROOT
    )
    return migrate_then_run(maker, script)


def _shared_template(folder: Path, settings: str, script: str) -> tuple[Path, str]:
    """The template of ``(settings, script)`` in the run's shared ``folder``, made by the first worker to ask."""
    name = hashlib.sha256(json.dumps([settings, script]).encode()).hexdigest()[:16]
    template, printed = folder / f"{name}.sqlite3", folder / f"{name}.out"
    with (folder / "lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the other workers wait for it rather than migrate too
        if not printed.exists():  # written last: a template beside it is whole
            printed.write_text(_make_template(template, settings, script))
    return template, printed.read_text()


def migrated_sqlite(target: Path, settings: str, script: str = "") -> str:
    """Copy the migrated database of ``settings`` (after the Python ``script``, run on it) to ``target``.

    Return what the script printed when the template was made.
    """
    key = (settings, script)
    if key not in _templates:
        shared = os.environ.get(TEMPLATES_VARIABLE)
        if shared and Path(shared).is_dir():
            _templates[key] = _shared_template(Path(shared), settings, script)
        else:
            folder = Path(tempfile.mkdtemp(prefix="docsync-template-"))
            atexit.register(_remove, folder)
            template = folder / "db.sqlite3"
            _templates[key] = (template, _make_template(template, settings, script))
    template, printed = _templates[key]
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, target)
    return printed


_pg_templates: dict[tuple[str, str], Path] = {}


def _make_pg_template(target: Path, settings: str, script: str) -> None:
    """A PostgreSQL data folder ``target`` whose database is migrated for ``settings``, ``script`` run on it."""
    from docsync.testing import PostgresServer, SiteUnderTest

    work = Path(tempfile.mkdtemp(prefix="docsync-pg-template-"))
    work.chmod(0o755)  # PostgreSQL runs as its own user, who must enter it
    try:
        server = PostgresServer(work / "pg").start()
        try:
            migrate_then_run(SiteUnderTest(work, settings=settings, env=server.env, servers=(), cwd=ROOT), script)
        finally:
            server.stop()  # a clean shutdown: a copy starts without recovery
        shutil.copytree(work / "pg" / "pgdata", target, symlinks=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _pg_template(settings: str, script: str) -> Path:
    """The run's migrated PostgreSQL data folder of ``(settings, script)``, made by the first worker to ask."""
    shared = os.environ.get(TEMPLATES_VARIABLE)
    if not shared or not Path(shared).is_dir():
        folder = Path(tempfile.mkdtemp(prefix="docsync-template-"))
        atexit.register(_remove, folder)
        _make_pg_template(folder / "pgdata", settings, script)
        return folder / "pgdata"
    name = hashlib.sha256(json.dumps(["postgres", settings, script]).encode()).hexdigest()[:16]
    template, made = Path(shared) / f"{name}.pgdata", Path(shared) / f"{name}.pgdata-made"
    with (Path(shared) / "lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the other workers wait for it rather than migrate too
        if not made.exists():  # written last: a template beside it is whole
            shutil.rmtree(template, ignore_errors=True)
            _make_pg_template(template, settings, script)
            made.touch()
    return template


def migrated_postgres(folder: Path, settings: str, script: str = "") -> PostgresServer:
    """A started private PostgreSQL in ``folder``: a copy of the run's database for ``settings``, after ``script``.

    Each server still has data of its own; the run makes it once (``initdb``, a migrating
    Django process: ~4 s of CPU) rather than once per server.
    """
    from docsync.testing import PostgresServer

    key = (settings, script)
    if key not in _pg_templates:
        _pg_templates[key] = _pg_template(settings, script)
    server = PostgresServer(folder)
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copytree(_pg_templates[key], folder / "pgdata", symlinks=True)  # its modes too: PostgreSQL checks them
    if os.geteuid() == 0:  # PostgreSQL runs as its own user (as PostgresServer.start), who owns its data
        for path in (folder, folder / "pgdata", *(folder / "pgdata").rglob("*")):
            shutil.chown(path, server.user, server.user)
    return server.start_again()
