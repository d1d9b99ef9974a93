"""A change whose Python callback raised is still told to the document's listeners (the session's other tabs)."""

from __future__ import annotations

from typing import Any

from bokeh.document.callbacks import DocumentCallbackManager, invoke_with_curdoc

__all__ = ["install_changes_told_despite_callback_errors"]

_original_trigger = DocumentCallbackManager.trigger_on_change


def _trigger_on_change(self: Any, event: Any) -> None:
    """``DocumentCallbackManager.trigger_on_change``, its listeners told even when a model's callback raised."""
    invoker = event.callback_invoker
    document = self._document()
    if invoker is None or document is None or self._hold is not None:
        _original_trigger(self, event)
        return
    # Bokeh runs the model's callbacks first and its document's listeners (docsync's
    # session, which sends the change to the other tabs) only if none raised: the change,
    # already made, was then never sent, and every other tab kept the old value while
    # the document and each new tab held the new one.
    # (As Bokeh's own, a call for a call: it runs for every change.)
    try:
        invoke_with_curdoc(document, invoker)
    finally:

        def invoke_callbacks() -> None:
            for callback in self.change_callbacks():
                callback(event)

        invoke_with_curdoc(document, invoke_callbacks)


def install_changes_told_despite_callback_errors() -> None:
    """Have every change reach the document's listeners, even when a Python callback of it raised."""
    if DocumentCallbackManager.trigger_on_change is _original_trigger:
        DocumentCallbackManager.trigger_on_change = _trigger_on_change  # type: ignore[method-assign]
