"""The upload benchmark's app and settings: one FileInput whose callback reports a digest.

Served as ``upload`` when DJANGO_SETTINGS_MODULE is ``bench.upload_app`` (the demo's
settings plus this app); the callback keeps nothing, so what the server holds during an
upload is docsync's own.
"""

from __future__ import annotations

import hashlib

from docsync.document import Document
from docsync.document.models import Column, Div, FileInput
from docsync.document.models.uploads import UploadedFile
from project.settings import *  # noqa: F403
from project.settings import DOCSYNC as _DOCSYNC

DOCSYNC = {**_DOCSYNC, "APPS": {**_DOCSYNC["APPS"], "upload": "bench.upload_app.modify_doc"}}


def modify_doc(doc: Document) -> None:
    """A FileInput and a Div with the digest of the last upload."""
    field = FileInput(title="upload", multiple=True, name="upload")
    report = Div(text="", name="report")

    def arrived(files: list[UploadedFile]) -> None:
        report.text = " ".join(f"{f.size}:{hashlib.sha256(f.data).hexdigest()}" for f in files)

    field.on_upload(arrived)
    doc.add_root(Column(field, report))
