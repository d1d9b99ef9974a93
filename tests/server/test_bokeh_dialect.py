"""The Bokeh dialect over a real consumer, in process: tokens, refusals, the admin's commands."""

from __future__ import annotations

import json
from typing import Any

import pytest
import pytest_asyncio

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")

from channels.testing import WebsocketCommunicator
from django.test import override_settings

from docsync.bokeh.pages import bokeh_token
from docsync.server.admin_support.commands import run_command
from docsync.server.registry import SessionRegistry, get_registry, set_registry
from docsync.testing import REPLY_TIMEOUT

APP = "bk_sliders"
pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture(autouse=True)
async def bokeh_site() -> Any:
    """A fresh registry over the Bokeh examples' settings (no live-table writes)."""
    from tests.bokeh import settings as bokeh_settings

    previous = get_registry()
    fresh = SessionRegistry()
    set_registry(fresh)
    apps = {
        **bokeh_settings.DOCSYNC["APPS"],
        "bk_threads": {"app": "tests.bokeh.gallery.functions:thread_report", "kind": "bokeh"},
        "bk_loop": {"app": "tests.bokeh.gallery.functions:thread_report", "kind": "bokeh", "callbacks": "loop"},
        "bk_awaited": {"app": "tests.bokeh.gallery.functions:awaited", "kind": "bokeh"},
    }
    with override_settings(DOCSYNC={**bokeh_settings.DOCSYNC, "APPS": apps, "ADMIN_REFRESH": 0}):
        try:
            yield fresh
        finally:
            await fresh.shutdown()
            set_registry(previous)


async def _connect(token: str, app: str = APP) -> tuple[WebsocketCommunicator, list[str]]:
    from project.asgi import application

    communicator = WebsocketCommunicator(application, f"/{app}/ws", subprotocols=["bokeh", token])
    connected, _ = await communicator.connect()
    assert connected
    first = [await communicator.receive_from(REPLY_TIMEOUT) for _ in range(3)]
    return communicator, first


async def _send(communicator: WebsocketCommunicator, msgtype: str, content: dict[str, Any], msgid: str) -> None:
    await communicator.send_to(text_data=json.dumps({"msgid": msgid, "msgtype": msgtype}))
    await communicator.send_to(text_data="{}")
    await communicator.send_to(text_data=json.dumps(content))


async def _reply(communicator: WebsocketCommunicator) -> tuple[dict[str, Any], dict[str, Any]]:
    header = json.loads(await communicator.receive_from(REPLY_TIMEOUT))
    await communicator.receive_from(REPLY_TIMEOUT)
    content = json.loads(await communicator.receive_from(REPLY_TIMEOUT))
    for _ in range(2 * header.get("num_buffers", 0)):
        await communicator.receive_output(REPLY_TIMEOUT)
    return header, content


def _slider(session: Any) -> Any:
    return next(m for m in session.document.models if type(m).__name__ == "Slider" and m.title == "offset")


async def test_bad_patches_are_refused_and_change_nothing() -> None:
    communicator, first = await _connect(bokeh_token("s-bad", APP, None, {}))
    assert json.loads(first[0])["msgtype"] == "ACK"
    session = get_registry().find_session("s-bad")
    slider = _slider(session)
    before = session.document.to_json(deferred=False)
    wrong_type = {"kind": "ModelChanged", "model": {"id": slider.id}, "attr": "value", "new": "loud"}
    no_such = {"kind": "ModelChanged", "model": {"id": slider.id}, "attr": "volume", "new": 1}
    good = {"kind": "ModelChanged", "model": {"id": slider.id}, "attr": "value", "new": 0.5}  # within -1..1
    # One good change first: the patch is all-or-nothing, so it must not apply either.
    for n, events in enumerate(([good, wrong_type], [no_such])):
        await _send(communicator, "PATCH-DOC", {"events": events}, f"p{n}")
        # The sender alone is sent the server's values of what it touched first (BokehJS
        # applies a change before sending it and only logs an ERROR), then the ERROR.
        corrections = []
        header, content = await _reply(communicator)
        while header["msgtype"] == "PATCH-DOC":
            corrections.append(content)
            header, content = await _reply(communicator)
        assert (header["msgtype"], header["reqid"]) == ("ERROR", f"p{n}")
        assert content["text"]
        if n == 0:  # the good change's value went back to the server's
            assert [e["new"] for c in corrections for e in c["events"] if e.get("attr") == "value"] == [slider.value]
    await _send(communicator, "PUSH-DOC", {"doc": before}, "push")
    header, content = await _reply(communicator)
    assert header["msgtype"] == "ERROR" and "PUSH-DOC" in content["text"]
    async with session.lock:
        assert session.document.to_json(deferred=False) == before
    await _send(communicator, "PATCH-DOC", {"events": [good]}, "ok")
    # The Python callback recomputed the curve: its change comes to this browser too.
    kinds = set()
    while "OK" not in kinds:
        header, content = await _reply(communicator)
        assert header["msgtype"] != "ERROR", content
        kinds.add(header["msgtype"])
    assert kinds == {"PATCH-DOC", "OK"}
    assert slider.value == 0.5
    await communicator.disconnect()


async def test_an_async_handler_is_awaited() -> None:
    # bokeh-django awaits an ``async def`` handler; Bokeh's FunctionHandler dropped its
    # coroutine, so a migrated one served an empty document, with no error.
    communicator, first = await _connect(bokeh_token("s-awaited", "bk_awaited", None, {}), "bk_awaited")
    assert json.loads(first[0])["msgtype"] == "ACK", first
    session = get_registry().find_session("s-awaited")
    assert session.document.select_one({"name": "said"}).text == "built"
    assert session.document.select_one({"name": "slider"}) is not None
    await communicator.disconnect()


async def test_tokens_are_bound_to_app_and_signed() -> None:
    token = bokeh_token("s-other", "bk_crossfilter", None, {})
    _communicator, first = await _connect(token)
    error = json.loads(first[2])
    assert "another application" in error["text"]
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    _communicator, first = await _connect(forged)
    assert json.loads(first[2])["text"] == "invalid token"
    assert get_registry().find_session("s-other") is None


async def test_admin_describe_keep_alive_and_expire() -> None:
    communicator, _ = await _connect(bokeh_token("s-admin", APP, None, {"n": ["3"]}))
    session = get_registry().find_session("s-admin")
    assert session.context.request.arguments == {"n": [b"3"]}
    described = await run_command(get_registry(), "describe", "s-admin")
    types = {model["type"] for model in described["models"]}
    assert {"Slider", "TextInput", "ColumnDataSource"} <= types
    # Its connection is described as a docsync session's are (one function for both).
    [connection] = described["connections"]
    assert set(connection) == {"remote", "user_agent", "since", "client_id", "queued_bytes"}
    assert connection["queued_bytes"] == 0
    assert await run_command(get_registry(), "keep_alive", "s-admin", on=True) is True
    await communicator.disconnect()
    assert not session.expired(0.0)
    await run_command(get_registry(), "expire", "s-admin")
    assert session.destroyed and get_registry().find_session("s-admin") is None


async def test_an_admin_notice_is_recorded_and_sent_to_no_connection() -> None:
    communicator, _ = await _connect(bokeh_token("s-notice", APP, None, {}))
    try:
        assert await run_command(get_registry(), "notice", "s-notice", text="Maintenance at noon") is True
        described = await run_command(get_registry(), "describe", "s-notice")
        assert described["notices"] == ["Maintenance at noon"]
        # BokehJS has nowhere to show one (docs/bokeh.md): the next message the connection
        # gets is the answer to its own request, not a notice queued before it.
        await _send(communicator, "SERVER-INFO-REQ", {}, "info")
        header, content = await _reply(communicator)
        assert (header["msgtype"], header["reqid"]) == ("SERVER-INFO-REPLY", "info")
        assert "version_info" in content
    finally:
        await communicator.disconnect()


async def test_callbacks_run_in_worker_threads_or_on_the_loop() -> None:
    """A Bokeh app's sync code runs in docsync's worker threads; with ``"callbacks": "loop"``, on the loop."""
    import threading

    seen = {}
    for app in ("bk_threads", "bk_loop"):
        communicator, _ = await _connect(bokeh_token(f"s-{app}", app, None, {}), app)
        session = get_registry().find_session(f"s-{app}")
        slider = session.document.select_one({"name": "slider"})
        made_in = session.document.select_one({"name": "where"}).text
        change = {"kind": "ModelChanged", "model": {"id": slider.id}, "attr": "value", "new": 3}
        await _send(communicator, "PATCH-DOC", {"events": [change]}, "move")
        kinds = set()
        while "OK" not in kinds:
            header, _ = await _reply(communicator)
            kinds.add(header["msgtype"])
        seen[app] = (made_in, session.document.select_one({"name": "where"}).text)
        await communicator.disconnect()
    loop_thread = threading.current_thread().name
    assert seen["bk_threads"][0].startswith("docsync-sync")
    assert seen["bk_threads"][1].startswith("docsync-sync") and seen["bk_threads"][1].endswith("no running loop")
    assert seen["bk_loop"] == (loop_thread, f"{loop_thread}, a running loop")


async def test_a_patch_no_python_callback_hears_is_applied_on_the_loop() -> None:
    """No thread hop for a change that calls no Python code of the app; one for a change that does."""
    import threading

    communicator, _ = await _connect(bokeh_token("s-nohop", "bk_threads", None, {}), "bk_threads")
    session = get_registry().find_session("s-nohop")
    applied_in: list[tuple[str, str]] = []
    heard = session._document_patched  # Bokeh tells the session of each change, in the applying thread

    def recorded(event: Any) -> None:
        applied_in.append((event.attr, threading.current_thread().name))
        heard(event)

    session._document_patched = recorded
    where = session.document.select_one({"name": "where"})  # a Div no Python callback listens to
    slider = session.document.select_one({"name": "slider"})  # its Python callback writes the Div
    changes = (
        ("typed", {"kind": "ModelChanged", "model": {"id": where.id}, "attr": "text", "new": "typed"}),
        ("moved", {"kind": "ModelChanged", "model": {"id": slider.id}, "attr": "value", "new": 4}),
    )
    for msgid, change in changes:
        await _send(communicator, "PATCH-DOC", {"events": [change]}, msgid)
        kinds = set()
        while "OK" not in kinds:
            header, _ = await _reply(communicator)
            kinds.add(header["msgtype"])
    await communicator.disconnect()
    loop_thread = threading.current_thread().name
    assert applied_in[0] == ("text", loop_thread)
    assert sorted(attr for attr, _ in applied_in[1:]) == ["text", "value"]  # the callback's text, the value
    assert all(thread.startswith("docsync-sync") for _, thread in applied_in[1:])
    assert where.text.startswith("docsync-sync")


async def test_the_callbacks_option_is_checked() -> None:
    from docsync.checks import check_settings

    apps = {
        "bad": {"app": "tests.bokeh.gallery.functions:modify_doc", "kind": "bokeh", "callbacks": "sometimes"},
        "own": {"app": "project.examples.sliders", "callbacks": "loop"},
        "good": {"app": "tests.bokeh.gallery.functions:modify_doc", "kind": "bokeh", "callbacks": "loop"},
    }
    with override_settings(DOCSYNC={"APPS": apps}):
        errors = [m.msg for m in check_settings() if m.id == "docsync.E011"]
    assert sorted(errors) == [
        "docsync app 'bad' has 'callbacks': 'sometimes'.",
        "docsync app 'own' has 'callbacks': 'loop'.",
    ]


async def test_a_push_rule_on_a_bokeh_app_is_an_error() -> None:
    from docsync.checks import check_settings

    apps = {
        "bk": {"app": "tests.bokeh.gallery.functions:modify_doc", "kind": "bokeh", "push": "public"},
        "own": {"app": "tests.hardening.apps.limits", "push": "public"},  # docsync's own: its rule works
    }
    with override_settings(DOCSYNC={"APPS": apps}):
        errors = [m.msg for m in check_settings() if m.id == "docsync.E020"]
    assert errors == ["docsync app 'bk' is a Bokeh app with a 'push' rule."]


async def test_the_client_html_option_is_checked() -> None:
    from docsync.checks import check_settings

    board = "tests.bokeh.gallery.functions:shared_board"
    apps = {
        "bad": {"app": board, "kind": "bokeh", "client_html": "yes"},
        "own": {"app": "project.examples.sliders", "client_html": True},
        "open": {"app": board, "kind": "bokeh", "shareable": True, "client_html": True},
        "strict": {"app": board, "kind": "bokeh", "client_html": False},
    }
    with override_settings(DOCSYNC={"APPS": apps}):
        errors = [m.msg for m in check_settings() if m.id == "docsync.E015"]
    assert sorted(errors) == [
        "docsync app 'bad' has 'client_html': 'yes'.",
        "docsync app 'own' has 'client_html': True.",
    ]


async def test_the_client_offers_option_is_checked() -> None:
    from docsync.checks import check_settings

    board = "tests.bokeh.gallery.functions:shared_board"
    apps = {
        "bad": {"app": board, "kind": "bokeh", "client_offers": "yes"},
        "none": {"app": board, "kind": "bokeh", "client_offers": None},
        "own": {"app": "project.examples.sliders", "client_offers": True},
        "open": {"app": board, "kind": "bokeh", "client_offers": True},
        "strict": {"app": board, "kind": "bokeh", "client_offers": False},
    }
    with override_settings(DOCSYNC={"APPS": apps}):
        errors = [m.msg for m in check_settings() if m.id == "docsync.E019"]
    assert sorted(errors) == [
        "docsync app 'bad' has 'client_offers': 'yes'.",
        "docsync app 'none' has 'client_offers': None.",
        "docsync app 'own' has 'client_offers': True.",
    ]


async def test_which_sessions_take_html_and_code_from_browsers() -> None:
    # Refused by default where other users see the session: a shareable app's, or a
    # shared (room) app's; taken in a user's own; "client_html" decides either way.
    board = "tests.bokeh.gallery.functions:shared_board"
    apps = {
        "own": {"app": board, "kind": "bokeh"},
        "shareable": {"app": board, "kind": "bokeh", "shareable": True},
        "rooms": {"app": board, "kind": "bokeh", "shared": True},
        "open": {"app": board, "kind": "bokeh", "shared": True, "client_html": True},
        "strict": {"app": board, "kind": "bokeh", "client_html": False},
    }
    registry = SessionRegistry()
    with override_settings(DOCSYNC={"APPS": apps}):
        taken = {path: registry.get_context(path).client_html() for path in apps}
    assert taken == {"own": True, "shareable": False, "rooms": False, "open": True, "strict": False}
