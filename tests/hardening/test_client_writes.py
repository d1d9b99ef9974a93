"""A browser may change only what a model declares writable: every built-in model, every
other property, is refused with an ERROR naming ``Model.property``, and nothing changes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from docsync.client import ClientSession
from docsync.document import Model
from docsync.protocol import ERROR, OK, PATCH_DOC, new_message
from docsync.serialization import Encoder
from docsync.testing import RawSocket

from .apps import builtin_model_classes
from .harness import Site, canonical, find_model, open_client, open_raw, pull_json, set_value_patch


def _other_value(value: Any) -> Any:
    """A JSON value unlike ``value`` (most of the time of the same type)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, str):
        return value + "!"
    if value is None:
        return 1
    return value  # collections and references: the same value, still not writable


def _attempts(model_json: dict[str, Any], cls: type[Model]) -> list[tuple[str, Any]]:
    """(property, new value) for every property of ``cls`` a browser may not write."""
    attributes = model_json["attributes"]
    fresh = cls()
    attempts = []
    for name in cls.properties():
        if name in cls.__client_writable__:
            continue
        current = attributes.get(name, getattr(fresh, name))
        if not isinstance(current, bool | int | float | str | type(None)):
            current = attributes.get(name, [])
        attempts.append((name, _other_value(current)))
    return attempts


@pytest_asyncio.fixture
async def session(site: Site) -> AsyncIterator[tuple[dict[str, Any], ClientSession]]:
    config = site.browser().page_config("all_models")
    observer = await open_client(config)  # keeps the session from expiring
    try:
        yield config, observer
    finally:
        await observer.close()


def test_the_app_has_one_instance_of_every_builtin_model() -> None:
    # The list is read from docsync.document.models: a new model is covered when added.
    names = {cls.__type_name__ for cls in builtin_model_classes()}
    assert {"Slider", "ColumnDataSource", "Plot", "DataTable", "Column", "Button"} <= names
    assert len(names) >= 19


@pytest.mark.asyncio
async def test_every_non_writable_property_of_every_builtin_model_is_refused(
    session: tuple[dict[str, Any], ClientSession],
) -> None:
    config, observer = session
    before = await pull_json(config)
    by_type: dict[str, dict[str, Any]] = {m["name"]: m for m in before["models"]}
    classes = builtin_model_classes()
    assert {cls.__type_name__ for cls in classes} <= by_type.keys(), "the app lacks some built-in model"
    refused = 0
    for cls in classes:
        model_json = by_type[cls.__type_name__]
        # One connection per model class keeps each under the patch rate limit.
        sock = await open_raw(config["wsUrl"], config["token"])
        try:
            for attr, value in _attempts(model_json, cls):
                reply = await sock.request(set_value_patch(model_json["id"], attr, value))
                assert reply.msgtype == ERROR, f"{cls.__type_name__}.{attr} was accepted"
                assert reply.content == {
                    "text": f"{cls.__type_name__}.{attr} is not writable from the client",
                    "code": "patch-refused",
                }
                refused += 1
            await _writable_still_work(sock, model_json, cls)
        finally:
            await sock.close()
    expected = sum(len(_attempts(by_type[cls.__type_name__], cls)) for cls in classes)
    assert refused == expected and refused >= 300
    after = await pull_json(config)
    assert _without_writable(after) == _without_writable(before), "a refused write changed the document"
    assert not observer.errors and observer.close_code is None


# A value a browser may send for each client-writable property of each built-in model
# (as JSON on the wire). A new model's writable property must be listed: the test fails
# until it is, and then shows that the server takes it.
WRITABLE_SAMPLES: dict[str, Any] = {
    "Toggle.active": True,
    "Checkbox.active": True,
    "Switch.active": True,
    "CheckboxGroup.active": [],
    "RadioGroup.active": None,
    "CheckboxButtonGroup.active": [],
    "RadioButtonGroup.active": None,
    "Slider.value": 0.5,
    "RangeSlider.value": [0.25, 0.75],
    "DateRangeSlider.value": [{"type": "date", "iso": "2024-01-01"}, {"type": "date", "iso": "2024-02-01"}],
    "TextInput.value": "typed",
    "PasswordInput.value": "secret",
    "AutocompleteInput.value": "Bern",
    "TextAreaInput.value": "two\nlines",
    "NumericInput.value": 3,
    "Spinner.value": 4,
    "ColorPicker.color": "#ff8800",
    "Select.value": "b",
    "MultiSelect.value": ["a"],
    "MultiChoice.value": ["a", "b"],
    "DatePicker.value": {"type": "date", "iso": "2024-05-01"},
    "DateRangePicker.value": [{"type": "date", "iso": "2024-05-01"}, {"type": "date", "iso": "2024-05-07"}],
    "DatetimePicker.value": {"type": "datetime", "iso": "2024-05-01T09:30:00"},
    "TimePicker.value": {"type": "time", "iso": "07:30:00"},
    "Tabs.active": 0,
    "Card.collapsed": True,
    "ColumnDataSource.data": {"x": [7.0, 8.0, 9.0], "y": [1.0, 2.0, 3.0]},
    "Selection.indices": [0, 2],
    "Selection.line_indices": [1],
    # Zoom and pan move ranges; legend clicks hide or mute renderers; the toolbar picks tools.
    "Range1d.start": 0.5,
    "Range1d.end": 2.5,
    "DataRange1d.start": 0.5,
    "DataRange1d.end": 2.5,
    "FactorRange.start": 0.0,
    "FactorRange.end": 3.0,
    "GlyphRenderer.visible": False,
    "GlyphRenderer.muted": True,
    "Toolbar.active_drag": None,
    "Toolbar.active_scroll": None,
    "Toolbar.active_tap": None,
    "Toolbar.active_inspect": None,
}


def test_every_writable_property_has_a_sample() -> None:
    writable = {f"{cls.__type_name__}.{attr}" for cls in builtin_model_classes() for attr in cls.__client_writable__}
    assert writable == set(WRITABLE_SAMPLES)


async def _writable_still_work(sock: RawSocket, model_json: dict[str, Any], cls: type[Model]) -> None:
    """On the same connection, a change of each writable property is applied."""
    for attr in sorted(cls.__client_writable__):
        reply = await sock.request(
            set_value_patch(model_json["id"], attr, WRITABLE_SAMPLES[f"{cls.__type_name__}.{attr}"])
        )
        assert reply.msgtype == OK, (cls.__type_name__, attr, reply.content)


def _without_writable(doc: dict[str, Any]) -> dict[str, Any]:
    """The document without the values the test legitimately changed."""
    writable = {cls.__type_name__: cls.__client_writable__ for cls in builtin_model_classes()}
    models = []
    for model in doc["models"]:
        attributes = {k: v for k, v in model["attributes"].items() if k not in writable.get(model["name"], ())}
        models.append({**model, "attributes": attributes})
    return canonical({**doc, "models": models})


@pytest.mark.asyncio
async def test_ui_events_a_model_does_not_declare_are_refused(session: tuple[dict[str, Any], ClientSession]) -> None:
    config, _ = session
    before = await pull_json(config)
    slider = next(m for m in before["models"] if m["name"] == "Slider")
    sock = await open_raw(config["wsUrl"], config["token"])
    try:
        event = {"kind": "MessageSent", "msg_type": "button_click", "msg_data": None, "model": {"id": slider["id"]}}
        reply = await sock.request(new_message(PATCH_DOC, {"events": [event]}))
        assert reply.msgtype == ERROR
        assert reply.content["text"] == "Slider does not accept 'button_click' events"
        # A patch of several events is refused whole: the writable change in it is not applied.
        text_input = next(m for m in before["models"] if m["name"] == "TextInput")
        mixed = [
            {"kind": "ModelChanged", "model": {"id": text_input["id"]}, "attr": "value", "new": "half"},
            {"kind": "ModelChanged", "model": {"id": text_input["id"]}, "attr": "title", "new": "no"},
        ]
        reply = await sock.request(new_message(PATCH_DOC, {"events": mixed}))
        assert reply.content["text"] == "TextInput.title is not writable from the client"
    finally:
        await sock.close()
    assert canonical(await pull_json(config)) == canonical(before)
    assert find_model(before, "root")["name"] == "Column"


@pytest.mark.asyncio
async def test_ui_events_with_bad_data_are_refused(session: tuple[dict[str, Any], ClientSession]) -> None:
    config, _ = session
    before = await pull_json(config)
    ids = {m["name"]: m["id"] for m in before["models"]}
    cases = [
        ("Dropdown", "menu_item_click", {"item": "rm -rf"}, "Dropdown has no menu item 'rm -rf'"),
        ("Dropdown", "button_click", None, "Dropdown: the button is not clickable unless split"),
        (
            "FileInput",
            "upload_start",
            {"upload": "u", "files": [{"name": "big.bin", "type": "", "size": 40 * 1024 * 1024}]},
            "upload of 41.9 MB refused: this input takes at most 33.6 MB",
        ),
        (
            "FileInput",
            "upload_chunk",
            {"upload": "u", "file": 0, "offset": 0, "data": b"\x00" * 1000},
            "FileInput chunk of an upload that is not in progress",
        ),
    ]
    sock = await open_raw(config["wsUrl"], config["token"])
    try:
        for type_name, msg_type, data, text in cases:
            encoder = Encoder()
            event = {"kind": "MessageSent", "msg_type": msg_type, "msg_data": encoder.encode(data)}
            event["model"] = {"id": ids[type_name]}
            reply = await sock.request(new_message(PATCH_DOC, {"events": [event]}, buffers=encoder.buffers))
            assert reply.msgtype == ERROR, (type_name, msg_type)
            assert reply.content == {"text": text, "code": "patch-refused"}
    finally:
        await sock.close()
    assert canonical(await pull_json(config)) == canonical(before)
