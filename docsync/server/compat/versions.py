"""The installed version of a dependency, for the gates of the workarounds beside this module."""

from __future__ import annotations

import functools
import re
from importlib.metadata import PackageNotFoundError, version

__all__ = ["Version", "checked", "installed"]

Version = tuple[int, ...]


@functools.cache
def installed(distribution: str) -> Version | None:
    """The release of ``distribution`` installed here (its leading numbers), or None when it is not."""
    try:
        text = version(distribution)
    except PackageNotFoundError:
        return None
    match = re.match(r"\d+(\.\d+)*", text)
    return tuple(int(part) for part in match.group(0).split(".")) if match else None


def checked(distribution: str, low: Version, below: Version) -> bool:
    """Tell whether the installed ``distribution`` is one a workaround was checked against: ``low <= v < below``."""
    found = installed(distribution)
    return found is not None and low <= found < below
