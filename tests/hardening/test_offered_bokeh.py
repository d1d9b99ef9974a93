"""Bokeh dialect: a browser may write only what a widget offers, and leaves a source's columns even.

Against a real daphne serving a Bokeh app of bounded widgets over BokehJS's protocol (raw
websockets): a Select set to a value not among its options, a slider past its end, a
date past max_date or on a disabled date, a source's columns of different lengths, ...
each is refused with ERROR ``patch-refused``, the pull afterwards byte-identical and no
callback run; what BokehJS's widgets send (a thumb at either end, a float step, an
option, a value the app set) is applied.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from docsync.protocol import ERROR, OK, PULL_DOC_REPLY

from .bokeh_tabs import Session, definitions, named
from .harness import Site

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")
pytestmark = pytest.mark.asyncio


@pytest.fixture(scope="module")
def bokeh_site(shared_bokeh_site: Site) -> Site:
    return shared_bokeh_site  # this worker's, shared with the other modules on it


def _ms(day: dt.date) -> float:
    """A date (or datetime) as BokehJS's date sliders send it: milliseconds since 1970 (UTC)."""
    when = day if isinstance(day, dt.datetime) else dt.datetime(day.year, day.month, day.day)
    return (when - dt.datetime(1970, 1, 1)).total_seconds() * 1000


#: NaN on the wire.
NAN = {"type": "number", "value": "nan"}
INF, MINUS_INF = {"type": "number", "value": "+inf"}, {"type": "number", "value": "-inf"}


def _ndarray(values: list[Any], dtype: str) -> dict[str, Any]:
    """An ndarray as a client may write one inline (its items a JSON list, not a buffer)."""
    return {"type": "ndarray", "array": values, "order": "little", "dtype": dtype, "shape": [len(values)]}


#: (widget name, property, value on the wire, the refusal's text).
REFUSED: list[tuple[str, str, Any, str]] = [
    ("select", "value", "zzz", "Select.value 'zzz' is not among its options"),
    ("select", "value", "B", "Select.value 'B' is not among its options"),  # a label is not a value
    ("grouped", "value", "C", "Select.value 'C' is not among its options"),
    ("multi_select", "value", ["a", "A"], "MultiSelect.value 'A' is not among its options"),
    ("multi_choice", "value", ["../etc/passwd"], "MultiChoice.value '../etc/passwd' is not among its options"),
    ("tags", "value", ["legacy", "zzz"], "MultiChoice.value 'zzz' is not among its options"),
    ("auto", "value", "Paris", "AutocompleteInput.value 'Paris' is not among its options"),
    # An array compared elementwise with the options: "callback error: ValueError" and a traceback.
    ("select", "value", _ndarray([True, False], "bool"), "Select.value array([ True, False]) is not among its options"),
    ("categorical", "value", "max", "CategoricalSlider.value 'max' is not among its options"),
    ("slider", "value", 99, "Slider.value 99 is above end 10"),
    ("slider", "value_throttled", -1, "Slider.value_throttled -1 is below start 0"),
    ("range", "value", [0.0, 0.5], "RangeSlider.value 0.0 is below start 0.1"),
    # NaN compares false with both ends: it was taken (at b4124b0), a value no thumb can hold.
    ("slider", "value", NAN, "Slider.value nan is not between start 0 and end 10"),
    (
        "range",
        "value",
        [0.2, NAN],
        "RangeSlider.value nan is not between start 0.1 and end 0.9",
    ),
    ("spinner", "value", 11, "Spinner.value 11 is above high 10"),
    (
        "date_slider",
        "value",
        _ms(dt.date(2024, 3, 2)),
        "DateSlider.value 2024-03-02 is above end 2024-03-01",
    ),
    (
        "date_range_slider",
        "value",
        [_ms(dt.date(2023, 12, 31)), _ms(dt.date(2024, 2, 1))],
        "DateRangeSlider.value 2023-12-31 is below start 2024-01-01",
    ),
    ("date", "value", "2025-01-01", "DatePicker.value 2025-01-01 is above max_date 2024-12-31"),
    ("date", "value", "2024-05-01", "DatePicker.value 2024-05-01 is a disabled date"),
    ("date", "value", "2024-08-15", "DatePicker.value 2024-08-15 is a disabled date"),
    ("enabled", "value", "2024-02-01", "DatePicker.value 2024-02-01 is not an enabled date"),
    (
        "multi_date",
        "value",
        ["2024-06-01", "2025-06-01"],
        "MultipleDatePicker.value 2025-06-01 is above max_date 2024-12-31",
    ),
    ("numeric", "value", 1.5, "NumericInput.value 1.5 is above high 1"),
    # No low: -inf was below nothing, and taken.
    ("numeric", "value", MINUS_INF, "NumericInput.value -inf is not a finite number"),
    (
        "date_range",
        "value",
        ["2023-12-31", "2024-01-05"],
        "DateRangePicker.value 2023-12-31 is below min_date 2024-01-01",
    ),
    (
        "dt_range",
        "value",
        [_ms(dt.datetime(2024, 1, 1)), _ms(dt.datetime(2024, 1, 2, 0, 0, 1))],
        "DatetimeRangeSlider.value 2024-01-02T00:00:01 is above end 2024-01-02",
    ),
    ("radio", "active", 2, "RadioGroup.active 2 is out of range: 2 labels"),
    ("checks", "active", [0, 0], "CheckboxGroup.active names an index twice"),
    ("tabs", "active", 1, "Tabs.active 1 is a disabled tab"),
    ("tabs", "active", 3, "Tabs.active 3 is out of range: 3 tabs"),
    # No zoom or pan leaves a range at NaN or an infinity: they were taken and sent to every
    # tab (BokehJS draws no axis of it), and app callbacks got them.
    ("x_range", "start", NAN, "Range1d.start nan is not a finite number"),
    ("x_range", "end", INF, "Range1d.end inf is not a finite number"),
    ("x_range", "bounds", [0, INF], "Range1d.bounds inf is not a finite number"),
    ("x_range", "min_interval", MINUS_INF, "Range1d.min_interval -inf is not a finite number"),
    ("y_range", "start", MINUS_INF, "DataRange1d.start -inf is not a finite number"),
    ("y_range", "range_padding", NAN, "DataRange1d.range_padding nan is not a finite number"),
    ("factors", "end", NAN, "FactorRange.end nan is not a finite number"),
]

#: What BokehJS's widgets send in normal use: every one is applied.
ACCEPTED: list[tuple[str, str, Any]] = [
    ("select", "value", "b"),
    ("grouped", "value", "c"),
    ("multi_select", "value", ["b", "a"]),
    ("multi_choice", "value", ["c", "a"]),
    ("tags", "value", ["legacy"]),  # the app's own value, a tag the user left
    ("auto", "value", "Berlin"),
    ("auto_free", "value", "anything typed"),
    ("categorical", "value", "high"),
    ("slider", "value", 10),  # the thumb at either end
    ("slider", "value_throttled", 0),
    ("slider", "value", 0.30000000000000004),
    ("range", "value", [0.1, 0.9000000000000001]),  # float steps, as JavaScript adds them
    ("spinner", "value", 10),
    ("date_slider", "value", _ms(dt.date(2024, 3, 1))),
    ("date_range_slider", "value", [_ms(dt.date(2024, 1, 1)), _ms(dt.date(2024, 3, 1))]),
    ("date", "value", "2024-12-31"),
    ("enabled", "value", "2024-01-31"),
    ("multi_date", "value", ["2024-01-01", "2024-12-31"]),
    ("numeric", "value", -1000.5),  # a bound that is None does not bound
    ("date_range", "value", ["2024-01-01", "2024-12-31"]),
    ("dt_range", "value", [_ms(dt.datetime(2024, 1, 1)), _ms(dt.datetime(2024, 1, 2))]),
    ("radio", "active", 1),
    ("checks", "active", [1, 0]),
    ("tabs", "active", 2),
    ("x_range", "start", -2.5),  # zoomed and panned
    ("x_range", "end", 1e300),
    ("y_range", "end", 7.0),
    ("factors", "start", 0.5),
]


def _changed(doc: dict[str, Any], name: str, attr: str, value: Any) -> dict[str, Any]:
    return {"kind": "ModelChanged", "model": {"id": named(doc, name)}, "attr": attr, "new": value}


async def _pulled(session: Session) -> tuple[str, dict[str, Any]]:
    """The document as a pull carries it (on a connection of its own: pulls per connection are bounded)."""
    tab = await session.tab()
    try:
        reply = await tab.pull()
    finally:
        await tab.close()
    assert reply.msgtype == PULL_DOC_REPLY, reply.content
    return str(reply.to_frames()[2]), reply.content["doc"]


def _attribute(doc: dict[str, Any], name: str, attr: str) -> Any:
    for definition in definitions(doc):
        attributes = definition.get("attributes", {})
        if attributes.get("name") == name:
            return attributes.get(attr)
    raise KeyError(name)


async def test_a_value_a_bokeh_widget_does_not_offer_is_refused_and_changes_nothing(bokeh_site: Site) -> None:
    session = Session(bokeh_site, "bk_offered")
    tab = await session.tab()
    try:
        text, doc = await _pulled(session)
        for name, attr, value, expected in REFUSED:
            reply = await tab.patch([_changed(doc, name, attr, value)])
            assert reply.msgtype == ERROR, (name, value, reply.content)
            assert reply.content == {"text": expected, "code": "patch-refused"}, (name, value)
            assert (await _pulled(session))[0] == text, f"{name}: a refused value changed the document"
        # A good change in the same patch is not applied either.
        reply = await tab.patch([_changed(doc, "slider", "value", 6), _changed(doc, "select", "value", "zzz")])
        assert reply.msgtype == ERROR and (await _pulled(session))[0] == text
        assert _attribute((await _pulled(session))[1], "calls", "text") is None, "a callback ran"  # "" is not sent
    finally:
        await tab.close()


async def test_what_bokehjs_widgets_send_is_accepted(bokeh_site: Site) -> None:
    session = Session(bokeh_site, "bk_offered")
    tab = await session.tab()
    try:
        _, doc = await _pulled(session)
        for name, attr, value in ACCEPTED:
            reply = await tab.patch([_changed(doc, name, attr, value)])
            assert reply.msgtype == OK, (name, value, reply.content)
        _, after = await _pulled(session)
        assert _attribute(after, "select", "value") == "b"
        assert _attribute(after, "tabs", "active") == 2
        assert _attribute(after, "auto_free", "value") == "anything typed"
        assert _attribute(after, "calls", "text").count(";") == sum(
            1 for _, attr, _ in ACCEPTED if attr != "value_throttled"
        )
    finally:
        await tab.close()


async def test_a_bokeh_patch_leaving_columns_of_different_lengths_is_refused(bokeh_site: Site) -> None:
    session = Session(bokeh_site, "bk_offered")
    tab = await session.tab()
    try:
        text, doc = await _pulled(session)
        ref = {"id": named(doc, "source")}
        uneven = "ColumnDataSource.data columns would have different lengths"
        stream = {"kind": "ColumnsStreamed", "model": ref, "attr": "data", "data": {"x": [1.0], "y": [1.0]}}
        for events, expected in (
            (
                [{"kind": "ModelChanged", "model": ref, "attr": "data", "new": {"x": [1.0], "y": [1.0, 2.0]}}],
                "'x': 1, 'y': 2",
            ),
            (
                [
                    {
                        "kind": "ColumnDataChanged",
                        "model": ref,
                        "attr": "data",
                        "data": {"x": [1.0, 2.0], "y": [1.0]},
                        "cols": ["x"],
                    }
                ],
                "'x': 2, 'y': 1",
            ),
            # After new columns of one length, a stream: judged as the patch leaves the source.
            (
                [
                    {
                        "kind": "ColumnDataChanged",
                        "model": ref,
                        "attr": "data",
                        "data": {"x": [1.0, 2.0], "y": [1.0, 2.0, 3.0]},
                    },
                    stream,
                ],
                "'x': 3, 'y': 4",
            ),
        ):
            reply = await tab.patch(events)
            assert reply.msgtype == ERROR, (events, reply.content)
            assert reply.content == {"text": f"{uneven} ({expected})", "code": "patch-refused"}
            assert (await _pulled(session))[0] == text, f"{events} changed the document"
        # Even columns are taken: new data, a stream, a cell.
        for events in (
            [{"kind": "ModelChanged", "model": ref, "attr": "data", "new": {"x": [1.0], "y": [2.0]}}],
            [stream],
            [{"kind": "ColumnsPatched", "model": ref, "attr": "data", "patches": {"y": [[0, 0.5]]}}],
        ):
            reply = await tab.patch(events)
            assert reply.msgtype == OK, (events, reply.content)
        _, after = await _pulled(session)
        assert dict(_attribute(after, "source", "data")["entries"]) == {"x": [1.0, 1.0], "y": [0.5, 1.0]}
    finally:
        await tab.close()


async def test_a_source_the_bokeh_app_left_uneven_takes_changes_that_keep_its_lengths(bokeh_site: Site) -> None:
    session = Session(bokeh_site, "bk_offered")
    tab = await session.tab()
    try:
        text, doc = await _pulled(session)
        ref = {"id": named(doc, "uneven")}
        grow = {
            "kind": "ColumnDataChanged",
            "model": ref,
            "attr": "data",
            "data": {"x": [1.0, 2.0, 3.0], "y": [1.0, 2.0]},
        }
        reply = await tab.patch([grow])
        assert reply.content == {
            "text": "ColumnDataSource.data columns would have different lengths ('x': 3, 'y': 2)",
            "code": "patch-refused",
        }
        assert (await _pulled(session))[0] == text
        cell = {"kind": "ColumnsPatched", "model": ref, "attr": "data", "patches": {"x": [[0, 9.0]]}}
        assert (await tab.patch([cell])).msgtype == OK  # every length kept
        even = {"kind": "ModelChanged", "model": ref, "attr": "data", "new": {"x": [5.0], "y": [1.0]}}
        assert (await tab.patch([even])).msgtype == OK
        assert dict(_attribute((await _pulled(session))[1], "uneven", "data")["entries"]) == {"x": [5.0], "y": [1.0]}
    finally:
        await tab.close()


async def test_models_a_bokeh_patch_defines_are_judged_by_their_own_offer_and_have_no_name(bokeh_site: Site) -> None:
    session = Session(bokeh_site, "bk_offered")
    tab = await session.tab()
    try:
        text, doc = await _pulled(session)

        def source(model_id: str, y: list[float]) -> dict[str, Any]:
            data = {"type": "map", "entries": [["x", [1.0]], ["y", y]]}
            return {"type": "object", "name": "ColumnDataSource", "id": model_id, "attributes": {"data": data}}

        reply = await tab.patch([{"kind": "RootAdded", "model": source("client-uneven", [1.0, 2.0])}])
        assert reply.content == {
            "text": "ColumnDataSource.data columns would have different lengths ('x': 1, 'y': 2)",
            "code": "patch-refused",
        }
        assert (await _pulled(session))[0] == text

        # A new widget's values are judged by the offer it is defined with, as every widget's
        # are; it has no name (the app finds its own models by name); nor may a browser rename one.
        def select(model_id: str, **attributes: Any) -> dict[str, Any]:
            return {"type": "object", "name": "Select", "id": model_id, "attributes": attributes}

        slider = {"type": "object", "name": "Slider", "id": "s", "attributes": {"start": 0, "end": 1, "value": 5}}
        multi = {"type": "object", "name": "MultiChoice", "id": "m", "attributes": {"options": ["a"], "value": ["b"]}}
        for events, expected in (
            (
                [{"kind": "RootAdded", "model": select("s", options=["a"], value="zzz")}],
                "Select.value 'zzz' is not among its options",
            ),
            ([{"kind": "RootAdded", "model": select("s", value="zzz")}], "Select.value 'zzz' is not among its options"),
            ([{"kind": "RootAdded", "model": slider}], "Slider.value 5 is above end 1"),
            ([{"kind": "RootAdded", "model": multi}], "MultiChoice.value 'b' is not among its options"),
            (
                [{"kind": "RootAdded", "model": select("s", options=["a"], value="a", name="select")}],
                "new Select named 'select': a browser may not name a model (an app finds its own models by "
                'name); an app may allow it with "client_offers": True',
            ),
            (
                [_changed(doc, "select", "name", "other")],
                "Select.name: a browser may not name a model (an app finds its own models by name); "
                'an app may allow it with "client_offers": True',
            ),
        ):
            reply = await tab.patch(events)
            assert reply.content == {"text": expected, "code": "patch-refused"}, events
            assert (await _pulled(session))[0] == text
        # A new Select holding one of its own options (or none: BokehJS's default), a new even source: taken.
        reply = await tab.patch(
            [
                {"kind": "RootAdded", "model": source("client-even", [2.0])},
                {"kind": "RootAdded", "model": select("client-select", options=["a", "b"], value="b")},
                {"kind": "RootAdded", "model": select("client-empty", options=["a"], value="")},
                _changed(doc, "select", "name", "select"),  # a name sent unchanged
            ]
        )
        assert reply.msgtype == OK, reply.content
        ids = {d["id"] for d in definitions((await _pulled(session))[1])}
        assert {"client-even", "client-select", "client-empty"} <= ids
    finally:
        await tab.close()


#: (widget name, an offer a browser's patch changes, the new offer, a value only that offer holds).
OFFERS: list[tuple[str, str, Any, tuple[str, Any] | None]] = [
    ("select", "options", ["a", "zzz"], ("value", "zzz")),
    ("grouped", "options", {"one": ["zzz"]}, ("value", "zzz")),
    ("multi_select", "options", ["a", "zzz"], ("value", ["zzz"])),
    ("multi_choice", "options", ["../etc/passwd"], ("value", ["../etc/passwd"])),
    ("auto", "completions", ["Paris"], ("value", "Paris")),
    ("auto", "restrict", False, ("value", "Paris")),
    ("categorical", "categories", ["low", "max"], ("value", "max")),
    ("slider", "end", 100, ("value", 99)),
    ("slider", "start", -100, ("value_throttled", -1)),
    ("range", "start", 0.0, ("value", [0.0, 0.5])),
    ("spinner", "high", None, ("value", 11)),
    ("numeric", "low", -1.0, None),  # narrowing is refused too: nothing in the page does it
    ("date", "max_date", "2025-12-31", ("value", "2025-01-01")),
    ("date", "disabled_dates", [], ("value", "2024-05-01")),
    ("enabled", "enabled_dates", None, ("value", "2024-02-01")),
    ("radio", "labels", ["x", "y", "z"], ("active", 2)),
    ("tab_two", "disabled", False, None),
]


async def test_a_browser_may_not_change_what_a_bokeh_widget_offers(bokeh_site: Site) -> None:
    # In Bokeh a browser may change any property; BokehJS itself never changes these, so
    # only code in the page could: this app has none, and the patch is refused whole.
    session = Session(bokeh_site, "bk_offered")
    tab = await session.tab()
    try:
        text, doc = await _pulled(session)
        for name, attr, offer, value in OFFERS:
            shown = next(d["name"] for d in definitions(doc) if d["id"] == named(doc, name))
            expected = (
                f"{shown}.{attr}: a browser may not change what a widget offers (no code of the app's names it); "
                'an app may allow it with "client_offers": True'
            )
            patches = [[_changed(doc, name, attr, offer)]]
            if value is not None:
                patches.append([_changed(doc, name, attr, offer), _changed(doc, name, *value)])
            for events in patches:
                reply = await tab.patch(events)
                assert reply.content == {"text": expected, "code": "patch-refused"}, (name, attr, reply.content)
                assert (await _pulled(session))[0] == text, f"{name}.{attr}: a refused offer changed the document"
        # Tabs: a disabled tab enabled and chosen in one patch, and the tabs themselves.
        reply = await tab.patch([_changed(doc, "tab_two", "disabled", False), _changed(doc, "tabs", "active", 1)])
        assert reply.msgtype == ERROR and "TabPanel.disabled" in reply.content["text"]
        panels = [{"id": named(doc, f"panel_{t}")} for t in ("first", "second", "keep")]
        for tabs in (panels[::-1], panels[:2], [*panels, {"id": named(doc, "tab_two")}]):
            reply = await tab.patch([_changed(doc, "closable", "tabs", tabs)])
            assert reply.msgtype == ERROR and "Tabs.tabs: a browser may not change" in reply.content["text"], tabs
        assert (await _pulled(session))[0] == text
        assert _attribute((await _pulled(session))[1], "calls", "text") is None, "a callback ran"
        # The offers a widget holds already, sent again (BokehJS's pairs as lists, dates as strings): taken.
        again = [
            _changed(doc, "select", "options", ["a", ["b", "B"]]),
            _changed(doc, "date", "min_date", "2024-01-01"),
            _changed(doc, "slider", "end", 10),
        ]
        assert (await tab.patch(again)).msgtype == OK
    finally:
        await tab.close()


async def test_a_user_may_close_a_closable_bokeh_tab(bokeh_site: Site) -> None:
    # BokehJS's Tabs sends its tabs less the one a user closed (a closable one): taken.
    session = Session(bokeh_site, "bk_offered")
    tab = await session.tab()
    try:
        _, doc = await _pulled(session)
        panels = [{"id": named(doc, f"panel_{t}")} for t in ("first", "second", "keep")]
        assert (await tab.patch([_changed(doc, "closable", "tabs", [panels[0], panels[2]])])).msgtype == OK
        assert (await tab.patch([_changed(doc, "closable", "tabs", [panels[2]])])).msgtype == OK
        reply = await tab.patch([_changed(doc, "closable", "tabs", [])])  # "keep" is not closable
        assert reply.msgtype == ERROR and "Tabs.tabs" in reply.content["text"]
        assert [t["id"] for t in _attribute((await _pulled(session))[1], "closable", "tabs")] == [panels[2]["id"]]
    finally:
        await tab.close()


async def test_an_app_opted_in_lets_browsers_change_offers_as_bokeh_does(bokeh_site: Site) -> None:
    # "client_offers": True: as in Bokeh, a value is judged against the offers the same patch leaves.
    session = Session(bokeh_site, "bk_offered_open")
    tab = await session.tab()
    try:
        _, doc = await _pulled(session)
        reply = await tab.patch([_changed(doc, "select", "options", ["a"]), _changed(doc, "select", "value", "b")])
        assert reply.content == {"text": "Select.value 'b' is not among its options", "code": "patch-refused"}
        both = [_changed(doc, "select", "options", ["zzz"]), _changed(doc, "select", "value", "zzz")]
        assert (await tab.patch(both)).msgtype == OK
        # Names too, as in Bokeh; a new widget's value is still judged by its own offer.
        named_select = {"type": "object", "name": "Select", "id": "n", "attributes": {"name": "x", "options": ["a"]}}
        assert (await tab.patch([{"kind": "RootAdded", "model": named_select}])).msgtype == OK
        named_select = {**named_select, "id": "n2", "attributes": {"options": ["a"], "value": "b"}}
        reply = await tab.patch([{"kind": "RootAdded", "model": named_select}])
        assert reply.content == {"text": "Select.value 'b' is not among its options", "code": "patch-refused"}
        assert _attribute((await _pulled(session))[1], "select", "value") == "zzz"
    finally:
        await tab.close()


def _refill(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """What BokehJS sends when a user picks France: the pick, then what the app's CustomJS changed."""
    return [
        _changed(doc, "country", "value", "fr"),
        _changed(doc, "city", "options", ["Paris", "Lyon"]),
        _changed(doc, "city", "value", "Paris"),
    ]


async def test_the_bokeh_apps_own_javascript_may_change_what_a_widget_offers(bokeh_site: Site) -> None:
    session = Session(bokeh_site, "bk_offered_js")
    tab = await session.tab()
    try:
        text, doc = await _pulled(session)
        # Its CustomJS names city's options, its SetValue the slider's end: those are taken.
        assert (await tab.patch(_refill(doc))).msgtype == OK
        assert (await tab.patch([_changed(doc, "slider", "end", 20)])).msgtype == OK
        assert (await tab.patch([_changed(doc, "slider", "value", 15)])).msgtype == OK
        _, after = await _pulled(session)
        assert _attribute(after, "city", "options") == ["Paris", "Lyon"]
        assert _attribute(after, "calls", "text") == "value=Paris;value=15;"
        # Still judged: a value outside the new offer, and an offer no code of the app's names.
        reply = await tab.patch([_changed(doc, "city", "value", "Bern")])
        assert reply.content == {"text": "Select.value 'Bern' is not among its options", "code": "patch-refused"}
        reply = await tab.patch([_changed(doc, "slider", "start", -5), _changed(doc, "slider", "value", -5)])
        assert reply.msgtype == ERROR and reply.content["text"].startswith("Slider.start: a browser may not change")
        assert (await _pulled(session))[1] == after
        assert text != (await _pulled(session))[0]
    finally:
        await tab.close()


async def test_code_a_bokeh_client_wrote_lets_it_change_no_offer(bokeh_site: Site) -> None:
    # In a user's own session a browser may write code (client_html): its code is not the app's.
    session = Session(bokeh_site, "bk_offered_js_own")
    tab = await session.tab()
    try:
        _, doc = await _pulled(session)
        start = [_changed(doc, "slider", "start", -5), _changed(doc, "slider", "value", -5)]
        mine = {"type": "object", "name": "CustomJS", "id": "client-js", "attributes": {"code": "slider.start = -5"}}
        assert (await tab.patch([{"kind": "RootAdded", "model": mine}])).msgtype == OK
        reply = await tab.patch(start)
        assert reply.msgtype == ERROR and "Slider.start" in reply.content["text"], reply.content
        # Nor the app's CustomJS once a browser rewrote it, in that patch or an earlier one.
        code = next(d["id"] for d in definitions(doc) if d["name"] == "CustomJS")
        rewrite = {
            "kind": "ModelChanged",
            "model": {"id": code},
            "attr": "code",
            "new": "city.options = []; slider.start = -5",
        }
        text = (await _pulled(session))[0]
        reply = await tab.patch([rewrite, *start])
        assert reply.msgtype == ERROR and "Slider.start" in reply.content["text"], reply.content
        assert (await _pulled(session))[0] == text
        assert (await tab.patch([rewrite])).msgtype == OK
        reply = await tab.patch(start)
        assert reply.msgtype == ERROR and "Slider.start" in reply.content["text"], reply.content
        reply = await tab.patch(_refill(doc))  # "options" is now named only by code the browser wrote
        assert reply.msgtype == ERROR and "Select.options" in reply.content["text"], reply.content
    finally:
        await tab.close()


async def test_an_app_opted_out_refuses_offers_even_from_its_own_javascript(bokeh_site: Site) -> None:
    session = Session(bokeh_site, "bk_offered_js_strict")
    tab = await session.tab()
    try:
        text, doc = await _pulled(session)
        reply = await tab.patch(_refill(doc))
        assert reply.content == {
            "text": "Select.options: a browser may not change what a widget offers; "
            'an app may allow it with "client_offers": True',
            "code": "patch-refused",
        }
        assert (await _pulled(session))[0] == text
    finally:
        await tab.close()


def _cells(doc: dict[str, Any], field: str, *cells: tuple[Any, Any], **more: list[tuple[Any, Any]]) -> dict[str, Any]:
    """A ColumnsPatched of the tasks' ``field`` (and ``more`` fields), as BokehJS's table sends an edit."""
    entries = [[name, [list(cell) for cell in patched]] for name, patched in {field: cells, **more}.items()]
    patches = {"type": "map", "entries": entries}
    return {"kind": "ColumnsPatched", "model": {"id": named(doc, "tasks")}, "attr": "data", "patches": patches}


def _rows(start: int, stop: int) -> dict[str, Any]:
    return {"type": "slice", "start": start, "stop": stop, "step": None}


async def test_a_table_cell_takes_only_what_its_select_editor_offers(bokeh_site: Site) -> None:
    session = Session(bokeh_site, "bk_offered")
    tab = await session.tab()
    try:
        text, doc = await _pulled(session)
        refused = "ColumnDataSource.data['status'] 'zzz' is not among the options of its table's SelectEditor"
        for events in (
            [_cells(doc, "status", (0, "zzz"))],
            [_cells(doc, "status", (_rows(0, 2), ["done", "zzz"]))],
            [_cells(doc, "status", (1, "zzz"), task=[(0, "any text")])],  # with a free-text cell
        ):
            reply = await tab.patch(events)
            assert reply.content == {"text": refused, "code": "patch-refused"}, (events, reply.content)
            assert (await _pulled(session))[0] == text, f"{events} changed the document"
        # The editor's options are what it offers: not the browser's to change.
        reply = await tab.patch([_changed(doc, "status_editor", "options", ["zzz"]), _cells(doc, "status", (0, "zzz"))])
        assert reply.msgtype == ERROR and reply.content["text"].startswith("SelectEditor.options: a browser may not")
        assert (await _pulled(session))[0] == text
        assert _attribute((await _pulled(session))[1], "calls", "text") is None, "a callback ran"
        # An option, the value the app left (sent back), a free-text column: taken.
        for events in (
            [_cells(doc, "status", (0, "done"))],
            [_cells(doc, "status", (1, "legacy"))],
            [_cells(doc, "status", (_rows(0, 2), ["open", "legacy"]))],
            [_cells(doc, "task", (1, "anything"))],
        ):
            reply = await tab.patch(events)
            assert reply.msgtype == OK, (events, reply.content)
        data = dict(_attribute((await _pulled(session))[1], "tasks", "data")["entries"])
        assert data == {"task": ["mail", "anything"], "status": ["open", "legacy"]}
    finally:
        await tab.close()


#: Datetime and time pickers (the bk_offered_times app): (name, value on the wire, the refusal's text or None).
TIMES: list[tuple[str, Any, str | None]] = [
    # Bokeh holds the bounds (and values) of a datetime picker by the day (its Datetime property),
    # and BokehJS shows them in the browser's time zone: a day and the widest offsets (14 h) apart.
    ("datetime", "2024-02-01T00:00:01", "DatetimePicker.value 2024-02-01T00:00:01 is above max_date 2024-01-31"),
    ("datetime", "2023-12-31T09:59:00", "DatetimePicker.value 2023-12-31T09:59:00 is below min_date 2024-01-01"),
    ("datetime", "2025-06-01T12:00:00", "DatetimePicker.value 2025-06-01T12:00:00 is above max_date 2024-01-31"),
    ("datetime", "2024-01-31T23:59:00", None),  # what BokehJS sends ("Y-m-dTH:i:S"): the last day, whole
    ("datetime", "2023-12-31T19:00:00", None),  # min_date as a browser in UTC-5 shows it
    ("datetime", "2024-01-01T08:00:00", None),
    ("datetime", None, None),  # a cleared picker
    (
        "datetime_range",
        ["2023-12-30T12:00:00", "2024-01-02T00:00:00"],
        "DatetimeRangePicker.value 2023-12-30T12:00:00 is below min_date 2024-01-01",
    ),
    (
        "datetime_range",
        ["2024-01-01T00:00:00", "2024-02-02T00:00:00"],
        "DatetimeRangePicker.value 2024-02-02T00:00:00 is above max_date 2024-01-31",
    ),
    ("datetime_range", ["2024-01-01T00:00:00", "2024-01-31T23:59:00"], None),
    (
        "multi_datetime",
        ["2024-01-14T10:00:00", "2024-01-15T10:00:00"],
        "MultipleDatetimePicker.value 2024-01-15 is a disabled date",
    ),
    ("multi_datetime", ["2024-01-14T10:00:00", "2024-01-16T23:00:00"], None),
    ("time", "07:59:00", "TimePicker.value 07:59:00 is below min_time 08:00:00"),
    ("time", "18:00:01", "TimePicker.value 18:00:01 is above max_time 18:00:00"),
    ("time", "08:00:00", None),  # what BokehJS sends ("H:i:S"), at either end
    ("time", "18:00:00", None),
    ("night", "12:00:00", "TimePicker.value 12:00:00 is between max_time 06:00:00 and min_time 22:00:00"),
    ("night", "06:00:01", "TimePicker.value 06:00:01 is between max_time 06:00:00 and min_time 22:00:00"),
    ("night", "01:30:00", None),  # past midnight, within the overnight range
    ("night", "22:00:00", None),
    ("night", "06:00:00", None),
]


async def test_bokeh_datetime_and_time_pickers_take_only_what_they_offer(bokeh_site: Site) -> None:
    session = Session(bokeh_site, "bk_offered_times")
    tab = await session.tab()
    try:
        text, doc = await _pulled(session)
        for name, value, expected in TIMES:
            if expected is None:
                continue
            reply = await tab.patch([_changed(doc, name, "value", value)])
            assert reply.content == {"text": expected, "code": "patch-refused"}, (name, value, reply.content)
            assert (await _pulled(session))[0] == text, f"{name}: a refused value changed the document"
        assert _attribute((await _pulled(session))[1], "calls", "text") is None, "a callback ran"
        # What a widget offers: not the browser's to change (the app has no code).
        for name, attr, offer, shown in (
            ("time", "min_time", "00:00:00", "TimePicker"),
            ("night", "max_time", None, "TimePicker"),
            ("datetime", "max_date", "2025-01-01T00:00:00", "DatetimePicker"),
            ("multi_datetime", "disabled_dates", [], "MultipleDatetimePicker"),
        ):
            reply = await tab.patch([_changed(doc, name, attr, offer)])
            assert reply.msgtype == ERROR, (name, attr, reply.content)
            assert reply.content["text"].startswith(f"{shown}.{attr}: a browser may not change what a widget offers")
            assert (await _pulled(session))[0] == text
        # Offers sent as they are (times as ISO strings: Bokeh takes no milliseconds for a time): taken.
        again = [_changed(doc, "time", "min_time", "08:00:00"), _changed(doc, "night", "max_time", "06:00:00")]
        assert (await tab.patch(again)).msgtype == OK
        for name, value, expected in TIMES:
            if expected is None:
                reply = await tab.patch([_changed(doc, name, "value", value)])
                assert reply.msgtype == OK, (name, value, reply.content)
        _, after = await _pulled(session)
        assert _attribute(after, "night", "value") == 6 * 3600 * 1000  # Bokeh sends a time as ms since midnight
        assert _attribute(after, "calls", "text").count(";") == sum(1 for _, _, e in TIMES if e is None)
    finally:
        await tab.close()
