"""DatetimeTickFormatter's boundary scaling and context line: what the model accepts, and that it crosses the wire."""

from __future__ import annotations

import pytest

from docsync.document import Document
from docsync.document.models import DatetimeTickFormatter, NumeralTickFormatter
from docsync.exceptions import ValidationError
from docsync.plotting import figure

from .helpers import assert_docs_equal, json_roundtrip


def test_defaults_are_bokehs_no_context_and_boundary_scaling_on() -> None:
    formatter = DatetimeTickFormatter()
    assert formatter.context is None
    assert formatter.boundary_scaling is True
    assert formatter.context_which == "start"
    assert formatter.milliseconds == "%3Nms"


def test_context_is_a_pattern_or_another_formatter() -> None:
    formatter = DatetimeTickFormatter(context="%Y-%m-%d")
    assert formatter.context == "%Y-%m-%d"
    inner = DatetimeTickFormatter(milliseconds="%H:%M:%S", seconds="%H:%M")
    formatter.context = inner
    assert formatter.context is inner
    formatter.context = None
    assert formatter.context is None


@pytest.mark.parametrize(
    ("attr", "bad"),
    [("context", 5), ("context", NumeralTickFormatter()), ("context_which", "middle"), ("boundary_scaling", "yes")],
)
def test_bad_values_are_refused_and_leave_the_formatter_unchanged(attr: str, bad: object) -> None:
    formatter = DatetimeTickFormatter(context="%F")
    before = getattr(formatter, attr)
    with pytest.raises(ValidationError, match=rf"^DatetimeTickFormatter\.{attr} expected "):
        setattr(formatter, attr, bad)
    assert getattr(formatter, attr) == before


def test_a_nested_context_formatter_crosses_the_wire() -> None:
    p = figure(x_axis_type="datetime")
    p.line([0, 86_400_000], [1, 2])
    p.xaxis.formatter = DatetimeTickFormatter(
        context=DatetimeTickFormatter(hours="%b %d, %Y", days="%Y"), context_which="all", boundary_scaling=False
    )
    doc = Document()
    doc.add_root(p)
    again = json_roundtrip(doc)
    assert_docs_equal(doc, again)
    (formatter,) = [m for m in again.models.values() if isinstance(m, DatetimeTickFormatter) and m.context is not None]
    assert isinstance(formatter.context, DatetimeTickFormatter)
    assert formatter.context.hours == "%b %d, %Y"
    assert (formatter.context_which, formatter.boundary_scaling) == ("all", False)
