"""An app entry's ``"title"`` reaches a docsync app without touching the project's own Application."""

from __future__ import annotations

import pytest

from docsync.handlers import Application, FunctionHandler
from docsync.server.app_loader import load_application


def _modify(doc: object) -> None:
    """Add nothing."""


def test_the_entry_title_is_set_on_a_copy() -> None:
    own = Application(FunctionHandler(_modify), title="own")
    titled = load_application(own, title="Ledger")
    assert (titled.title, own.title) == ("Ledger", "own")  # another path serving ``own`` keeps its title
    assert titled.handlers == own.handlers
    assert load_application(own) is own


def test_a_title_that_is_not_a_string_fails_the_app_saying_so() -> None:
    failed = load_application(Application(FunctionHandler(_modify)), title=["Ledger"])
    assert failed.failed
    assert failed.error is not None and "title is a string, not list" in failed.error


def test_a_bokeh_title_that_is_not_a_string_fails_the_app_saying_so() -> None:
    pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")
    from docsync.bokeh.application import load_bokeh_application

    failed = load_bokeh_application(_modify, title=7)
    assert failed.failed and failed.title is None
    assert failed.error is not None and "title is a string, not int" in failed.error
    assert load_bokeh_application(_modify, title="Grown").title == "Grown"
