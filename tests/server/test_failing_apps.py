"""A failing application shows a clear error, refuses its websocket, and harms no other."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import Client, override_settings

from docsync.exceptions import ApplicationError
from docsync.protocol import ERROR, PATCH_DOC
from docsync.server.admission.tokens import generate_session_id, issue_token
from docsync.server.registry import SessionRegistry, get_registry, set_registry
from docsync.server.session.notices import callback_error_detail, callback_error_text
from docsync.testing import EVENT_WAIT, REPLY_TIMEOUT, DocsyncCommunicator, RawSocket

from .clients import ServerUnderTest, open_session, page_config


@pytest.fixture
def fresh_registry() -> Iterator[SessionRegistry]:
    previous = get_registry()
    set_registry(SessionRegistry())
    yield get_registry()
    set_registry(previous)


def test_syntax_error_page_shows_the_traceback_with_debug(server: ServerUnderTest) -> None:
    status, html = server.get("syntax_error/")
    assert status == 500
    assert "The application “syntax_error” failed" in html
    assert "SyntaxError" in html
    assert "Traceback" in html
    assert "syntax_error.py" in html
    log = server.log.read_text(encoding="utf-8", errors="replace")
    assert "docsync app syntax_error failed" in log
    assert "SyntaxError" in log


@pytest.mark.parametrize("debug", [True, False])
def test_syntax_error_page_in_process(debug: bool, fresh_registry: SessionRegistry) -> None:
    with override_settings(DEBUG=debug):
        response = Client().get("/syntax_error/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "syntax_error" in html
    if debug:
        assert "Traceback" in html
        assert "SyntaxError" in html
    else:
        assert "The application could not be loaded. The server log has the details." in html
        assert "Traceback" not in html
        assert "SyntaxError" not in html
        assert "syntax_error.py" not in html


async def _refused(server: ServerUnderTest, app: str, token: str) -> tuple[int | None, list[str]]:
    socket = await RawSocket.connect(f"{server.ws_base}{app}/ws", token)
    code, messages = await socket.until_closed()
    assert [m.msgtype for m in messages] == [ERROR]
    return code, [str(m.content["text"]) for m in messages]


@pytest.mark.asyncio
async def test_failing_apps_refuse_their_websocket_and_others_keep_serving(server: ServerUnderTest) -> None:
    # The page of an app whose modify_document raises is served: it fails per session.
    config = await page_config(server, "modify_fails")
    code, texts = await _refused(server, "modify_fails", config["token"])
    assert code == ApplicationError.close_code == 1011
    assert texts == ["application error: ValueError: modify_document fails on purpose"]

    # An app that cannot even compile issues no token; a valid one still gets 1011.
    token = issue_token(generate_session_id(), "syntax_error", None)
    code, texts = await _refused(server, "syntax_error", token)
    assert code == 1011
    assert texts[0].startswith("application error:") and "SyntaxError" in texts[0]

    log = server.log.read_text(encoding="utf-8", errors="replace")
    assert "application modify_fails failed to create a session" in log
    assert "Traceback" in log and "ValueError: modify_document fails on purpose" in log

    # The server still serves: other apps round-trip, and the failed one fails again cleanly.
    session = await open_session(await page_config(server, "sliders"))
    try:
        session.document.get_model_by_name("offset").value = 1.5
        await session.sync(EVENT_WAIT)
        assert session.document.get_model_by_name("status").text == "offset changed from 0 to 1.5"
    finally:
        await session.close()
    status, _ = server.get("")
    assert status == 200
    code, _ = await _refused(server, "modify_fails", (await page_config(server, "modify_fails"))["token"])
    assert code == 1011


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("debug", "text"),
    [(True, "application error: ValueError: modify_document fails on purpose"), (False, "application error")],
)
async def test_websocket_error_text_follows_debug(registry: SessionRegistry, debug: bool, text: str) -> None:
    from project.asgi import application

    with override_settings(DEBUG=debug):
        communicator = DocsyncCommunicator(application, "modify_fails")
        connected, _ = await communicator.connect()
        assert connected
        refusal = await communicator.receive_docsync()
        closed = await communicator.receive_output(REPLY_TIMEOUT)
    assert (refusal.msgtype, refusal.content["text"]) == (ERROR, text)
    assert closed == {"type": "websocket.close", "code": 1011, "reason": text}
    assert registry.sessions() == []
    await communicator.disconnect()


@pytest.mark.asyncio
async def test_a_failing_callback_is_told_to_the_page(server: ServerUnderTest) -> None:
    session = await open_session(await page_config(server, "callback_fails"))
    try:
        session.document.get_model_by_name("slider").value = 3
        await session.sync(EVENT_WAIT)
        notices = [
            event["msg_data"]
            for message in session.received
            if message.msgtype == PATCH_DOC
            for event in message.content["events"]
            if event["kind"] == "MessageSent" and event["msg_type"] == "docsync.notice"
        ]
        # DEBUG is on in this server: what the callback raised is said, and where (its traceback).
        assert [(n["text"], n["kind"]) for n in notices] == [
            ("A callback failed on the server: ValueError: callback fails on purpose at 3", "error")
        ]
        detail = notices[0]["detail"]
        assert detail.startswith("Traceback (most recent call last):")
        assert "apps_shared.py" in detail and detail.rstrip().endswith("ValueError: callback fails on purpose at 3")
        assert session.document.get_model_by_name("slider").value == 3  # the change itself stands
    finally:
        await session.close()


def test_without_debug_a_failing_callback_is_told_without_detail() -> None:
    errors = [ValueError("secret path /srv/app.py"), KeyError("k")]
    assert callback_error_detail(errors, debug=False) is None  # no traceback leaves the server
    text = callback_error_text(errors, debug=False)
    assert text == "Something went wrong on the server (2 callbacks failed); the server log has the details."
    assert callback_error_text(errors, debug=True) == (
        "2 callbacks failed on the server: ValueError: secret path /srv/app.py; KeyError: 'k'"
    )
