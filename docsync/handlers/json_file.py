"""JSONHandler: a document read from a document-JSON file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from ..document import Document
from ..exceptions import ApplicationLoadError
from .handler import Handler

__all__ = ["JSONHandler"]


class JSONHandler(Handler):
    """Fill each session's document from a JSON file (arrays in base64 form)."""

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = Path(path)
        self._data: Any = None
        try:
            self._data = orjson.loads(self.path.read_bytes())
            Document.from_json(self._data)  # refuse a bad file at load, not per session
        except Exception as exc:  # any fault in the file marks the app failed
            self._fail(exc)

    def modify_document(self, doc: Document) -> Any:
        if self._data is None:
            raise ApplicationLoadError(f"cannot load {self.path}: {self.error}")
        doc.replace_with_json(self._data)
        return None
