"""bench_big: the benchmark document with a 1,000,000-point data source (the large pull: 16 MB of binary columns)."""

from __future__ import annotations

from docsync.document import Document

from .bench import make_bench_doc

POINTS = 1_000_000


def modify_doc(doc: Document) -> None:
    """Build the bench_big app."""
    make_bench_doc(doc, POINTS)
