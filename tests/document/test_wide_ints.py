"""An integer past 64 bits is refused where it would be stored: the wire could not carry it, nor any pull."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from docsync.document import Document, Model
from docsync.document.models import ColumnDataSource, Div, Spinner
from docsync.document.properties import Any_, Dict, List, String
from docsync.exceptions import IntTooWideError
from docsync.serialization.encoder import wide_int

WIDE = 2**70


@pytest.mark.parametrize(
    ("write", "text"),
    [
        (lambda source: setattr(source, "data", {"x": [1, WIDE]}), f"column 'x': integer {WIDE} does not fit"),
        (lambda source: source.data.__setitem__("x", [-(2**63) - 1, 2]), f"column 'x': integer {-(2**63) - 1}"),
        (lambda source: source.stream({"x": [WIDE]}), f"streamed column 'x': integer {WIDE} does not fit"),
        (lambda source: source.patch({"x": [(0, WIDE)]}), f"patch of column 'x': integer {WIDE} does not fit"),
        (lambda source: source.patch({"x": [(slice(0, 2), [1, 2**64])]}), "integer 18446744073709551616"),
        (lambda source: setattr(source, "data", {"x": [[1], [2, WIDE]]}), f"column 'x': integer {WIDE} does not"),
    ],
    ids=["data", "column", "stream", "cell", "slice", "lines"],
)
def test_a_column_write_past_64_bits_changes_nothing(write: Callable[[Any], None], text: str) -> None:
    document = Document()
    source = ColumnDataSource(data={"x": [1, 2]})
    document.add_root(source)
    seen: list[Any] = []
    document.on_change(seen.append)
    # IntTooWideError, as docs/extending.md says (it was a plain ValidationError, and a column
    # set whole said only "expected a dict of column name to ndarray or list").
    with pytest.raises(IntTooWideError, match=text.replace("(", r"\(").replace("[", r"\[")):
        write(source)
    assert source.data == {"x": [1, 2]} and not seen
    document.to_json()  # still encodes


def test_the_bounds_themselves_are_taken() -> None:
    source = ColumnDataSource(data={"x": [2**64 - 1, -(2**63)]})
    source.stream({"x": [0]})
    assert source.data["x"] == [2**64 - 1, -(2**63), 0]


def test_an_int_property_and_an_int_spinner_refuse_past_64_bits() -> None:
    div, spinner = Div(width=10), Spinner(value=1)
    with pytest.raises(IntTooWideError, match=rf"^Div.width integer {WIDE} does not fit in 64 bits \(71 bits\)$"):
        div.width = WIDE
    with pytest.raises(IntTooWideError, match=r"Spinner.value 1.5e\+21 does not fit in 64 bits \(mode 'int'\)"):
        spinner.value = 1.5e21
    assert (div.width, spinner.value) == (10, 1)


def test_wide_int_finds_the_first_wide_one() -> None:
    assert wide_int([1, 2.5, "a", None]) is None
    assert wide_int([1, 2**64, -(2**64)]) == 2**64
    assert wide_int([[1], [2, -(2**63) - 1]]) == -(2**63) - 1
    assert wide_int([]) is None


def test_a_huge_int_is_named_by_its_bits_not_its_digits() -> None:
    # Past 4,300 digits Python refuses to write an int at all (ValueError, not the refusal).
    source = ColumnDataSource(data={"x": [1]})
    with pytest.raises(IntTooWideError, match="streamed column 'x': integer of 20001 bits does not fit in 64 bits"):
        source.stream({"x": [2**20000]})
    with pytest.raises(IntTooWideError, match=r"Div\.width integer of 20001 bits does not fit"):
        Div().width = -(2**20000)


class FreeForm(Model):
    """Free-form properties: an Any_, a dict of them, a list of them."""

    blob = Any_()
    table = Dict(String(), Any_())
    items = List(Any_())


@pytest.mark.parametrize(
    "write",
    [
        lambda m: setattr(m, "blob", WIDE),
        lambda m: setattr(m, "blob", [1, "a", WIDE]),
        lambda m: setattr(m, "blob", {"a": [{"b": (2.5, WIDE)}]}),
        lambda m: setattr(m, "blob", {WIDE: 1}),  # (a map: its keys travel too)
        lambda m: setattr(m, "blob", [{3, -WIDE}]),
        lambda m: setattr(m, "blob", [[1], [2, 2**64]]),
        lambda m: setattr(m, "table", {"k": {"j": WIDE}}),
        lambda m: m.table.__setitem__("k", WIDE),
        lambda m: m.table.update(k=[None, WIDE]),
        lambda m: setattr(m, "items", [[WIDE]]),
        lambda m: m.items.append(WIDE),
        lambda m: m.items.extend([{"x": [WIDE]}]),
        lambda m: m.items.insert(0, (1, -(2**63) - 1)),
    ],
    ids=[
        "scalar",
        "list",
        "nested",
        "map-key",
        "set",
        "lines",
        "dict",
        "dict-item",
        "dict-update",
        "list-whole",
        "append",
        "extend",
        "insert",
    ],
)
def test_a_free_form_value_holding_an_int_past_64_bits_changes_nothing(write: Callable[[Any], None]) -> None:
    document = Document()
    model = FreeForm(blob={"n": 1}, table={"k": 1}, items=[1])
    document.add_root(model)
    before = document.to_json()
    seen: list[Any] = []
    document.on_change(seen.append)
    refusal = r"^FreeForm\.(blob|table|items) integer -?\d+ does not fit in 64 bits \(\d+ bits\)$"
    with pytest.raises(IntTooWideError, match=refusal):
        write(model)
    assert not seen and document.to_json() == before  # unchanged, and it still encodes


def test_a_free_form_value_at_the_bounds_is_taken_and_pulled() -> None:
    document = Document()
    model = FreeForm(blob=[2**64 - 1, {"a": -(2**63)}])
    document.add_root(model)
    model.items.append([2**64 - 1])
    model.table["k"] = -(2**63)
    document.to_json()


def test_a_new_model_and_a_message_refuse_a_free_form_int_past_64_bits() -> None:
    with pytest.raises(IntTooWideError, match=r"^FreeForm\.blob integer of 301 bits does not fit in 64 bits$"):
        FreeForm(blob=[2**300])
    document = Document()
    with pytest.raises(IntTooWideError, match=f"^message 'x' integer {WIDE} does not fit in 64 bits"):
        document.send_message("x", {"n": [WIDE]})
    with pytest.raises(IntTooWideError, match=f"^message 'y' integer {WIDE} does not fit in 64 bits"):
        document.send_message("y", WIDE)
