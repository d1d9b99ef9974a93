"""What the Bokeh dialect leaves out of bokeh serve's per-message and per-session work, and what it still does."""

from __future__ import annotations

import gc
import json
import sys
from typing import Any

import pytest
import pytest_asyncio

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")

from bokeh.embed.bundle import Script, bundle_for_objs_and_resources
from channels.testing import WebsocketCommunicator
from django.test import RequestFactory, override_settings

from docsync.bokeh import pages
from docsync.bokeh.pages import bokeh_token, bundle_for, resources_for
from docsync.server.admin_support.commands import run_command
from docsync.server.registry import SessionRegistry, get_registry, set_registry
from docsync.testing import REPLY_TIMEOUT

SCRIPT_APP = "bk_sliders"  # a script: Bokeh makes a module per session for it
THREADS_APP = "bk_threads"


@pytest_asyncio.fixture
async def bokeh_site() -> Any:
    """A fresh registry over the Bokeh examples' settings (no live-table writes)."""
    from tests.bokeh import settings as bokeh_settings

    previous = get_registry()
    fresh = SessionRegistry()
    set_registry(fresh)
    apps = {
        **bokeh_settings.DOCSYNC["APPS"],
        THREADS_APP: {"app": "tests.bokeh.gallery.functions:thread_report", "kind": "bokeh"},
    }
    with override_settings(DOCSYNC={**bokeh_settings.DOCSYNC, "APPS": apps, "ADMIN_REFRESH": 0}):
        try:
            yield fresh
        finally:
            await fresh.shutdown()
            set_registry(previous)


async def _connect(token: str, app: str) -> WebsocketCommunicator:
    from project.asgi import application

    communicator = WebsocketCommunicator(application, f"/{app}/ws", subprotocols=["bokeh", token])
    connected, _ = await communicator.connect()
    assert connected
    header = json.loads(await communicator.receive_from(REPLY_TIMEOUT))
    assert header["msgtype"] == "ACK"
    for _ in range(2):
        await communicator.receive_from(REPLY_TIMEOUT)
    return communicator


async def _patch(communicator: WebsocketCommunicator, events: list[dict[str, Any]], msgid: str) -> None:
    await communicator.send_to(text_data=json.dumps({"msgid": msgid, "msgtype": "PATCH-DOC"}))
    await communicator.send_to(text_data="{}")
    await communicator.send_to(text_data=json.dumps({"events": events}))


async def _messages_until_ok(communicator: WebsocketCommunicator, msgid: str) -> list[tuple[str, dict[str, Any]]]:
    """(msgtype, content) of each message up to the OK answering ``msgid``."""
    messages = []
    while True:
        header = json.loads(await communicator.receive_from(REPLY_TIMEOUT))
        await communicator.receive_from(REPLY_TIMEOUT)
        content = json.loads(await communicator.receive_from(REPLY_TIMEOUT))
        for _ in range(2 * header.get("num_buffers", 0)):
            await communicator.receive_output(REPLY_TIMEOUT)
        messages.append((header["msgtype"], content))
        if header["msgtype"] == "OK" and header.get("reqid") == msgid:
            return messages
        assert header["msgtype"] != "ERROR", content


def _changed(messages: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, str, Any]]:
    """(model id, attribute, new value) of every ModelChanged the PATCH-DOCs carried."""
    return [
        (event["model"]["id"], event["attr"], event.get("new"))
        for msgtype, content in messages
        if msgtype == "PATCH-DOC"
        for event in content["events"]
        if event["kind"] == "ModelChanged"
    ]


@pytest.mark.asyncio
async def test_a_client_change_goes_to_the_other_connections_and_counts_alone(bokeh_site: Any) -> None:
    """A change nobody else hears of is not encoded, yet counts; a second browser is sent it."""
    token = bokeh_token("s-lean", THREADS_APP, None, {})
    first = await _connect(token, THREADS_APP)
    session = get_registry().find_session("s-lean")
    slider = session.document.select_one({"name": "slider"})
    where = session.document.select_one({"name": "where"})
    # Alone: the title (no Python callback) comes back to no one, yet the transaction counts.
    seq = session.seq
    await _patch(first, [{"kind": "ModelChanged", "model": {"id": slider.id}, "attr": "title", "new": "t1"}], "t1")
    assert _changed(await _messages_until_ok(first, "t1")) == []
    assert (slider.title, session.seq) == ("t1", seq + 1)
    # With a second browser: it hears of the first's own change and of the callback's.
    second = await _connect(token, THREADS_APP)
    await _patch(first, [{"kind": "ModelChanged", "model": {"id": slider.id}, "attr": "value", "new": 4}], "v4")
    to_first = _changed(await _messages_until_ok(first, "v4"))
    assert [change[:2] for change in to_first] == [(where.id, "text")]
    header = json.loads(await second.receive_from(REPLY_TIMEOUT))
    await second.receive_from(REPLY_TIMEOUT)
    content = json.loads(await second.receive_from(REPLY_TIMEOUT))
    assert header["msgtype"] == "PATCH-DOC"
    to_second = _changed([("PATCH-DOC", content)])
    assert (slider.id, "value", 4) in to_second and (where.id, "text", where.text) in to_second
    assert session.seq == seq + 2
    await first.disconnect()
    await second.disconnect()


@pytest.mark.asyncio
async def test_a_destroyed_sessions_modules_leave_sys_modules_without_a_walk_of_the_heap(
    bokeh_site: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    walks: list[Any] = []
    monkeypatch.setattr(gc, "get_referrers", lambda *objects: walks.append(objects) or [])
    communicator = await _connect(bokeh_token("s-modules", SCRIPT_APP, None, {}), SCRIPT_APP)
    session = get_registry().find_session("s-modules")
    names = [module.__name__ for module in session.document.modules._modules]
    assert names and all(name in sys.modules for name in names)
    await communicator.disconnect()
    await run_command(get_registry(), "expire", "s-modules")
    assert session.destroyed
    assert [name for name in names if name in sys.modules] == []
    assert walks == []


@pytest.mark.asyncio
async def test_the_objects_alive_when_an_app_loads_are_left_out_of_later_collections(bokeh_site: Any) -> None:
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    communicator = await _connect(bokeh_token("s-frozen", THREADS_APP, None, {}), THREADS_APP)
    try:
        assert gc.get_freeze_count() > 1000
        # The session's document came after: collections still see it.
        document = get_registry().find_session("s-frozen").document
        assert gc.is_tracked(document) and any(obj is document for obj in gc.get_objects())
    finally:
        await communicator.disconnect()
        gc.unfreeze()


@override_settings(ALLOWED_HOSTS=[".example"])
def test_the_pages_bundle_is_bokehs_own_made_once_per_root_and_copied() -> None:
    factory = RequestFactory()
    request = factory.get("/bk_sliders/", HTTP_HOST="one.example:8000")
    made = bundle_for(request)
    assert list(made) == list(bundle_for_objs_and_resources(None, resources_for(request)))
    assert any("one.example:8000" in url.url for url in made.js_files)
    made.add(Script("window.mine = 1"))  # autoload.js adds its script to its copy
    again = bundle_for(request)
    assert "window.mine = 1" not in again.js_raw
    other = bundle_for(factory.get("/bk_sliders/", HTTP_HOST="two.example"))
    assert any("two.example" in url.url for url in other.js_files)
    assert not any("one.example" in url.url for url in other.js_files)
    # Hosts are the client's to choose (within ALLOWED_HOSTS): the bundles kept are bounded.
    for n in range(40):
        bundle_for(factory.get("/bk_sliders/", HTTP_HOST=f"h{n}.example"))
    assert len(pages._bundles) <= pages._BUNDLES_KEPT
