"""Dropdown: a button that opens a menu of actions; each click reaches Python."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ...exceptions import PatchError
from ..properties import Bool, Either, Enum, List, Nullable, String, Tuple
from .widgets import BUTTON_TYPES, Widget

__all__ = ["Dropdown", "MenuItemClick"]

MENU_ITEM_CLICK = "menu_item_click"


@dataclass(frozen=True, slots=True)
class MenuItemClick:
    """What a Dropdown's click callback receives: the model and the item clicked."""

    model: Dropdown
    item: str | None


class Dropdown(Widget):
    """A button with a menu; ``menu`` items are labels, (label, item) pairs or None (a divider).

    A click on an item sends ``"menu_item_click"`` with ``{"item": ...}`` (the item of a
    pair, else its label); with ``split``, a click on the button itself sends
    ``"button_click"``. ``on_click(callback)`` gets a :class:`MenuItemClick` for both
    (``item`` None for the button).
    """

    __client_events__ = frozenset({MENU_ITEM_CLICK, "button_click"})
    label = String("Dropdown")
    button_type = Enum(*BUTTON_TYPES)
    menu = List(Nullable(Either(String(), Tuple(String(), String()))))
    split = Bool(False, help="A separate arrow opens the menu; the button itself is clickable.")

    def items(self) -> list[str]:
        """Return the item of each entry of the menu (dividers left out)."""
        return [entry if isinstance(entry, str) else entry[1] for entry in self.menu if entry is not None]

    def check_client_event(self, event: Any, scratch: dict[str, Any]) -> None:
        if event.msg_type == "button_click":
            if not self.split:
                raise PatchError("Dropdown: the button is not clickable unless split")
            return
        data = event.msg_data
        item = data.get("item") if isinstance(data, dict) else None
        if not isinstance(item, str) or item not in self.items():
            raise PatchError(f"Dropdown has no menu item {item!r:.40}")

    def on_click(self, callback: Callable[[MenuItemClick], Any]) -> None:
        """Call ``callback(MenuItemClick)`` for each click on an item (or on a split button)."""

        def forward(event: Any) -> Any:
            # An async callback's coroutine is returned, and awaited by the server.
            data = event.msg_data
            return callback(MenuItemClick(self, data.get("item") if isinstance(data, dict) else None))

        self.on_event(MENU_ITEM_CLICK, forward)
        self.on_event("button_click", forward)
