"""A browser may write only what a widget offers its user, and leaves a source's columns even.

App code trusts a Select's value (a file, a column, a field name): a raw websocket
setting one outside the options, a slider past its end, a date past max_date, a source's
columns of different lengths, is refused with ERROR ``patch-refused``; the document stays
byte-identical and no callback runs. What the browser's widget sends (a slider at its
ends, a float step, an option) is still taken. Against a real server.
"""

from __future__ import annotations

from typing import Any

import pytest

from docsync.testing import EVENT_WAIT

from .harness import Site, set_value_patch
from .hostile import Victim, definition, patch

pytestmark = pytest.mark.asyncio


def _date(iso: str) -> dict[str, str]:
    return {"type": "date", "iso": iso}


#: NaN on the wire.
NAN = {"type": "number", "value": "nan"}
INF = {"type": "number", "value": "+inf"}

#: (widget name, property, value on the wire, the refusal's text).
REFUSED: list[tuple[str, str, Any, str]] = [
    ("select", "value", "zzz", "Select.value 'zzz' is not among its options"),
    ("select", "value", "A", "Select.value 'A' is not among its options"),  # a label is not a value
    ("multi_select", "value", ["a", "A"], "MultiSelect.value 'A' is not among its options"),
    ("multi_choice", "value", ["c", "../etc/passwd"], "MultiChoice.value '../etc/passwd' is not among its options"),
    ("auto", "value", "Paris", "AutocompleteInput.value 'Paris' is not among its options"),
    ("slider", "value", 1_000_001, "Slider.value 1000001 is above end 1000000"),
    ("slider", "value", -1, "Slider.value -1 is below start 0"),
    ("range", "value", [0.0, 0.5], "RangeSlider.value 0.0 is below start 0.1"),
    ("range", "value", [0.2, 99], "RangeSlider.value 99.0 is above end 0.9"),
    # NaN compares false with both ends: it was taken (at b4124b0), a value no thumb can hold.
    ("slider", "value", NAN, "Slider.value nan is not between start 0 and end 1000000"),
    (
        "range",
        "value",
        [NAN, 0.5],
        "RangeSlider.value nan is not between start 0.1 and end 0.9",
    ),
    ("spinner", "value", 11, "Spinner.value 11 is above high 10"),
    ("date", "value", _date("2025-01-01"), "DatePicker.value 2025-01-01 is above max_date 2024-12-31"),
    ("open_date", "value", _date("2025-01-01"), "DatePicker.value 2025-01-01 is above max_date 2024-12-31"),
    (
        "date_range",
        "value",
        [_date("2023-12-31"), _date("2024-01-02")],
        "DateRangePicker.value 2023-12-31 is below min_date 2024-01-01",
    ),
    (
        "datetime",
        "value",
        {"type": "datetime", "iso": "2024-01-31T18:00:01"},
        "DatetimePicker.value 2024-01-31T18:00:01 is above max_date 2024-01-31T18:00:00",
    ),
    ("time", "value", {"type": "time", "iso": "07:59:00"}, "TimePicker.value 07:59:00 is below min_time 08:00:00"),
    (
        "night",
        "value",
        {"type": "time", "iso": "12:00:00"},
        "TimePicker.value 12:00:00 is between max_time 06:00:00 and min_time 22:00:00",
    ),
    (
        "date_slider",
        "value",
        [_date("2024-01-10"), _date("2024-03-02")],
        "DateRangeSlider.value 2024-03-02 is above end 2024-03-01",
    ),
    ("tabs", "active", 1, "Tabs.active 1 is a disabled tab"),
    ("tabs", "active", 3, "Tabs.active 3 is out of range: 3 tabs"),
    # No zoom or pan leaves a range's end at NaN or an infinity: they were taken and sent to
    # every tab (a plot whose axis no browser can draw), and app callbacks got them.
    ("x_range", "start", NAN, "Range1d.start nan is not a finite number"),
    ("x_range", "end", INF, "Range1d.end inf is not a finite number"),
    ("y_range", "start", {"type": "number", "value": "-inf"}, "DataRange1d.start -inf is not a finite number"),
    ("factors", "end", NAN, "FactorRange.end nan is not a finite number"),
]

#: What the browser's widgets send in normal use: every one is applied.
ACCEPTED: list[tuple[str, str, Any]] = [
    ("select", "value", "b"),
    ("multi_select", "value", ["b", "a"]),
    ("multi_choice", "value", ["c", "a"]),
    ("auto", "value", "Berlin"),
    ("auto_free", "value", "anything typed"),  # restrict=False: any text
    ("slider", "value", 1_000_000),  # the thumb at either end
    ("slider", "value", 0),
    ("range", "value", [0.1, 0.9]),
    ("range", "value", [0.30000000000000004, 0.9000000000000001]),  # float steps, as JavaScript adds them
    ("spinner", "value", 10),
    ("date", "value", _date("2024-12-31")),
    ("open_date", "value", _date("1900-01-01")),  # a bound that is None does not bound
    ("date_range", "value", [_date("2024-01-01"), _date("2024-12-31")]),
    ("datetime", "value", {"type": "datetime", "iso": "2024-01-31T18:00:00"}),
    ("time", "value", {"type": "time", "iso": "08:00:00"}),
    ("night", "value", {"type": "time", "iso": "01:30:00"}),  # past midnight, within the overnight range
    ("date_slider", "value", [_date("2024-01-01"), _date("2024-03-01")]),
    ("tabs", "active", 2),
    ("date", "value", None),  # a cleared picker
    ("x_range", "start", -2.5),  # zoomed and panned
    ("x_range", "end", 1e300),
    ("y_range", "end", 7.0),
    ("y_range", "start", None),  # reset: following the data again
    ("factors", "start", 0.5),
]


async def test_a_value_a_widget_does_not_offer_is_refused_and_changes_nothing(site: Site) -> None:
    victim = await Victim.open(site, "offered")
    try:
        for name, attr, value, text in REFUSED:
            message = set_value_patch(victim.model_id(name), attr, value)
            assert await victim.refused(message, code="patch-refused") == text, (name, value)
            assert await victim.document_bytes() == victim.before, f"{name}: a refused value changed the document"
        calls = victim.observer.document.get_model_by_name("calls")
        assert calls.text == "", "a callback ran for a refused value"  # type: ignore[union-attr]
        await victim.assert_unharmed()
    finally:
        await victim.close()


async def test_what_the_browser_widgets_send_is_accepted(site: Site) -> None:
    victim = await Victim.open(site, "offered")
    try:
        sock = await victim.raw()
        try:
            for name, attr, value in ACCEPTED:
                reply = await sock.request(set_value_patch(victim.model_id(name), attr, value))
                assert reply.msgtype == "OK", (name, value, reply.content)
        finally:
            await sock.close()
        document = victim.observer.document
        await victim.observer.wait_for(lambda: document.get_model_by_name("date").value is None, EVENT_WAIT)  # type: ignore[union-attr]
        assert document.get_model_by_name("select").value == "b"  # type: ignore[union-attr]
        assert document.get_model_by_name("auto_free").value == "anything typed"  # type: ignore[union-attr]
        assert document.get_model_by_name("tabs").active == 2  # type: ignore[union-attr]
    finally:
        await victim.close()


async def test_a_value_the_app_set_outside_the_options_may_be_sent_back(site: Site) -> None:
    # An app may set what it likes, and the browser's widget may send it back: a MultiChoice
    # whose other tag the user removed, a Select left as it was. The client adds nothing.
    victim = await Victim.open(site, "offered")
    try:
        tags, legacy = victim.model_id("tags"), victim.model_id("legacy_select")
        text = await victim.refused(set_value_patch(tags, "value", ["legacy", "zzz"]), code="patch-refused")
        assert text == "MultiChoice.value 'zzz' is not among its options"
        text = await victim.refused(set_value_patch(legacy, "value", "older"), code="patch-refused")
        assert text == "Select.value 'older' is not among its options"
        await victim.assert_unharmed()
        sock = await victim.raw()
        try:
            assert (await sock.request(set_value_patch(tags, "value", ["legacy"]))).msgtype == "OK"
            assert (await sock.request(set_value_patch(legacy, "value", "old"))).msgtype == "OK"
            assert (await sock.request(set_value_patch(legacy, "value", "a"))).msgtype == "OK"
        finally:
            await sock.close()
        model = victim.observer.document.get_model_by_name("legacy_select")
        await victim.observer.wait_for(lambda: model.value == "a", EVENT_WAIT)  # type: ignore[union-attr]
        assert victim.observer.document.get_model_by_name("tags").value == ["legacy"]  # type: ignore[union-attr]
    finally:
        await victim.close()


def _column_events(source: str) -> list[tuple[dict[str, Any], str]]:
    ref = {"id": source}
    uneven = "ColumnDataSource.data columns would have different lengths"
    return [
        (
            {"kind": "ModelChanged", "model": ref, "attr": "data", "new": {"x": [1.0], "y": [1.0, 2.0]}},
            f"{uneven} ('x': 1, 'y': 2)",
        ),
        (
            {"kind": "ColumnDataChanged", "model": ref, "attr": "data", "columns": {"x": [1.0, 2.0, 3.0, 4.0]}},
            f"{uneven} ('x': 4, 'y': 3)",
        ),
        (
            {"kind": "ColumnDataChanged", "model": ref, "attr": "data", "columns": {"z": [1.0]}},
            f"{uneven} ('x': 3, 'y': 3, 'z': 1)",
        ),
    ]


async def test_a_patch_leaving_columns_of_different_lengths_is_refused(site: Site) -> None:
    victim = await Victim.open(site, "offered")
    try:
        source = victim.model_id("source")
        for event, text in _column_events(source):
            assert await victim.refused(patch([event]), code="patch-refused") == text
            assert await victim.document_bytes() == victim.before, f"{event['kind']} changed the document"
        # A stream after a new value of one column, in one patch: as the patch leaves it.
        grow = {"kind": "ColumnDataChanged", "model": {"id": source}, "attr": "data", "columns": {"x": [9.0] * 4}}
        stream = {"kind": "ColumnsStreamed", "model": {"id": source}, "attr": "data", "rollover": None}
        stream["data"] = {"x": [1.0], "y": [1.0]}
        text = await victim.refused(patch([grow, stream]), code="patch-refused")
        assert text == "ColumnDataSource.data columns would have different lengths ('x': 5, 'y': 4)"
        await victim.assert_unharmed()
        # Even columns are taken: new data, one column replaced at its length, a stream, a cell.
        sock = await victim.raw()
        try:
            for event in (
                {"kind": "ModelChanged", "model": {"id": source}, "attr": "data", "new": {"x": [1.0], "y": [2.0]}},
                {"kind": "ColumnDataChanged", "model": {"id": source}, "attr": "data", "columns": {"x": [5.0]}},
                {**stream, "data": {"x": [6.0, 7.0], "y": [8.0, 9.0]}},
                {"kind": "ColumnsPatched", "model": {"id": source}, "attr": "data", "patches": {"y": [[0, 0.5]]}},
            ):
                reply = await sock.request(patch([event]))
                assert reply.msgtype == "OK", (event, reply.content)
        finally:
            await sock.close()
        data = victim.observer.document.get_model_by_name("source").data  # type: ignore[union-attr]
        await victim.observer.wait_for(lambda: list(data["y"]) == [0.5, 8.0, 9.0], EVENT_WAIT)
        assert list(data["x"]) == [5.0, 6.0, 7.0]
    finally:
        await victim.close()


async def test_a_source_the_app_left_uneven_takes_changes_that_keep_its_lengths(site: Site) -> None:
    victim = await Victim.open(site, "offered")
    try:
        ref = {"id": victim.model_id("uneven")}
        grow = {"kind": "ColumnDataChanged", "model": ref, "attr": "data", "columns": {"y": [1.0, 2.0]}}
        text = await victim.refused(patch([grow]), code="patch-refused")
        assert text == "ColumnDataSource.data columns would have different lengths ('x': 3, 'y': 2)"
        await victim.assert_unharmed()
        sock = await victim.raw()
        try:
            cell = {"kind": "ColumnsPatched", "model": ref, "attr": "data", "patches": {"x": [[0, 9.0]]}}
            assert (await sock.request(patch([cell]))).msgtype == "OK"  # every length kept
            even = {"kind": "ColumnDataChanged", "model": ref, "attr": "data", "columns": {"x": [5.0]}}
            assert (await sock.request(patch([even]))).msgtype == "OK"  # now even
        finally:
            await sock.close()
        data = victim.observer.document.get_model_by_name("uneven").data  # type: ignore[union-attr]
        await victim.observer.wait_for(lambda: list(data["x"]) == [5.0], EVENT_WAIT)
    finally:
        await victim.close()


def _named(made: dict[str, Any], name: str) -> dict[str, Any]:
    made["attributes"]["name"] = name
    return made


async def test_a_widget_a_patch_defines_is_judged_by_its_own_offer_and_has_no_name(site: Site) -> None:
    # Its creator chose its offer too: its values must be among it, as every widget's are (other
    # tabs show it). It carries no name: an app finds its own models by name, and a client's
    # model so named (once the app's root is removed) would stand in for the app's.
    victim = await Victim.open(site, "offered")
    try:
        for made, text in (
            (
                definition("n1", "ColumnDataSource", data={"x": [1.0], "y": [1.0, 2.0]}),
                "ColumnDataSource.data columns would have different lengths ('x': 1, 'y': 2)",
            ),
            (definition("n1", "Select", options=["a"], value="zzz"), "Select.value 'zzz' is not among its options"),
            (definition("n1", "Slider", start=0, end=1, step=0.1, value=5), "Slider.value 5.0 is above end 1"),
            (
                definition("n1", "MultiChoice", options=["a"], value=["a", "b"]),
                "MultiChoice.value 'b' is not among its options",
            ),
            (
                _named(definition("n1", "Select", options=["a"], value="a"), "select"),
                "new Select named 'select': a client may not name a model it creates",
            ),
            (
                _named(definition("n1", "Div"), "calls"),
                "new Div named 'calls': a client may not name a model it creates",
            ),
        ):
            message = patch([{"kind": "RootAdded", "model": {"id": "n1"}}], [made])
            assert await victim.refused(message, code="patch-refused") == text, made
            await victim.assert_unharmed()
        sock = await victim.raw()
        try:
            select = definition("n1", "Select", options=["a", "b"], value="b", title="made")
            reply = await sock.request(patch([{"kind": "RootAdded", "model": {"id": "n1"}}], [select]))
            assert reply.msgtype == "OK", reply.content
        finally:
            await sock.close()
        document = victim.observer.document
        await victim.observer.wait_for(
            lambda: any(getattr(r, "title", None) == "made" for r in document.roots), EVENT_WAIT
        )
        assert [r.value for r in document.roots if getattr(r, "title", None) == "made"] == ["b"]  # type: ignore[attr-defined]
    finally:
        await victim.close()
