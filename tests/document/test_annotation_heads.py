"""A Whisker's caps and an Arrow's head by default, as in Bokeh; what the wire says wins; a Whisker's level."""

from __future__ import annotations

from docsync.document import Document
from docsync.document.models import Arrow, ColumnDataSource, NormalHead, OpenHead, TeeHead, Whisker

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
