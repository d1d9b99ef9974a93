"""The suite's databases: a migrated SQLite file per settings module, made once per run and copied.

Migrating takes a Python process and a few seconds; every site of the suite that uses
SQLite (``DOCSYNC_SQLITE``, read by ``project.settings``) starts from a copy of the
template made for its settings (and the set-up script that adds its users), so each
server still has a database of its own.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from docsync.testing import SiteUnderTest

ROOT = Path(__file__).resolve().parents[1]

_templates: dict[tuple[str, str], tuple[Path, str]] = {}


def _remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def migrated_sqlite(target: Path, settings: str, script: str = "") -> str:
    """Copy the migrated database of ``settings`` (after ``script``, run in ``manage.py shell``) to ``target``.

    Return what the script printed when the template was made.
    """
    key = (settings, script)
    if key not in _templates:
        folder = Path(tempfile.mkdtemp(prefix="docsync-template-"))
        atexit.register(_remove, folder)
        template = folder / "db.sqlite3"
        maker = SiteUnderTest(folder, settings=settings, env={"DOCSYNC_SQLITE": str(template)}, servers=(), cwd=ROOT)
        maker.manage("migrate", "-v0", "--no-input")
        printed = maker.manage("shell", "-c", script) if script else ""
        _templates[key] = (template, printed)
    template, printed = _templates[key]
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, target)
    return printed
