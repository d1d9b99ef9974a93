"""A shared room of cards a page's own code reorders and moves (test_client_moves.py)."""

from __future__ import annotations

from typing import Any

from docsync.document import Document
from docsync.document.models import Column, Div, TextInput
from docsync.handlers import Application, FunctionHandler


class Deck(Column):
    """A Column whose children a browser may change, drawn by docsync's own Column view."""

    # Named as the view class the module exports, which the page finds by that name.
    __type_name__ = "ColumnView"
    __view_module__ = "views/layouts.js"
    __client_writable__ = frozenset({"children"})


def cards_room(doc: Document) -> None:
    """Two columns; the first holds three cards (inputs) the application keeps (as an app keeps its widgets)."""
    cards = [TextInput(value=f"card {i}", name=f"card {i}") for i in range(3)]
    board = Deck(*cards, name="board")
    aside = Deck(name="aside")
    count = Div(text="", name="count")

    def moved(attr: str, old: Any, new: Any) -> None:
        # Holds the cards: a card out of the document is still the application's.
        count.text = f"{sum(card.document is not None for card in cards)} cards shown"

    board.on_change("children", moved)
    aside.on_change("children", moved)
    doc.add_root(board)
    doc.add_root(aside)
    doc.add_root(count)


#: Clients may change the structure of a shared room (a page moves cards for everyone).
cards_room_app = Application(FunctionHandler(cards_room), allow_client_structure=True)
