"""The same annotation code draws the same heads: docsync's defaults against the installed Bokeh's."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")

import bokeh.models as bk

import docsync.document.models as ds

from .bokeh_defaults import plain


def _head(head: Any) -> tuple[str, float, str, float] | None:
    """A head as both libraries describe it: its kind, size, line colour and width (Bokeh's are Value specs)."""
    if head is None:
        return None

    def plain(value: Any) -> Any:
        return getattr(value, "value", value)

    return (type(head).__name__, float(plain(head.size)), plain(head.line_color), float(plain(head.line_width)))


@pytest.mark.parametrize(("name", "attrs"), [("Whisker", ("lower_head", "upper_head")), ("Arrow", ("start", "end"))])
def test_default_heads_match_bokeh(name: str, attrs: tuple[str, ...]) -> None:
    mine, theirs = getattr(ds, name)(), getattr(bk, name)()
    for attr in attrs:
        assert _head(getattr(mine, attr)) == _head(getattr(theirs, attr)), attr


def test_heads_made_alone_match_bokeh() -> None:
    for name in ("OpenHead", "NormalHead", "VeeHead", "TeeHead"):
        assert _head(getattr(ds, name)()) == _head(getattr(bk, name)()), name


def test_annotation_levels_match_bokeh() -> None:
    for name in ("Span", "BoxAnnotation", "Label", "LabelSet", "Arrow", "Band", "Whisker", "Legend", "Title"):
        assert getattr(ds, name)().level == getattr(bk, name)().level, name


def test_heads_are_stroked_and_filled_as_in_bokeh() -> None:
    """Every line and fill property of Bokeh's heads, with Bokeh's default (hatching aside)."""
    for name in ("OpenHead", "NormalHead", "VeeHead", "TeeHead"):
        mine, theirs = getattr(ds, name)(), getattr(bk, name)()
        for attr in sorted(theirs.properties()):
            if attr.startswith(("line_", "fill_")):
                assert attr in mine.properties(), f"{name}.{attr}"
                assert plain(getattr(mine, attr)) == plain(getattr(theirs, attr)), f"{name}.{attr}"


def test_a_title_defaults_as_in_bokeh() -> None:
    """Every property docsync's Title has, with Bokeh's default (its text #444444, not darker)."""
    mine, theirs = ds.Title(), bk.Title()
    for attr in sorted(mine.properties()):
        assert attr in theirs.properties(), attr
        assert plain(getattr(mine, attr)) == plain(getattr(theirs, attr)), attr
