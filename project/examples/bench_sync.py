"""bench_sync: the bench app with a sync callback, run in a worker thread (bench/run.py measures both)."""

from __future__ import annotations

from docsync.document import Document

from .bench import POINTS, make_bench_doc


def modify_doc(doc: Document) -> None:
    """Build the bench app, its slider's callback sync (as README's "Writing an app" teaches)."""
    make_bench_doc(doc, POINTS, sync=True)
