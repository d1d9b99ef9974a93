"""Bad input over the wire: each gets its documented answer, and nothing else changes.

Every case runs against a live sliders session watched by an observer connection (which
also keeps it from expiring): afterwards its document, pulled afresh, is unchanged, and
another session still round-trips.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from unittest import mock

import numpy as np
import orjson
import pytest
import pytest_asyncio
from django.core import signing

from docsync.client import ClientSession
from docsync.exceptions import AccessRefusedError
from docsync.protocol import ERROR, OK, SERVER_INFO_REPLY, new_message, patch_doc, pull_doc_req
from docsync.server.admission.tokens import generate_session_id, issue_token
from docsync.testing import EVENT_WAIT, RawSocket

from .clients import ServerUnderTest, open_session, page_config, pulled_document
from .settings import MAX_FRAME_BYTES


@dataclass
class Target:
    """The session under attack, its observer, and a bystander session."""

    server: ServerUnderTest
    config: dict[str, Any]
    observer: ClientSession
    bystander: ClientSession
    before: Any

    @property
    def ws_url(self) -> str:
        return self.config["wsUrl"]

    async def raw(self, token: str | None = None, **kwargs: Any) -> RawSocket:
        return await RawSocket.connect(self.ws_url, self.config["token"] if token is None else token, **kwargs)

    async def assert_unharmed(self) -> None:
        assert await pulled_document(self.config) == self.before, "the session document changed"
        # The bystander's round trip still works, callback included.
        slider = self.bystander.document.get_model_by_name("frequency")
        slider.value = slider.value + 0.5
        await self.bystander.sync(EVENT_WAIT)
        doc = self.bystander.document
        x = doc.get_model_by_name("source").data["x"]
        np.testing.assert_allclose(doc.get_model_by_name("source").data["y"], np.sin(slider.value * x))
        assert not self.observer.errors and self.observer.close_code is None


@pytest_asyncio.fixture
async def target(server: ServerUnderTest) -> AsyncIterator[Target]:
    config = await page_config(server, "sliders")
    observer = await open_session(config)
    bystander = await open_session(await page_config(server, "sliders"))
    assert bystander.id != observer.id
    try:
        yield Target(server, config, observer, bystander, await pulled_document(config))
    finally:
        await observer.close()
        await bystander.close()


def _header(msgtype: str = "PATCH-DOC", **fields: Any) -> str:
    return orjson.dumps({"msgid": "m1", "msgtype": msgtype, **fields}).decode()


# (frames sent after ACK, close code, ERROR text)
MALFORMED = {
    "binary where the header belongs": ([b"\x00\x01binary"], 1002, "expected text header frame, got binary frame"),
    "invalid JSON header": (["{not json"], 1002, "invalid JSON in header frame"),
    "header not an object": (["[1, 2]"], 1002, "header must be a JSON object"),
    "invalid JSON content": ([_header(), "{}", '{"events": ['], 1002, "invalid JSON in content frame"),
    "unknown message type": ([_header("FROBNICATE"), "{}", "{}"], 1002, "unknown message type 'FROBNICATE'"),
    "text where a buffer belongs": (
        [_header(num_buffers=1), "{}", '{"events": []}', '{"id": "b"}', "not binary"],
        1002,
        "expected binary buffer payload frame, got text frame",
    ),
    "oversized frame": (
        ["x" * (MAX_FRAME_BYTES + 1)],
        1009,
        f"frame too large: {MAX_FRAME_BYTES + 1} > {MAX_FRAME_BYTES} bytes",
    ),
    "too many buffers": ([_header(num_buffers=10_000)], 1009, "too many buffers: 10000 > 1024"),
}


@pytest.mark.asyncio
@pytest.mark.parametrize("case", list(MALFORMED))
async def test_malformed_frames_close_the_connection(target: Target, case: str) -> None:
    frames, code, text = MALFORMED[case]
    socket = await target.raw()
    assert (await socket.read_message()).msgtype == "ACK"
    await socket.send_frames(*frames)
    closed_with, messages = await socket.until_closed()
    assert closed_with == code
    assert socket.close_reason == text
    assert [(m.msgtype, m.reqid, m.content.get("text")) for m in messages] == [(ERROR, None, text)]
    assert messages[0].content["code"] == f"close-{code}"
    await target.assert_unharmed()


def _slider_id(target: Target) -> str:
    return str(target.observer.document.get_model_by_name("frequency").id)


def _changed(model_id: str, attr: str, new: Any) -> dict[str, Any]:
    return {"kind": "ModelChanged", "model": {"id": model_id}, "attr": attr, "new": new}


BAD_PATCHES = {
    "unknown model id": (lambda sid: [_changed("no-such-model", "value", 2.0)], "no-such-model"),
    "unknown property": (lambda sid: [_changed(sid, "colour", "red")], "colour"),
    "bad value": (lambda sid: [_changed(sid, "value", "loud")], "value"),
    "non-writable property": (lambda sid: [_changed(sid, "start", 0.5)], "start"),
    "valid change with a bad one": (
        lambda sid: [_changed(sid, "value", 3.0), _changed(sid, "end", 99.0)],
        "end",
    ),
    "unknown event kind": (lambda sid: [{"kind": "Explode", "model": {"id": sid}, "attr": "value"}], "Explode"),
}


@pytest.mark.asyncio
@pytest.mark.parametrize("case", list(BAD_PATCHES))
async def test_bad_patch_gets_an_error_and_changes_nothing(target: Target, case: str) -> None:
    events, named = BAD_PATCHES[case]
    sender = await open_session(target.config)
    try:
        observed = len(target.observer.received)
        request = patch_doc(events(_slider_id(target)))
        reply = await sender.request(request, timeout=EVENT_WAIT)
        assert reply.reqid == request.msgid
        if reply.msgtype == OK and case == "unknown model id":
            # The convergence rule may also answer this one: an event naming a model the
            # session does not hold (a concurrent change may have removed it) loses.
            assert reply.content["rejected"] == 1
        else:
            assert reply.msgtype == ERROR
            assert named in reply.content["text"]
            assert reply.content["code"] == "patch-refused"
        assert await pulled_document(target.config) == target.before
        assert sender.document.get_model_by_name("frequency").value == 1.0
        # The observer was sent no change of the slider's value.
        for message in target.observer.received[observed:]:
            for event in message.content.get("events", []):
                assert event.get("attr") != "value" or event["new"] == 1.0

        # The same connection goes on working: a valid change and its callback's changes.
        sender.document.get_model_by_name("frequency").value = 2.0
        await sender.sync(EVENT_WAIT)
        assert sender.errors == ([reply] if reply.msgtype == ERROR else [])
        assert sender.document.get_model_by_name("status").text == "frequency changed from 1 to 2"
        await _wait_value(target.observer, 2.0)
    finally:
        await sender.close()


@pytest.mark.asyncio
async def test_a_title_past_the_apps_bound_is_refused_and_changes_nothing(target: Target) -> None:
    # The sliders app copies its TextInput into the plot's title. Unbounded, one client's
    # 9 MB text, doubled by that callback, took the document past the frame a pull needs:
    # every client was closed 1009 from then on (found from outside, 2026-12-07).
    sender = await open_session(target.config)
    try:
        text = sender.document.get_model_by_name("text")
        assert text.max_length == 200
        request = patch_doc([_changed(str(text.id), "value", "x" * 201)])
        reply = await sender.request(request, timeout=EVENT_WAIT)
        assert reply.msgtype == ERROR and reply.content["code"] == "patch-refused"
        assert "TextInput.value is 201 characters long: at most 200" in reply.content["text"]
        assert await pulled_document(target.config) == target.before
        # A title within the bound goes through, its callback retitling the plot.
        text.value = "y" * 200
        await sender.sync(EVENT_WAIT)
        assert sender.document.get_model_by_name("plot").title.text == "y" * 200
    finally:
        await sender.close()


async def _wait_value(session: ClientSession, value: float) -> None:
    await session.wait_for(lambda: session.document.get_model_by_name("frequency").value == value, EVENT_WAIT)


@pytest.mark.asyncio
async def test_non_integer_base_is_refused(target: Target) -> None:
    sender = await open_session(target.config)
    try:
        request = patch_doc([_changed(_slider_id(target), "value", 4.0)])
        request.content["base"] = "latest"
        reply = await sender.request(request, timeout=EVENT_WAIT)
        assert (reply.msgtype, reply.reqid, reply.content["text"]) == (ERROR, request.msgid, "base must be an integer")
        assert await pulled_document(target.config) == target.before
    finally:
        await sender.close()


@pytest.mark.asyncio
async def test_request_type_the_server_does_not_take_gets_an_error(target: Target) -> None:
    socket = await target.raw()
    try:
        assert (await socket.read_message()).msgtype == "ACK"
        request = new_message("PULL-DOC-REPLY", {"doc": {}})
        reply = await socket.request(request)
        assert (reply.msgtype, reply.content["text"]) == (ERROR, "unexpected message type 'PULL-DOC-REPLY'")
        # The connection stays usable.
        info = await socket.request(new_message("SERVER-INFO-REQ"))
        assert info.msgtype == SERVER_INFO_REPLY
        pulled = await socket.request(pull_doc_req())
        assert pulled.content["doc"] == target.before[0]
    finally:
        await socket.close()
    await target.assert_unharmed()


def _old_token(session_id: str, app: str, age: float) -> str:
    timestamp = signing.b62_encode(int(time.time() - age))
    with mock.patch.object(signing.TimestampSigner, "timestamp", return_value=timestamp):
        return issue_token(session_id, app, None)


def _forged(token: str) -> str:
    return token[:-1] + ("A" if token[-1] != "A" else "B")


# name -> (token maker from the target's config, Origin header, ERROR text)
REFUSED = {
    "missing token": (lambda c: None, None, "missing token: use subprotocols ['docsync', <token>]"),
    "forged token": (lambda c: _forged(c["token"]), None, "invalid token"),
    "token signed with another key": (
        lambda c: signing.TimestampSigner(key="another key", salt="docsync.session-token", sep=".").sign_object(
            {"sid": c["sessionId"], "app": "sliders", "uid": None, "args": {}}
        ),
        None,
        "invalid token",
    ),
    "expired token for a new session": (
        lambda c: _old_token(generate_session_id(), "sliders", 3600),
        None,
        "token expired",
    ),
    "token too old even to rejoin": (
        lambda c: _old_token(c["sessionId"], "sliders", 2 * 86400),
        None,
        "token expired",
    ),
    "token for another app": (
        lambda c: issue_token(c["sessionId"], "bench", None),
        None,
        "token is for another application",
    ),
    "token for a logged-in user": (
        lambda c: issue_token(c["sessionId"], "sliders", 1),
        None,
        "token belongs to another user or a closed login",
    ),
    "foreign origin": (lambda c: c["token"], "http://evil.example", "origin not allowed"),
}


@pytest.mark.asyncio
@pytest.mark.parametrize("case", list(REFUSED))
async def test_refused_connections_close_with_1008(target: Target, case: str) -> None:
    make_token, origin, text = REFUSED[case]
    token = make_token(target.config)
    if token is None:
        socket = await RawSocket.connect(target.ws_url, None)
    else:
        socket = await target.raw(token, origin=origin)
    closed_with, messages = await socket.until_closed()
    assert closed_with == AccessRefusedError.close_code == 1008
    assert socket.close_reason == text
    assert [(m.msgtype, m.content.get("text")) for m in messages] == [(ERROR, text)]
    await target.assert_unharmed()


@pytest.mark.asyncio
async def test_page_token_rejoins_its_session_and_an_allowed_origin_is_accepted(target: Target) -> None:
    # The counterpart of the refusals: the same checks let the right connection in.
    socket = await target.raw(origin=f"http://127.0.0.1:{target.server.server.port}")
    try:
        assert (await socket.read_message()).msgtype == "ACK"
        pulled = await socket.pull()
        assert pulled.content["doc"] == target.before[0]
        ok = await socket.request(patch_doc([_changed(_slider_id(target), "value", 1.0)]))
        assert ok.msgtype == OK
    finally:
        await socket.close()
