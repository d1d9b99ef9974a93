"""The app of the owner-killed fuzz (test_fuzz_owner_killed.py): the session fuzz's ``workers`` and a ledger."""

from __future__ import annotations

from docsync.document import Document
from tests.hardening.apps import workers
from tests.persistence.apps import Notes


def workers_ledger(doc: Document) -> None:
    """The ``workers`` app, and a list every client appends its markers to (``ledger``).

    Insertions into one list by several clients at once all stay (docs/convergence.md,
    3a), where streams into one column would conflict: the fuzz counts them.
    """
    workers(doc)
    doc.add_root(Notes(name="ledger"))
