"""A patch's event naming a model the app's callback of an earlier event took out is left out (withdrawn.py).

On a real Bokeh document, through ``apply_client_patch`` as the session calls it:
tests/hardening/test_bokeh_hidden_by_callback.py runs it against a server.
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")

from bokeh.document import Document
from bokeh.models import Column, Div, Row, Select

from docsync.bokeh.wire import apply_client_patch
from docsync.protocol import new_message


def _swapper() -> tuple[Document, dict[str, Div], Select, Column, Row]:
    """A Select whose callback shows one of two views (the other leaves the document, kept by the app)."""
    document = Document()
    views = {"a": Div(text="view a"), "b": Div(text="view b")}
    choice = Select(options=["a", "b"], value="a")
    layout, side = Column(choice, views["a"]), Row()

    def show(attr: str, old: Any, new: Any) -> None:
        layout.children = [choice, views[new]]

    choice.on_change("value", show)
    document.add_root(layout)
    document.add_root(side)
    return document, views, choice, layout, side


def _apply(document: Document, events: list[dict[str, Any]], left_out: list[Any]) -> bool:
    return apply_client_patch(document, new_message("PATCH-DOC", {"events": events}), "tab", left_out=left_out)


def _choose(choice: Select, value: str) -> dict[str, Any]:
    return {"kind": "ModelChanged", "model": {"id": choice.id}, "attr": "value", "new": value}


def test_a_view_the_callback_hid_is_not_put_back_as_a_root() -> None:
    document, views, choice, layout, side = _swapper()
    put_back = {"kind": "RootAdded", "model": {"id": views["a"].id}}
    left_out: list[Any] = []
    assert _apply(document, [_choose(choice, "b"), put_back], left_out)
    assert left_out == [put_back]
    assert views["a"].document is None and list(document.roots) == [layout, side]
    assert list(layout.children) == [choice, views["b"]]


def test_nor_into_a_layout_and_a_later_change_of_that_layout_is_left_out_too() -> None:
    document, views, choice, _, side = _swapper()
    into = {"kind": "ModelChanged", "model": {"id": side.id}, "attr": "children", "new": [{"id": views["a"].id}]}
    emptied = {"kind": "ModelChanged", "model": {"id": side.id}, "attr": "children", "new": []}
    changed = {"kind": "ModelChanged", "model": {"id": views["a"].id}, "attr": "text", "new": "mine"}
    left_out: list[Any] = []
    assert _apply(document, [_choose(choice, "b"), into, emptied, changed], left_out)
    assert left_out == [into, emptied, changed]
    assert list(side.children) == [] and views["a"].text == "view a"


def test_a_move_of_the_patch_s_own_is_still_applied() -> None:
    # The view taken out by the patch's own first change, its callback running, then put in the Row.
    document, views, choice, layout, side = _swapper()

    def note(attr: str, old: Any, new: Any) -> None:  # the app's change, while the view is out
        choice.title = f"{len(new)} shown"

    layout.on_change("children", note)
    out = {"kind": "ModelChanged", "model": {"id": layout.id}, "attr": "children", "new": [{"id": choice.id}]}
    into = {"kind": "ModelChanged", "model": {"id": side.id}, "attr": "children", "new": [{"id": views["a"].id}]}
    left_out: list[Any] = []
    assert _apply(document, [out, into], left_out)
    assert left_out == [] and list(side.children) == [views["a"]] and views["a"].document is document
    assert choice.title == "1 shown"
