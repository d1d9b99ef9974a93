"""Annotation heads as in Bokeh (Whisker caps, Arrow end; what the wire says wins); a head's line and fill; levels."""

from __future__ import annotations

import pytest

from docsync.document import Document
from docsync.document.models import Arrow, ColumnDataSource, NormalHead, OpenHead, TeeHead, VeeHead, Whisker
from docsync.exceptions import ValidationError

from .helpers import assert_docs_equal, json_roundtrip


def test_a_whisker_is_capped_at_each_end_by_its_own_tee_of_size_10_unless_told() -> None:
    whisker = Whisker(source=ColumnDataSource())
    upper, lower = whisker.upper_head, whisker.lower_head
    assert isinstance(upper, TeeHead) and isinstance(lower, TeeHead)
    assert upper is not lower
    assert (upper.size, upper.line_color, upper.line_width) == (10.0, "black", 1.0)
    assert (lower.size, lower.line_color, lower.line_width) == (10.0, "black", 1.0)
    assert Whisker().upper_head is not upper  # each whisker has its own
    # A cap given, or None, is kept.
    tee = TeeHead(size=4, line_color="red")
    whisker = Whisker(upper_head=None, lower_head=tee)
    assert whisker.upper_head is None
    assert whisker.lower_head is tee


def test_a_tee_head_alone_and_an_arrow_s_head_have_bokeh_s_sizes() -> None:
    assert TeeHead().size == 25.0
    arrow = Arrow(x_start=0, y_start=0, x_end=1, y_end=1)
    assert isinstance(arrow.end, OpenHead) and arrow.end.size == 25.0
    assert arrow.start is None
    assert Arrow(end=None).end is None
    head = NormalHead(size=10)
    assert Arrow(end=head).end is head


def test_the_wire_keeps_caps_and_their_absence() -> None:
    doc = Document()
    capped = Whisker()
    bare = Whisker(upper_head=None, lower_head=None)
    headless = Arrow(end=None)
    for model in (capped, bare, headless):
        doc.add_root(model)
    again = json_roundtrip(doc)
    assert_docs_equal(doc, again)
    copy = again.get_model_by_id(capped.id)
    assert isinstance(copy.upper_head, TeeHead) and copy.upper_head.id == capped.upper_head.id
    assert copy.lower_head.size == 10.0
    # Decoded models hold what the wire says: no caps made up for those that had none.
    assert again.get_model_by_id(bare.id).upper_head is None
    assert again.get_model_by_id(bare.id).lower_head is None
    assert again.get_model_by_id(headless.id).end is None
    assert len(again.models) == len(doc.models) == 5  # 3 roots and capped's 2 tees


def test_a_whisker_draws_under_the_glyphs_as_in_bokeh() -> None:
    assert Whisker().level == "underlay"
    assert Whisker(level="annotation").level == "annotation"


def test_a_head_is_stroked_and_filled_as_a_line_is() -> None:
    tee = TeeHead(line_alpha=0.5, line_dash="dashed", line_dash_offset=2, line_cap="round", line_join="miter")
    assert (tee.line_alpha, tee.line_dash, tee.line_dash_offset, tee.line_cap, tee.line_join) == (
        0.5, "dashed", 2, "round", "miter",
    )  # fmt: skip
    head = NormalHead()
    assert (head.line_alpha, head.line_dash, head.line_dash_offset, head.line_cap, head.line_join) == (
        1.0, "solid", 0, "butt", "bevel",
    )  # fmt: skip
    assert head.fill_alpha == 1.0 and NormalHead(fill_alpha=0.2).fill_alpha == 0.2
    assert OpenHead(line_dash=[4, 2]).line_dash == [4, 2]
    with pytest.raises(ValidationError):
        TeeHead(line_cap="pointy")
    # An arrow whose head was given them keeps them over the wire.
    doc = Document()
    doc.add_root(Arrow(end=VeeHead(line_alpha=0.3, fill_alpha=0.6, line_join="round")))
    again = json_roundtrip(doc)
    assert_docs_equal(doc, again)
    end = again.roots[0].end
    assert (end.line_alpha, end.fill_alpha, end.line_join) == (0.3, 0.6, "round")
