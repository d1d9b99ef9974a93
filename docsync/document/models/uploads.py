"""FileInput: files from the browser to Python as binary buffers, in checked chunks.

The browser announces an upload (names, MIME types, sizes) with ``"upload_start"``,
then sends each file's bytes in order as ``"upload_chunk"`` events carrying binary
buffers (never base64), one patch at a time. Every event is checked before anything of
its patch is applied: an upload over the limit is refused at its announcement, before
a byte of it is sent, and a chunk out of order or past its file's declared size is
refused before it is stored. When the last byte arrives, ``on_upload`` callbacks get the
files. See docs/widgets.md for the wire shapes.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ...exceptions import PatchError
from ..properties import Bool, Either, Int, List, Nullable, String
from .widgets import Widget

__all__ = ["FileInput", "UploadedFile"]

UPLOAD_START = "upload_start"
UPLOAD_CHUNK = "upload_chunk"
UPLOAD_CANCEL = "upload_cancel"
#: Files one upload may hold, and the longest name or MIME type taken.
MAX_FILES = 100
MAX_NAME = 255
#: The longest upload id a client may choose (widgets.md, Files).
MAX_UPLOAD_ID = 64
#: An upload that has seen no chunk for this long is dropped when another one starts.
ABANDONED_AFTER = 60.0
_BAD_NAME = re.compile(r"[/\\\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """One uploaded file: the name and MIME type the browser gave, and its bytes."""

    filename: str
    mime_type: str
    data: bytes

    @property
    def size(self) -> int:
        """The file's size in bytes."""
        return len(self.data)


class _Upload:
    """An upload in progress: what was announced, and the bytes received so far."""

    __slots__ = ("buffer", "file", "files", "id", "offset", "seen", "store")

    def __init__(self, upload_id: str, files: list[tuple[str, str, int]]) -> None:
        self.id = upload_id
        self.files = files
        self.file = 0  # the file the next chunk belongs to
        self.offset = 0  # where in it
        self.store: list[bytes] = []  # the files completed
        self.buffer: io.BytesIO | None = None
        self.seen = time.monotonic()
        self._skip_empty()

    @property
    def total(self) -> int:
        return sum(size for _, _, size in self.files)

    @property
    def complete(self) -> bool:
        return self.file == len(self.files)

    def _skip_empty(self) -> None:
        while not self.complete and self.files[self.file][2] == 0:
            self.store.append(b"")
            self.file += 1

    def write(self, data: bytes) -> None:
        size = self.files[self.file][2]
        if self.buffer is None:
            # Sized once up front: the bytes then come out without a copy (getvalue of
            # a BytesIO whose buffer is exactly full), so a file costs its size, not twice.
            self.buffer = io.BytesIO()
            self.buffer.seek(size - 1)
            self.buffer.write(b"\0")
            self.buffer.seek(0)
        self.buffer.write(data)
        self.offset += len(data)
        self.seen = time.monotonic()
        if self.offset == size:
            self.store.append(self.buffer.getvalue())
            self.buffer = None
            self.file += 1
            self.offset = 0
            self._skip_empty()

    def uploaded(self) -> list[UploadedFile]:
        return [UploadedFile(name, mime, data) for (name, mime, _), data in zip(self.files, self.store, strict=True)]


def _accepted(accept: str | list[str], name: str, mime: str) -> bool:
    tokens = accept if isinstance(accept, list) else accept.split(",")
    tokens = [token.strip().lower() for token in tokens if token.strip()]
    if not tokens:
        return True
    name, mime = name.lower(), mime.lower()
    for token in tokens:
        if token.startswith("."):
            if name.endswith(token):
                return True
        elif token.endswith("/*"):
            if mime.startswith(token[:-1]):
                return True
        elif mime == token:
            return True
    return False


def _megabytes(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB"


class FileInput(Widget):
    """A file chooser that uploads to Python: ``on_upload(callback)`` gets the files' bytes.

    ``accept`` filters as the HTML attribute does (".csv,image/*"); ``multiple`` lets
    the user choose several files; ``max_size`` lowers the site's limit
    (``DOCSYNC["MAX_UPLOAD_BYTES"]``) for this input; both limit one upload's files together.
    After an upload, ``filename`` and ``mime_type`` hold what the browser gave (a string,
    or a list when ``multiple``), as in Bokeh; the bytes go to the callbacks only, not into
    the document, so they are never sent back to browsers.
    """

    __slots__ = ("_upload",)
    __client_events__ = frozenset({UPLOAD_START, UPLOAD_CHUNK, UPLOAD_CANCEL})
    title = String()
    accept = Either(String(), List(String()), default="")
    multiple = Bool(False)
    max_size = Nullable(Int(), help="Largest upload in bytes (all its files together), below the site's limit.")
    filename = Either(String(), List(String()), default="")
    mime_type = Either(String(), List(String()), default="")

    def __init__(self, *, id: str | None = None, **properties: Any) -> None:
        self._upload: _Upload | None = None
        super().__init__(id=id, **properties)

    def on_upload(self, callback: Callable[[list[UploadedFile]], Any]) -> None:
        """Call ``callback(files)`` with the list of :class:`UploadedFile` of each finished upload."""
        # Registered under the event names that can finish an upload, so that the
        # server runs a sync callback in a worker thread (see _trigger_event).
        self.on_event(UPLOAD_START, callback)
        self.on_event(UPLOAD_CHUNK, callback)

    @property
    def limit(self) -> int:
        """The largest upload this input takes, in bytes."""
        document = self.document
        site = document.max_upload_bytes if document is not None else None
        own = self.max_size
        limits = [n for n in (site, own) if n is not None]
        return min(limits) if limits else 0

    # -- checking a browser's events -----------------------------------------------------

    def check_client_event(self, event: Any, scratch: dict[str, Any]) -> None:
        data = event.msg_data
        upload = data.get("upload") if isinstance(data, dict) else None
        if not isinstance(upload, str) or not 1 <= len(upload) <= MAX_UPLOAD_ID:
            # Say the bound: a client that sent a long id was told only that it needs one.
            raise PatchError(f"FileInput {event.msg_type} needs an 'upload' id of 1 to {MAX_UPLOAD_ID} characters")
        if event.msg_type == UPLOAD_START:
            scratch["cursor"] = self._check_start(data)
        elif event.msg_type == UPLOAD_CHUNK:
            scratch["cursor"] = self._check_chunk(data, scratch.get("cursor", self._cursor()))
        else:
            scratch["cursor"] = None

    def _cursor(self) -> tuple[str, list[int], int, int] | None:
        upload = self._upload
        if upload is None or upload.complete:
            return None
        return (upload.id, [size for _, _, size in upload.files], upload.file, upload.offset)

    def _check_start(self, data: dict[str, Any]) -> tuple[str, list[int], int, int] | None:
        files = data.get("files")
        if not isinstance(files, list) or not 1 <= len(files) <= MAX_FILES:
            raise PatchError(f"FileInput upload_start needs 1 to {MAX_FILES} files")
        if len(files) > 1 and not self.multiple:
            raise PatchError(f"FileInput takes one file at a time, not {len(files)}")
        sizes = []
        for file in files:
            if not isinstance(file, dict):
                raise PatchError("FileInput upload_start: each file needs a name, a type and a size")
            name, mime, size = file.get("name"), file.get("type"), file.get("size")
            if not isinstance(name, str) or not name or len(name) > MAX_NAME or _BAD_NAME.search(name):
                raise PatchError(f"FileInput refused a file name: {name!r:.60}")
            if not isinstance(mime, str) or len(mime) > MAX_NAME:
                raise PatchError(f"FileInput refused the MIME type of {name!r:.60}")
            if type(size) is not int or size < 0:
                raise PatchError(f"FileInput refused the size of {name!r:.60}: {size!r:.20}")
            if not _accepted(self._accept(), name, mime):
                raise PatchError(f"{name:.60} is not a file this input accepts ({self._accept_text()})")
            sizes.append(size)
        total, limit = sum(sizes), self.limit
        if total > limit:
            raise PatchError(f"upload of {_megabytes(total)} refused: this input takes at most {_megabytes(limit)}")
        busy = self._other_uploads()
        document = self.document
        if document is not None and busy + total > document.max_upload_bytes:
            raise PatchError("upload refused: other uploads to this page are in progress; try again when they finish")
        share = document.upload_share if document is not None else None
        if share is not None and not share.uploads_fit(busy + total):
            # One session's uploads are bounded above; one client's sessions together
            # (each holding what it was sent) count with their documents.
            raise PatchError(
                "upload refused: this client's documents and uploads in progress would pass what it may hold"
                " (MAX_DOCUMENT_BYTES_PER_CLIENT)"
            )
        return (data["upload"], sizes, 0, 0)

    def _accept(self) -> str | list[str]:
        # Read without storing the default: checking must leave the document as it was.
        accept: str | list[str] = self._values.get("accept", "")
        return accept

    def _accept_text(self) -> str:
        accept = self._accept()
        return ", ".join(accept) if isinstance(accept, list) else accept

    def _other_uploads(self, *, drop_abandoned: bool = False) -> int:
        """Bytes announced by unfinished uploads to the document's other inputs (abandoned ones not counted)."""
        document = self.document
        if document is None:
            return 0
        now = time.monotonic()
        busy = 0
        for model in list(document.models.values()):
            upload = model._upload if isinstance(model, FileInput) and model is not self else None
            if upload is None:
                continue
            if now - upload.seen <= ABANDONED_AFTER:
                busy += upload.total
            elif drop_abandoned:
                model._upload = None
        return busy

    @staticmethod
    def _check_chunk(
        data: dict[str, Any], cursor: tuple[str, list[int], int, int] | None
    ) -> tuple[str, list[int], int, int] | None:
        chunk = data.get("data")
        if cursor is None or data["upload"] != cursor[0]:
            raise PatchError("FileInput chunk of an upload that is not in progress")
        upload_id, sizes, file, offset = cursor
        if data.get("file") != file or data.get("offset") != offset:
            raise PatchError(f"FileInput chunk out of order: expected file {file} at byte {offset}")
        if not isinstance(chunk, bytes) or not chunk:
            raise PatchError("FileInput chunk without bytes")
        if offset + len(chunk) > sizes[file]:
            raise PatchError(f"FileInput chunk past the end of file {file} ({sizes[file]} bytes announced)")
        offset += len(chunk)
        while file < len(sizes) and offset == sizes[file]:
            file, offset = file + 1, 0
        return (upload_id, sizes, file, offset) if file < len(sizes) else None

    # -- applying them -------------------------------------------------------------------

    def _trigger_event(self, event: Any) -> None:
        if event.msg_type not in self.__client_events__:
            super()._trigger_event(event)
            return
        if event.setter is None:
            return  # not from a browser (Python's own message): never an upload
        data = event.msg_data
        if event.msg_type == UPLOAD_CANCEL:
            if self._upload is not None and self._upload.id == data["upload"]:
                self._upload = None
                self._count_uploads()
            return
        if event.msg_type == UPLOAD_START:
            self._other_uploads(drop_abandoned=True)  # their memory goes now, not when the session ends
            files = [(f["name"], f["type"] or "application/octet-stream", f["size"]) for f in data["files"]]
            self._upload = _Upload(data["upload"], files)
            self._count_uploads()
        else:
            assert self._upload is not None  # checked: the chunk belongs to this upload
            self._upload.write(data["data"])
        upload = self._upload
        if upload is not None and upload.complete:
            self._upload = None
            self._count_uploads()
            self._finished(upload.uploaded(), event.msg_type)

    def _count_uploads(self) -> None:
        """Count the bytes announced by the document's uploads in progress against its client's share."""
        document = self.document
        share = document.upload_share if document is not None else None
        if share is None:
            return
        held = 0
        for model in list(document.models.values()):
            upload = model._upload if isinstance(model, FileInput) else None
            if upload is not None:
                held += upload.total
        share.count_uploads(held)

    def _finished(self, files: list[UploadedFile], msg_type: str) -> None:
        names = [f.filename for f in files]
        types = [f.mime_type for f in files]
        self.filename = names if self.multiple else names[0]
        self.mime_type = types if self.multiple else types[0]
        for callback in tuple((self._event_callbacks or {}).get(msg_type, ())):
            self._invoke(callback, files)
