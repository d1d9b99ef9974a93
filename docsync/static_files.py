"""Files served from a folder by name (docsync's JavaScript client, apps' static files, BokehJS)."""

from __future__ import annotations

from pathlib import Path

from django.http import Http404

__all__ = ["safe_file"]

#: Longer static paths, or parts of them, name no file: refused before the filesystem sees them.
MAX_STATIC_PATH = 1024
MAX_STATIC_PART = 255


def safe_file(root: Path, relative: str) -> Path:
    """Return the file ``relative`` names inside ``root``; raise Http404 for anything else.

    A NUL, or a name longer than the filesystem takes, raised from ``resolve()`` or
    ``is_file()`` (HTTP 500): every odd name is a missing file, and nothing outside
    ``root`` is found.
    """
    parts = relative.split("/")
    if len(relative) > MAX_STATIC_PATH or "\x00" in relative or any(len(p) > MAX_STATIC_PART for p in parts):
        raise Http404("no such file")
    try:
        path = (root / relative).resolve()
        found = path.is_file() and root.resolve() in path.parents
    except (OSError, ValueError):  # names the filesystem refuses (too long, invalid)
        found = False
    if not found:
        raise Http404("no such file")
    return path
