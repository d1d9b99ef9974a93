"""Under ``manage.py runserver``, restart on edits of script, JSON and directory apps too.

Django's reloader watches the modules Python imported, so function apps (and the code
they import) reload by themselves; the files of path-based apps are read, not
imported, and are added to what it watches here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .conf import docsync_settings
from .server.app_loader import app_specs

__all__ = ["app_files", "watch_app_files"]


def _is_path(target: Any) -> bool:
    # As the app loader tells them apart: a path has a slash or a .py/.json suffix.
    if isinstance(target, Path):
        return True
    return isinstance(target, str) and ("/" in target or target.endswith((".py", ".json")))


def app_files() -> tuple[list[Path], list[Path]]:
    """Return the (files, directories) of the configured path-based apps."""
    files: list[Path] = []
    directories: list[Path] = []
    for spec in app_specs(docsync_settings().APPS):
        if not _is_path(spec.target):
            continue
        path = Path(spec.target).absolute()
        (directories if path.is_dir() else files).append(path)
    return files, directories


def watch_app_files(sender: Any, **kwargs: Any) -> None:
    """Add every path-based app's files to the reloader (the ``autoreload_started`` signal)."""
    files, directories = app_files()
    sender.extra_files.update(files)
    for directory in directories:
        # main.py, hooks, and the page template and static files a directory app serves.
        sender.watch_dir(directory, "**/*")
