"""compat.changes against the installed Bokeh: a change whose Python callback raised still reaches the listeners.

Bokeh tells a document's listeners (docsync's session, which sends the change to the
other tabs) of a change only after the model's callbacks returned; one that raised left
the change made and never sent. The first test shows that the installed Bokeh still does
so (when it stops, the workaround can go); the second, that with the workaround installed
the listener is told and the callback's error still reaches the caller.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")

from bokeh.document import Document
from bokeh.document.callbacks import DocumentCallbackManager
from bokeh.models import Slider

from docsync.bokeh.compat import changes, install_changes_told_despite_callback_errors


def _slider_raising() -> tuple[Slider, Any, list[Any]]:
    """A document's slider, its value callback (it raises), and what the document's listener was told."""
    document = Document()
    slider = Slider(start=0, end=10, value=1)
    document.add_root(slider)

    def boom(attr: str, old: Any, new: Any) -> None:
        raise ValueError("boom")

    slider.on_change("value", boom)
    told: list[Any] = []
    document.on_change(told.append)
    return slider, boom, told


@pytest.fixture
def as_installed() -> Iterator[None]:
    """Bokeh's trigger as the process had it before and after the test."""
    before = DocumentCallbackManager.trigger_on_change
    yield
    DocumentCallbackManager.trigger_on_change = before  # type: ignore[method-assign]


def test_the_installed_bokeh_tells_no_listener_of_a_change_whose_callback_raised(as_installed: None) -> None:
    DocumentCallbackManager.trigger_on_change = changes._original_trigger  # type: ignore[method-assign]
    slider, _, told = _slider_raising()
    with pytest.raises(ValueError, match="boom"):
        slider.value = 5
    assert slider.value == 5 and told == []  # made, and never sent: what the workaround is for


def test_with_the_workaround_the_listener_is_told_and_the_error_still_raised(as_installed: None) -> None:
    install_changes_told_despite_callback_errors()
    install_changes_told_despite_callback_errors()  # once is enough: installing again changes nothing
    assert DocumentCallbackManager.trigger_on_change is changes._trigger_on_change
    slider, boom, told = _slider_raising()
    with pytest.raises(ValueError, match="boom"):
        slider.value = 5
    assert slider.value == 5
    assert [(event.attr, event.new) for event in told] == [("value", 5)]
    # A change whose callbacks pass is told once, as Bokeh's own trigger tells it.
    slider.remove_on_change("value", boom)
    slider.value = 6
    assert [(event.attr, event.new) for event in told] == [("value", 5), ("value", 6)]
