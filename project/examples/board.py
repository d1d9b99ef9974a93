"""board: a shared note board; everyone on the same room edits one document.

It also shows the custom-model extension API: ``NoteBoard`` names its own view module.
"""

from __future__ import annotations

from docsync.document import Document, Model
from docsync.document.models import Column, Div
from docsync.document.properties import List, String


class NoteBoard(Model):
    """A list of notes that browsers may edit; rendered by a custom JavaScript view."""

    __client_writable__ = frozenset({"notes"})
    __view_module__ = "extensions/note_board.js"  # beside docsync's client modules
    title = String("Notes")
    notes = List(String())


def modify_doc(doc: Document) -> None:
    """Build the board app (one session per room: the app is declared shared)."""
    board = NoteBoard(title="Shared notes", notes=["Welcome! Add a note below."], name="board")
    count = Div(text="1 note", name="count")

    def recount(attr: str, old: object, new: list[str]) -> None:
        count.text = f"{len(new)} note{'s' if len(new) != 1 else ''}"

    board.on_change("notes", recount)
    doc.add_root(Column(board, count, name="layout"))
    doc.title = "board"
