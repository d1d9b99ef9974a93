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

from .apps import builtin_model_classes
from .harness import RawSocket, Site, canonical, find_model, open_client, open_raw, pull_json, set_value_patch


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
    assert refused >= 60
    after = await pull_json(config)
    assert _without_writable(after) == _without_writable(before), "a refused write changed the document"
    assert not observer.errors and observer.close_code is None


async def _writable_still_work(sock: RawSocket, model_json: dict[str, Any], cls: type[Model]) -> None:
    """On the same connection, a change of a writable property is applied."""
    if cls.__type_name__ == "Slider":
        reply = await sock.request(set_value_patch(model_json["id"], "value", 0.5))
        assert reply.msgtype == OK, reply.content
    if cls.__type_name__ == "TextInput":
        reply = await sock.request(set_value_patch(model_json["id"], "value", "typed"))
        assert reply.msgtype == OK, reply.content


def _without_writable(doc: dict[str, Any]) -> dict[str, Any]:
    """The document without the values the test legitimately changed."""
    models = []
    for model in doc["models"]:
        attributes = dict(model["attributes"])
        if model["name"] in ("Slider", "TextInput"):
            attributes.pop("value", None)
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
