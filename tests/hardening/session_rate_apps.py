"""Apps that write a line to a file each time the server runs their code to make a session.

The file is ``rate_calls.txt`` beside the server's database (``DOCSYNC_SQLITE``: each
test site's own folder), so that a test counts the sessions its server made by running
the app's code, refused ones included if any were.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from docsync.document import Document
from docsync.document.models import Div

CALLS_FILE = "rate_calls.txt"


def calls_file(database: Path) -> Path:
    """The file the apps of the server with ``database`` write their calls to."""
    return database.with_name(CALLS_FILE)


def _count() -> None:
    with calls_file(Path(os.environ["DOCSYNC_SQLITE"])).open("a", encoding="utf-8") as calls:
        calls.write("made\n")


def counted(doc: Document) -> None:
    """A docsync app: one Div, the call counted."""
    _count()
    doc.add_root(Div(text="made", name="made"))


def bk_counted(doc: Any) -> None:
    """A Bokeh app (FunctionHandler): one Div, the call counted."""
    from bokeh.models import Div as BokehDiv

    _count()
    doc.add_root(BokehDiv(text="made", name="made"))
