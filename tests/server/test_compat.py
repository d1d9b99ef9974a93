"""docsync.server.compat: each workaround against the installed daphne, Channels, uvicorn and asyncio.

Each test shows, with the dependency's own classes, what the workaround relies on and
what it changes; and that its gate lets the installed release in (a new release outside
the gate takes the fallback, which these tests run too).
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import os
import pprint
import re
import subprocess
import sys
import weakref
from collections.abc import Callable, Iterator
from functools import partial
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from autobahn.twisted.websocket import WebSocketServerFactory
from channels.consumer import AsyncConsumer
from channels.routing import URLRouter
from channels.sessions import InstanceSessionWrapper
from daphne.server import Server
from daphne.ws_protocol import WebSocketProtocol as DaphneProtocol
from django.urls import re_path
from twisted.internet.testing import StringTransport
from twisted.web.http import HTTPChannel
from uvicorn.config import Config
from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_impl import WebSocketProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.client import ClientProtocol
from websockets.extensions.permessage_deflate import PerMessageDeflate
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.uri import parse_uri

from docsync.protocol import ACK, PULL_DOC_REPLY, pull_doc_req
from docsync.routing import websocket_urlpatterns
from docsync.server.compat import (
    allow_protocol_close_codes,
    asgi_server_frame_limit,
    autobahn_logs,
    channels,
    consumer_call,
    daphne,
    daphne_frames,
    direct_messages,
    forget_pending_task,
    frame_send,
    frames_writer,
    incoming_limit,
    partial_frames,
    pongs,
    quiet_debug_lines,
    release_handshake_request,
    release_handshake_response,
    slim_receive_queue,
    slim_writable,
    socket_closed,
    takes_views,
    tasks,
    threads,
    transport_flow,
    uvicorn,
    uvicorn_parser,
    uvicorn_queue,
    uvicorn_writable,
    versions,
)
from docsync.server.compat.uvicorn_queue import ReceiveQueue
from docsync.server.compat.uvicorn_writable import WritableFlag
from docsync.server.registry import SessionRegistry
from docsync.testing import DocsyncCommunicator

# -- versions -----------------------------------------------------------------------


def test_installed_versions_are_read_and_gates_compare_them() -> None:
    assert versions.installed("daphne") is not None and versions.installed("no-such-distribution") is None
    found = versions.installed("channels")
    assert found is not None
    assert versions.checked("channels", found, (*found[:-1], found[-1] + 1))
    assert not versions.checked("channels", (0,), found)  # ``below`` is excluded
    assert not versions.checked("no-such-distribution", (0,), (99,))


# -- daphne: close codes, empty frames, frames over its limit -------------------------


def open_daphne_websocket() -> tuple[DaphneProtocol, StringTransport]:
    """A real daphne websocket protocol, open, writing to Twisted's in-memory transport."""
    factory = WebSocketServerFactory()
    factory.protocol = DaphneProtocol
    protocol = factory.buildProtocol(None)
    transport = StringTransport()
    protocol.makeConnection(transport)
    protocol.state, protocol.websocket_version, protocol.client_addr = protocol.STATE_OPEN, 13, None
    return protocol, transport


def sent(protocol: DaphneProtocol, transport: StringTransport, handle: Any, message: dict[str, Any]) -> Any:
    """What ``handle`` (a reply handler) writes for ``message``, or the exception it raises."""
    transport.clear()
    protocol.state = protocol.STATE_OPEN
    try:
        handle(protocol, message)
    except Exception as exc:
        return exc
    return transport.value()


def test_daphne_sends_every_close_code_empty_frames_and_big_frames_once_wrapped() -> None:
    assert daphne.patch_applies(DaphneProtocol)
    assert versions.checked("daphne", *daphne.CHECKED)
    allow_protocol_close_codes()
    allow_protocol_close_codes()  # once: a second call wraps nothing more
    wrapped = DaphneProtocol.handle_reply
    original = wrapped.docsync_original
    assert not getattr(original, "docsync_close_codes", False)
    protocol, transport = open_daphne_websocket()
    protocol.maxMessagePayloadSize = 10

    close = {"type": "websocket.close", "code": 1008, "reason": "bad token"}
    empty = {"type": "websocket.send", "bytes": b""}
    big = {"type": "websocket.send", "bytes": b"x" * 20}
    # daphne's own handler: autobahn refuses 1008, the empty frame is dropped, the big one raises.
    assert "invalid close code" in str(sent(protocol, transport, original, close))
    assert sent(protocol, transport, original, empty) == b""
    assert isinstance(sent(protocol, transport, original, big), Exception)
    # Wrapped: a close frame with 1008 and its reason, an empty binary frame, the whole big frame.
    assert sent(protocol, transport, wrapped, close) == b"\x88\x0b\x03\xf0bad token"
    assert sent(protocol, transport, wrapped, empty) == b"\x82\x00"
    assert sent(protocol, transport, wrapped, big) == b"\x82\x14" + b"x" * 20
    assert protocol.maxMessagePayloadSize == 10  # the incoming limit is back
    assert sent(protocol, transport, wrapped, {"type": "websocket.send", "text": "hi"}) == b"\x81\x02hi"


@pytest.mark.parametrize("size", [daphne.LARGE_FRAME_BYTES - 1, daphne.LARGE_FRAME_BYTES, 70_000, 300_000])
def test_daphne_frames_a_large_binary_view_once_as_autobahn_would(size: int) -> None:
    allow_protocol_close_codes()
    wrapped = DaphneProtocol.handle_reply
    protocol, transport = open_daphne_websocket()
    payload = np.arange(size, dtype=np.uint8)
    message = {"type": "websocket.send", "bytes": payload.tobytes()}
    expected = sent(protocol, transport, wrapped.docsync_original, message)
    writes: list[bytes] = []
    protocol.transport.write = writes.append  # type: ignore[method-assign]
    protocol.state = protocol.STATE_OPEN
    wrapped(protocol, {"type": "websocket.send", "bytes": memoryview(payload)})
    assert b"".join(writes) == expected  # byte for byte autobahn's frame
    if size >= daphne.LARGE_FRAME_BYTES:
        assert len(writes) == 1  # header and payload in the one bytes object Twisted keeps as it is
    assert daphne.takes_views(partial(Server.__new__(Server).handle_reply, protocol))  # as daphne makes it
    assert not daphne.takes_views(print)


def test_daphne_leaves_a_compressed_connection_to_autobahn() -> None:
    allow_protocol_close_codes()
    protocol, _ = open_daphne_websocket()
    protocol._perMessageCompress = object()  # negotiated: autobahn must compress
    assert not daphne._write_large_binary(protocol, memoryview(bytes(daphne.LARGE_FRAME_BYTES)))
    protocol._perMessageCompress = None
    assert daphne._write_large_binary(protocol, memoryview(bytes(daphne.LARGE_FRAME_BYTES)))


@pytest.mark.asyncio
async def test_daphnes_send_buffer_is_waited_for_through_the_http_channels_producer_slot() -> None:
    # daphne's HTTP channel registers itself as its TCP transport's producer and stays
    # registered after the websocket upgrade; the writer's drain takes its place, passing
    # everything on, instead of polling the buffer every 10 ms.
    protocol, transport = open_daphne_websocket()
    channel = HTTPChannel()
    channel.makeConnection(StringTransport())
    transport.registerProducer(channel, True)  # what daphne's channel did on the real socket
    send = partial(Server.__new__(Server).handle_reply, protocol)
    wait = daphne.send_backpressure(send)
    assert wait is not None and not isinstance(wait, partial)  # not the polling fallback
    drain = transport.producer
    assert isinstance(drain, daphne._Drain) and drain.previous is channel

    await asyncio.wait_for(wait(), 1)  # nothing buffered: no wait
    drain.pauseProducing()  # Twisted: the send buffer passed its bound
    assert channel._waitingForTransport  # the channel hears it too, as before
    waiting = asyncio.ensure_future(wait())
    await turns_until(lambda: len(drain._waiters) == 1)  # it waits on the drain
    assert not waiting.done()
    drain.resumeProducing()  # drained
    await asyncio.wait_for(waiting, 1)
    assert not channel._waitingForTransport

    # A transport nobody produces for takes the drain directly.
    protocol, transport = open_daphne_websocket()
    assert daphne.send_backpressure(partial(Server.__new__(Server).handle_reply, protocol)) is not None
    assert isinstance(transport.producer, daphne._Drain) and transport.producer.previous is None


def _client_frame(payload: bytes) -> bytes:
    """A masked binary frame, as a client sends it (RFC 6455 5.3)."""
    mask = b"\x01\x02\x03\x04"
    size = len(payload)
    header = bytes([0x82, 0x80 | size]) if size < 126 else bytes([0x82, 0x80 | 126]) + size.to_bytes(2, "big")
    return header + mask + bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))


def test_daphne_stops_reading_a_websocket_whose_frames_wait_past_the_bound_and_reads_again_at_half() -> None:
    # Real frames through autobahn's parser into daphne's onMessage, which queues them.
    protocol, transport = open_daphne_websocket()
    protocol.inside_message, protocol.current_frame = False, None  # as autobahn's handshake leaves them
    protocol.application_queue = queue = asyncio.Queue()
    pauses: list[int] = []
    taken = daphne.bound_incoming(
        partial(Server.__new__(Server).handle_reply, protocol), 2000, lambda: pauses.append(1)
    )
    assert taken is not None
    inbound = taken.__self__  # type: ignore[attr-defined]
    assert inbound.sizes is None  # nothing waits: no deque (760 bytes) per idle websocket
    frame = _client_frame(b"x" * 700)  # 700 + 256 counted per frame

    protocol.dataReceived(frame + frame)
    assert queue.qsize() == 2 and transport.producerState == "producing"  # 1,912 bytes waiting: under 2,000
    protocol.dataReceived(frame)
    assert queue.qsize() == 3 and transport.producerState == "paused" and pauses == [1]
    queue.get_nowait()
    taken()  # 1,912 left: over half the bound, still paused
    assert transport.producerState == "paused"
    queue.get_nowait()
    taken()  # 956 left: reading again
    assert transport.producerState == "producing"
    protocol.dataReceived(frame + frame)  # over again: paused again, counted again
    assert transport.producerState == "paused" and pauses == [1, 1]
    # A frame of any size is read when nothing waits (the bound counts what waits).
    while not queue.empty():
        queue.get_nowait()
        taken()
    assert transport.producerState == "producing"
    assert inbound.sizes is None and inbound.pending == 0
    # Under another server, nothing to bound.
    assert daphne.bound_incoming(print, 2000) is None


# -- start-up: the process-wide workarounds applied before any connection --------------

#: A fresh process started as a server starts docsync, printing, after each ``state()``,
#: which of daphne's class patches are in place and which Twisted reactor is installed.
START_UP_SCRIPT = """
import sys
def state():
    module = sys.modules.get("daphne.ws_protocol")
    protocol = module.WebSocketProtocol if module is not None else None
    patched = [
        bool(protocol and getattr(protocol.handle_reply, "docsync_close_codes", False)),
        bool(protocol and protocol.__dict__.get("docsync_quiet_debug_lines")),
        bool(protocol and protocol.__dict__.get("docsync_direct_messages")),
    ]
    print(patched, type(sys.modules.get("twisted.internet.reactor")).__name__, flush=True)
"""

#: How each server gets to docsync's application, and what that process reports.
START_UPS = {
    # daphne's CLI (and runserver, through INSTALLED_APPS) installs its reactor first.
    "daphne": (["import daphne.server", "import project.asgi", "state()"], ["AsyncioSelectorReactor"]),
    # uvicorn imports the application alone: daphne comes in through INSTALLED_APPS.
    "uvicorn": (["import project.asgi", "state()"], ["AsyncioSelectorReactor"]),
    # No daphne in INSTALLED_APPS: nothing patched, no reactor; daphne imported later,
    # before the routes are built, is patched then, its own reactor installed.
    "daphne-after-setup": (
        ["import django", "django.setup()", "state()", "import daphne.server", "import project.asgi", "state()"],
        ["NoneType", "AsyncioSelectorReactor"],
    ),
    # An autobahn release outside the checked ones: its classes left as they are.
    "autobahn-unchecked": (
        [
            "from docsync.server.compat import versions",
            "release = versions.version",
            "versions.version = lambda name: '1.0' if name == 'autobahn' else release(name)",
            "import daphne.server",
            "import project.asgi",
            "state()",
        ],
        ["AsyncioSelectorReactor"],
    ),
}


@pytest.mark.parametrize("start", list(START_UPS))
def test_daphnes_classes_are_patched_at_start_up_before_any_connection(start: str, tmp_path: Any) -> None:
    statements, reactors = START_UPS[start]
    env = dict(os.environ)
    if start == "daphne-after-setup":
        (tmp_path / "no_daphne_settings.py").write_text(
            f"from {env['DJANGO_SETTINGS_MODULE']} import *\n"
            "INSTALLED_APPS = [app for app in INSTALLED_APPS if app != 'daphne']\n"
        )
        env["DJANGO_SETTINGS_MODULE"] = "no_daphne_settings"
        env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), *sys.path])
    script = START_UP_SCRIPT + "\n".join(statements)
    # The timeout guards against a hang, it bounds no duration.
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert "non-asyncio Twisted reactor" not in done.stderr  # daphne's warning: a reactor installed before its own
    patched = {"autobahn-unchecked": "[True, False, False]", "daphne-after-setup": "[False, False, False]"}
    lines = done.stdout.splitlines()
    expected = [f"{patched.get(start, '[True, True, True]')} {reactor}" for reactor in reactors]
    if start == "daphne-after-setup":
        expected[-1] = f"[True, True, True] {reactors[-1]}"
    assert lines == expected


@pytest.mark.asyncio
async def test_opening_a_session_applies_no_process_wide_workaround(registry: SessionRegistry) -> None:
    from project.asgi import application

    applied = frozenset({"allow_protocol_close_codes", "quiet_debug_lines", "direct_messages"})
    calls: list[str] = []

    def hook(frame: Any, event: str, arg: Any) -> None:
        code = frame.f_code
        if event == "call" and code.co_name in applied and "/docsync/server/compat/" in code.co_filename:
            calls.append(code.co_name)

    communicator = DocsyncCommunicator(application, "sliders")
    sys.setprofile(hook)
    try:
        connected, _ = await communicator.connect()
        assert connected and (await communicator.receive_docsync()).msgtype == ACK
        request = pull_doc_req()
        await communicator.send_docsync(request)
        assert (await communicator.receive_docsync()).msgtype == PULL_DOC_REPLY
    finally:
        sys.setprofile(None)
        await communicator.disconnect()
    assert calls == []
    # In place all the same: applied when Django was set up (tests/server/conftest.py).
    assert getattr(DaphneProtocol.handle_reply, "docsync_close_codes", False)
    assert all(DaphneProtocol.__dict__.get(name) for name in ("docsync_quiet_debug_lines", "docsync_direct_messages"))


# -- daphne: a reply's frames in one write, reads without autobahn's debug formatting ---


def _daphne_send(protocol: DaphneProtocol) -> Any:
    return partial(Server.__new__(Server).handle_reply, protocol)  # daphne's ASGI send, as it makes it


def _asgi_send_of(frame: Any) -> dict[str, Any]:
    if isinstance(frame, str):
        return {"type": "websocket.send", "text": frame}
    return {"type": "websocket.send", "bytes": bytes(frame)}


def test_daphne_writes_a_replys_frames_in_one_write_byte_for_byte_as_autobahn_does() -> None:
    allow_protocol_close_codes()
    protocol, transport = open_daphne_websocket()
    frames: list[Any] = ['{"msgid":"1"}', "{}", "é" * 100, "", memoryview(bytes(range(200))), b"", b"\x01" * 125]
    expected = b"".join(
        sent(protocol, transport, DaphneProtocol.handle_reply, _asgi_send_of(frame)) for frame in frames
    )
    write_now = daphne_frames.frames_writer_now(_daphne_send(protocol))
    assert write_now is not None
    writes: list[bytes] = []
    protocol.transport.write = writes.append  # type: ignore[method-assign]
    assert write_now(frames)
    assert writes == [expected]  # one write, the bytes daphne and autobahn write frame by frame
    assert daphne_frames.frames_writer_now(print) is None  # another server


def test_daphne_writer_writes_nothing_where_autobahn_or_the_drain_must() -> None:
    allow_protocol_close_codes()
    protocol, transport = open_daphne_websocket()
    write_now = daphne_frames.frames_writer_now(_daphne_send(protocol))
    assert write_now is not None
    large = daphne.LARGE_FRAME_BYTES
    # Too big together: a large frame waits for an empty buffer, frame by frame.
    assert not write_now([bytes(large)]) and not write_now(["{}", bytes(large // 2), bytes(large // 2)])
    protocol._perMessageCompress = object()  # negotiated: autobahn compresses
    assert not write_now(["{}"])
    protocol._perMessageCompress = None
    protocol.autoFragmentSize = 100  # autobahn fragments
    assert not write_now(["{}"])
    protocol.autoFragmentSize = 0
    transport.producerPaused = True  # Twisted's buffer is full: the writer waits
    assert not write_now(["{}"])
    transport.producerPaused = False
    protocol.state = protocol.STATE_CLOSING  # daphne refuses or drops it
    assert not write_now(["{}"])
    assert transport.value() == b""
    protocol.state = protocol.STATE_OPEN
    assert write_now(["{}"]) and transport.value() == b"\x81\x02{}"


def _python_calls_into(filename: str, call: Callable[[], Any], names: frozenset[str] | None = None) -> int:
    """Calls ``call`` makes of Python functions defined in ``filename`` (only ``names``, if given)."""
    calls = 0

    def hook(frame: Any, event: str, arg: Any) -> None:
        nonlocal calls
        code = frame.f_code
        if event == "call" and code.co_filename.endswith(filename) and (names is None or code.co_name in names):
            calls += 1

    sys.setprofile(hook)
    try:
        call()
    finally:
        sys.setprofile(None)
    return calls


#: autobahn's functions that style a debug line's arguments.
_STYLING = frozenset({"hl", "hltype", "hlval", "_qn"})


def test_autobahn_formats_no_debug_line_nobody_logs_and_daphne_reads_the_same() -> None:
    import autobahn.twisted.websocket as twisted_websocket
    import autobahn.util
    import autobahn.websocket.protocol as websocket_protocol
    import txaio

    def a_connection_reads_and_writes() -> None:
        protocol, transport = open_daphne_websocket()
        protocol.inside_message, protocol.current_frame = False, None  # as autobahn's handshake leaves them
        protocol.application_queue = queue = asyncio.Queue()
        protocol.dataReceived(_client_frame(b"x" * 300))
        assert queue.get_nowait() == {"type": "websocket.receive", "bytes": b"x" * 300}
        protocol.sendMessage(b"{}", False)  # autobahn's own write, its debug line included
        assert transport.value() == b"\x81\x02{}"

    assert txaio.get_global_log_level() not in ("debug", "trace")
    if not DaphneProtocol.__dict__.get("docsync_quiet_debug_lines"):  # not yet applied in this process
        assert _python_calls_into("pprint.py", a_connection_reads_and_writes) > 0
        assert _python_calls_into("autobahn/util.py", a_connection_reads_and_writes, _STYLING) > 0
    assert quiet_debug_lines() and quiet_debug_lines()  # once: the second call changes nothing
    assert _python_calls_into("pprint.py", a_connection_reads_and_writes) == 0
    assert _python_calls_into("autobahn/util.py", a_connection_reads_and_writes, _STYLING) == 0
    assert DaphneProtocol.dataReceived is DaphneProtocol._dataReceived
    # A line that is logged reads as before: the arguments format to the same text.
    real_hltype = twisted_websocket.hltype.docsync_deferred
    deferred = twisted_websocket.hltype(DaphneProtocol.onMessage)
    assert f"{deferred}" == str(deferred) == real_hltype(DaphneProtocol.onMessage)
    assert f"{websocket_protocol.hlval(7)}" == autobahn.util.hlval(7)
    assert websocket_protocol.pformat is pprint.pformat  # Timings.__str__ still returns a str
    assert isinstance(str(websocket_protocol.Timings()), str)


def test_daphne_takes_a_message_from_autobahns_parser_directly_and_observers_still_hear_it() -> None:
    def a_message_read() -> list[Any]:
        protocol, _ = open_daphne_websocket()
        protocol.inside_message, protocol.current_frame = False, None  # as autobahn's handshake leaves them
        protocol.application_queue = queue = asyncio.Queue()
        protocol.dataReceived(_client_frame(b"x" * 300) + _client_frame(b""))
        return [queue.get_nowait(), queue.get_nowait()]

    read = [{"type": "websocket.receive", "bytes": b"x" * 300}, {"type": "websocket.receive", "bytes": b""}]
    if not DaphneProtocol.__dict__.get("docsync_direct_messages"):  # not yet applied in this process
        assert _python_calls_into("autobahn/util.py", a_message_read, frozenset({"fire"})) == 2
    assert direct_messages() and direct_messages()  # once: the second call changes nothing
    assert _python_calls_into("autobahn/util.py", a_message_read, frozenset({"fire"})) == 0
    assert _python_calls_into("autobahn/twisted/websocket.py", a_message_read, frozenset({"_onMessageBegin"})) == 0
    assert a_message_read() == read
    # An observer of autobahn's "message" event gets it, as before.
    protocol, _ = open_daphne_websocket()
    protocol.inside_message, protocol.current_frame = False, None
    protocol.application_queue = queue = asyncio.Queue()
    heard: list[bytes] = []
    protocol.on("message", lambda payload, is_binary: heard.append(payload))
    protocol.dataReceived(_client_frame(b"hi"))
    assert heard == [b"hi"] and queue.get_nowait() == {"type": "websocket.receive", "bytes": b"hi"}
    # daphne's bound on queued bytes still sees every message (it replaces an instance's onMessage).
    protocol, transport = open_daphne_websocket()
    protocol.inside_message, protocol.current_frame = False, None
    protocol.application_queue = asyncio.Queue()
    taken = daphne.bound_incoming(_daphne_send(protocol), 100)
    assert taken is not None
    protocol.dataReceived(_client_frame(b"x" * 10))
    assert transport.producerState == "paused"  # 10 + 256 bytes counted: over 100


def test_autobahns_debug_logging_on_is_seen(monkeypatch: pytest.MonkeyPatch) -> None:
    import txaio

    assert not autobahn_logs.autobahn_debugging()
    monkeypatch.setattr(txaio, "get_global_log_level", lambda: "debug")
    assert autobahn_logs.autobahn_debugging()  # then its lines are left as they are, the writer not offered


async def turns_until(predicate: Callable[[], bool]) -> None:
    """Let the loop turn until ``predicate`` holds (a task parked on what it waits for): an event, not a delay."""

    async def turns() -> None:
        while not predicate():
            await asyncio.sleep(0)

    await asyncio.wait_for(turns(), 60)


class _TwistedBuffer:
    """The attributes of Twisted's TCP transport the drain reads: its buffers, its pause flag."""

    disconnected = False

    def __init__(self) -> None:
        self.dataBuffer, self._tempDataLen, self.producerPaused = b"", 0, False


@pytest.mark.asyncio
async def test_daphnes_drain_lets_a_large_frame_wait_until_twisteds_buffer_is_empty() -> None:
    transport = _TwistedBuffer()
    drain = daphne._Drain(None, transport)
    large = daphne.LARGE_FRAME_BYTES
    await asyncio.wait_for(drain.wait(large), 1)  # empty buffer: no wait
    transport._tempDataLen = 300  # small frames written, not yet out
    await asyncio.wait_for(drain.wait(100), 1)  # a small frame joins them
    waiting = asyncio.ensure_future(drain.wait(large))
    await turns_until(lambda: len(drain._waiters) == 1)  # it waits on the drain
    assert not waiting.done() and transport.producerPaused  # Twisted will say when it is empty
    transport._tempDataLen = 0
    drain.resumeProducing()  # what Twisted's doWrite calls once everything is written
    await asyncio.wait_for(waiting, 1)


@pytest.mark.asyncio
async def test_daphnes_drain_says_when_twisted_holds_written_bytes_back() -> None:
    # A client's share (MAX_QUEUED_BYTES_PER_CLIENT) counts what Twisted's buffer holds.
    drain = daphne._Drain(None, _TwistedBuffer())
    flow = transport_flow(None, drain.wait)
    assert flow is drain and not flow.held_back()
    await asyncio.wait_for(flow.drained(), 1)
    drain.pauseProducing()  # Twisted: its send buffer passed its bound
    assert flow.held_back()
    waiting = asyncio.ensure_future(flow.drained())
    await turns_until(lambda: len(drain._waiters) == 1)  # it waits on the drain
    assert not waiting.done()
    drain.resumeProducing()
    await asyncio.wait_for(waiting, 1)
    assert not flow.held_back()
    assert transport_flow(None, partial(daphne._poll_drain, _TwistedBuffer())) is None  # the polling fallback


def test_daphne_without_the_internals_is_left_as_it_is(caplog: pytest.LogCaptureFixture) -> None:
    class Stripped:
        handle_reply = DaphneProtocol.handle_reply

    assert not daphne.patch_applies(Stripped)
    assert "lacks" in caplog.text


def test_daphnes_incoming_limit_is_raised_to_docsyncs_and_uvicorns_read() -> None:
    sansio = WebSocketsSansIOProtocol.__new__(WebSocketsSansIOProtocol)
    sansio.config = SimpleNamespace(ws_max_size=1000)  # type: ignore[assignment]
    assert incoming_limit(sansio.send) == 1000
    assert asgi_server_frame_limit(sansio.send, 5000) == 1000  # uvicorn's is only read (W008 and a log say the fix)

    protocol = DaphneProtocol.__new__(DaphneProtocol)
    protocol.maxMessagePayloadSize = protocol.maxFramePayloadSize = 1 << 20  # daphne's default
    send = partial(Server.__new__(Server).handle_reply, protocol)  # as daphne makes it
    assert asgi_server_frame_limit(send, 16 << 20) == 16 << 20
    assert protocol.maxFramePayloadSize == 16 << 20
    assert asgi_server_frame_limit(send, 1 << 10) == 16 << 20  # a higher limit is left as it is

    async def other_send(message: dict[str, object]) -> None:
        return None

    assert asgi_server_frame_limit(other_send, 1 << 20) is None


# -- Channels: frames below the session wrapper, the consumer's own receive loop -------


def test_frames_are_sent_below_every_session_wrapper() -> None:
    async def server_send(message: dict[str, object]) -> None:
        return None

    outer = InstanceSessionWrapper({"type": "websocket", "cookies": {}}, server_send)
    inner = InstanceSessionWrapper(outer.scope, outer.send)  # a second session middleware inside
    assert outer.activated and not inner.activated
    assert frame_send(inner.send) is server_send
    assert frame_send(outer.send) is server_send

    class OtherWrapper:  # a wrapper without Channels' real_send: its send is used as it is
        async def send(self, message: dict[str, object]) -> None:
            return None

    other = OtherWrapper()
    assert frame_send(other.send) == other.send


def test_channels_consumers_send_through_base_send() -> None:
    """What the consumer's own receive loop relies on: it sets ``base_send`` and ``send`` uses it."""
    assert channels.OWN_RECEIVE_LOOP and versions.checked("channels", *channels.CHECKED)
    written: list[dict[str, Any]] = []

    async def base_send(message: dict[str, Any]) -> None:
        written.append(message)

    consumer = AsyncConsumer()
    consumer.base_send = base_send
    asyncio.run(consumer.send({"type": "websocket.send", "text": "x"}))
    assert written == [{"type": "websocket.send", "text": "x"}]


@pytest.fixture(params=[True, False], ids=["own-loop", "channels-loop"])
def receive_loop(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[bool]:
    monkeypatch.setattr(channels, "OWN_RECEIVE_LOOP", request.param)
    yield request.param


@pytest.mark.asyncio
async def test_a_session_is_served_by_either_receive_loop(registry: SessionRegistry, receive_loop: bool) -> None:
    from project.asgi import application

    communicator = DocsyncCommunicator(application, "sliders")
    connected, _ = await communicator.connect()
    assert connected
    try:
        assert (await communicator.receive_docsync()).msgtype == ACK
        request = pull_doc_req()
        await communicator.send_docsync(request)
        reply = await communicator.receive_docsync()
        assert (reply.msgtype, reply.reqid) == (PULL_DOC_REPLY, request.msgid)
    finally:
        await communicator.disconnect()


# -- uvicorn: payloads it copies, its size limit ---------------------------------------


def test_views_go_only_to_uvicorn_implementations_known_to_copy_them(monkeypatch: pytest.MonkeyPatch) -> None:
    assert versions.checked("uvicorn", *uvicorn.CHECKED)
    # Only the bound send is looked at, so bare instances do.
    sansio = WebSocketsSansIOProtocol.__new__(WebSocketsSansIOProtocol)
    legacy = WebSocketProtocol.__new__(WebSocketProtocol)
    assert takes_views(sansio.send) and takes_views(legacy.asgi_send)

    async def other_send(message: dict[str, object]) -> None:
        return None

    assert not takes_views(other_send) and not takes_views(print)
    # Another uvicorn release gets bytes, as ASGI says.
    monkeypatch.setattr(uvicorn, "CHECKED", ((0,), (0, 1)))
    assert not takes_views(sansio.send)


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536, 300_000])
def test_frames_written_directly_are_the_frames_websockets_makes(size: int) -> None:
    # frames_writer frames an open, plain connection's frames itself (no Frame object,
    # no BytesIO per frame): byte for byte what websockets' own server side writes.
    text = "é" * (size // 2) + "x" * (size % 2)
    payload = np.arange(size, dtype=np.uint8)
    for frame, expected in (
        (text, Frame(Opcode.TEXT, text.encode())),
        (payload.tobytes(), Frame(Opcode.BINARY, payload.tobytes())),
        (memoryview(payload), Frame(Opcode.BINARY, payload.tobytes())),
        (memoryview(payload.view(np.float64) if size % 8 == 0 else payload), Frame(Opcode.BINARY, payload.tobytes())),
    ):
        assert b"".join(uvicorn._framed(frame)) == expected.serialize(mask=False)
        # Several at once (what the writer hands the socket): the same bytes, back to back.
        together = b"".join(b"".join(uvicorn._framed(f)) for f in (frame, "{}", frame))
        assert b"".join(uvicorn._framed_all([frame, "{}", frame])) == together


def test_a_large_binary_payload_is_written_beside_its_header_not_copied() -> None:
    payload = memoryview(np.arange(uvicorn.ZERO_COPY_BYTES // 8, dtype=np.float64)).cast("B")
    head, body = uvicorn._framed(payload)
    assert body is payload  # the transport writes the array's own memory
    assert head + bytes(body) == Frame(Opcode.BINARY, payload.tobytes()).serialize(mask=False)
    small = payload[: uvicorn.ZERO_COPY_BYTES - 1]
    assert len(uvicorn._framed(small)) == 1  # small frames: one chunk, header and payload joined
    # Framed together, small frames share a chunk and the large payload is still its own.
    chunks = uvicorn._framed_all(["{}", small, payload, "{}"])
    assert len(chunks) == 3 and chunks[1] is payload


class _Transport:
    """What uvicorn's protocol writes to, kept."""

    def __init__(self) -> None:
        self.data = b""

    def writelines(self, chunks: list[bytes]) -> None:
        self.data += b"".join(chunks)

    def write(self, chunk: bytes) -> None:
        self.data += chunk


@pytest.mark.parametrize("deflate", [False, True])
@pytest.mark.asyncio
async def test_frames_writer_frames_directly_only_a_plain_open_connection(deflate: bool) -> None:
    config = Config(app=None, ws="websockets-sansio")
    protocol = WebSocketsSansIOProtocol(config, ServerState(), {})
    protocol.transport = _Transport()  # type: ignore[assignment]
    protocol.handshake_complete = True
    protocol.conn.state = State.OPEN
    if deflate:  # negotiated by browsers: websockets must compress, so it frames too
        protocol.conn.extensions = [PerMessageDeflate(False, False, 15, 15)]
    write = frames_writer(protocol.send)
    assert write is not None
    frames: list[Any] = ['{"msgtype":"OK"}', "{}", "é" * 200, b"\x00" * 70_000, memoryview(np.arange(3.0))]
    await write(frames)
    client = ClientProtocol(parse_uri("ws://x/"), state=State.OPEN)
    if deflate:
        client.extensions = [PerMessageDeflate(False, False, 15, 15)]
    client.receive_data(protocol.transport.data)  # type: ignore[attr-defined]
    received = [event.data for event in client.events_received()]
    assert received == [f.encode() if isinstance(f, str) else bytes(f) for f in frames]
    first_bytes = protocol.transport.data[0]  # type: ignore[attr-defined]
    assert bool(first_bytes & 0x40) is deflate  # rsv1: compressed only with the extension


class _HandshakeTransport(_Transport):
    """A transport with the addresses uvicorn reads when a connection is made."""

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 40000), "sockname": ("127.0.0.1", 8000)}.get(name, default)

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        pass

    def pause_reading(self) -> None:  # uvicorn's flow control, past --ws-max-queue frames
        pass

    def resume_reading(self) -> None:
        pass


def _upgraded_sansio(app: Any) -> tuple[WebSocketsSansIOProtocol, ClientProtocol]:
    """A real uvicorn sansio websocket running ``app``, given a websockets client's upgrade request."""
    protocol = WebSocketsSansIOProtocol(Config(app=app, ws="websockets-sansio"), ServerState(), {})
    protocol.app = app
    protocol.transport = _HandshakeTransport()  # type: ignore[assignment]
    protocol.connection_made(protocol.transport)
    client = ClientProtocol(parse_uri("ws://127.0.0.1:8000/bench/ws"), subprotocols=["docsync"])
    client.send_request(client.connect())
    protocol.data_received(b"".join(client.data_to_send()))
    return protocol, client


@pytest.mark.asyncio
async def test_uvicorns_handshake_response_released_and_dict_compacted_once_accepted_frames_still_flow() -> None:
    # uvicorn keeps the 101 response on its protocol for the websocket's life; once the
    # websocket is accepted nothing reads it again, so docsync lets it go (about 2 KB
    # per connection). Before that, the response stayed referenced as long as the socket.
    # And its attributes' dict, grown past CPython's shared-key form, is made again at its size.
    released: list[bool] = []
    finished = asyncio.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert (await receive())["type"] == "websocket.connect"
        assert not release_handshake_response(send)  # not accepted yet: kept, uvicorn answers with it
        await send({"type": "websocket.accept", "subprotocol": "docsync"})
        attributes = dict(vars(protocol))
        size = sys.getsizeof(vars(protocol))
        released.append(release_handshake_response(send))
        # The same attributes (the handshake's set to None) in a dict of their size, not the one
        # CPython grew from the shared-key form in uvicorn's __init__ (1,584 bytes, now 832).
        assert vars(protocol) == {**attributes, "response": None}
        assert sys.getsizeof(vars(protocol)) < size, (sys.getsizeof(vars(protocol)), size)
        await send({"type": "websocket.send", "text": "after"})
        finished.set()
        await receive()

    protocol, client = _upgraded_sansio(app)
    await asyncio.wait_for(finished.wait(), 5)
    assert released == [True]
    assert protocol.response is None
    client.receive_data(protocol.transport.data)  # type: ignore[attr-defined]
    events = client.events_received()
    assert events[0].status_code == 101  # type: ignore[union-attr]
    assert events[0].headers["Sec-WebSocket-Protocol"] == "docsync"  # type: ignore[union-attr]
    assert [e.data for e in events[1:]] == [b"after"]  # type: ignore[union-attr]
    # Another uvicorn release keeps its response.
    assert not release_handshake_response(SimpleNamespace(send=None).send)
    protocol.connection_lost(None)
    await asyncio.sleep(0)


@pytest.mark.asyncio
async def test_uvicorns_disconnect_comes_before_the_client_answers_the_close_socket_closed_waits_for_it() -> None:
    # uvicorn's sansio websocket tells the app "websocket.disconnect" as soon as the app
    # sends its close; the socket is closed only once the client answered (a drain waits
    # for that: tests/persistence/test_kill_and_drain.py).
    told: list[Any] = []
    closed = asyncio.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept", "subprotocol": "docsync"})
        told.append(socket_closed(send))
        await send({"type": "websocket.close", "code": 4012})
        told.append((await receive())["type"])
        told.append(socket_closed(send))
        closed.set()

    protocol, client = _upgraded_sansio(app)
    await asyncio.wait_for(closed.wait(), 5)
    assert told == [False, "websocket.disconnect", False]  # told, but the client has not answered yet
    client.receive_data(protocol.transport.data)  # type: ignore[attr-defined]
    assert client.close_rcvd is not None and client.close_rcvd.code == 4012
    protocol.data_received(b"".join(client.data_to_send()))  # the client's answer
    protocol.connection_lost(None)  # the socket closes after it
    assert socket_closed(protocol.send) is True
    assert socket_closed(SimpleNamespace(send=None).send) is None  # another server: its disconnect says it
    await asyncio.sleep(0)


# -- uvicorn and websockets: the upgrade request ------------------------------------


def _echo_app(ready: asyncio.Event, released: list[Any], received: list[Any]) -> Any:
    """An ASGI app that accepts, lets the upgrade request go (once, then again), and echoes text frames."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert (await receive())["type"] == "websocket.connect"
        released.append(weakref.ref(send.__self__.request))
        released.append(release_handshake_request(send))  # not accepted yet: kept
        await send({"type": "websocket.accept", "subprotocol": "docsync"})
        released.append(release_handshake_request(send))
        released.append(release_handshake_request(send))  # its parser is no longer websockets' server parser
        ready.set()
        while True:
            message = await receive()
            received.append(message)
            if message["type"] == "websocket.disconnect":
                return
            await send({"type": "websocket.send", "text": "echo " + message["text"]})

    return app


@pytest.mark.asyncio
async def test_uvicorns_upgrade_request_let_go_once_accepted_frames_split_anywhere_still_parse() -> None:
    # websockets' ServerProtocol.parse keeps the parsed upgrade request in a local for the
    # connection's life, and uvicorn keeps it as protocol.request. Before: still referenced
    # after the accept, by both. After: nothing holds it, and the frame loop that took the
    # parser's place reads frames, split at any byte, and the close, as the old one did.
    assert versions.checked("websockets", *uvicorn_parser.WEBSOCKETS_CHECKED)
    ready, released, received = asyncio.Event(), [], []  # type: ignore[var-annotated]
    protocol, client = _upgraded_sansio(_echo_app(ready, released, received))
    await asyncio.wait_for(ready.wait(), 60)
    request, *answers = released
    assert answers == [False, True, False]
    assert protocol.request is None
    gc.collect()
    assert request() is None, gc.get_referrers(request())
    client.receive_data(protocol.transport.data)  # type: ignore[attr-defined]
    assert client.events_received()[0].status_code == 101  # type: ignore[union-attr]
    protocol.transport.data = b""  # type: ignore[attr-defined]
    for text in (b"one", b"two" * 30_000):  # a short and a 64-bit-length frame, fed a byte, then the rest
        client.send_text(text)
        data = b"".join(client.data_to_send())
        for part in (data[:1], data[1:3], data[3:]):
            protocol.data_received(part)
        while len(received) < (1 if text == b"one" else 2):
            await asyncio.sleep(0.01)
    client.send_close(1000, "bye")
    protocol.data_received(b"".join(client.data_to_send()))
    while len(received) < 3:
        await asyncio.sleep(0.01)
    assert received == [
        {"type": "websocket.receive", "text": "one"},
        {"type": "websocket.receive", "text": "two" * 30_000},
        {"type": "websocket.disconnect", "code": 1000, "reason": "bye"},
    ]
    client.receive_data(protocol.transport.data)  # type: ignore[attr-defined]
    assert [e.data for e in client.events_received()][:2] == [b"echo one", b"echo " + b"two" * 30_000]  # type: ignore[union-attr]
    # Another server, or another uvicorn release, keeps its request.
    assert not release_handshake_request(SimpleNamespace(send=None).send)


@pytest.mark.asyncio
async def test_uvicorns_upgrade_request_kept_while_a_frame_is_half_read() -> None:
    # Mid frame the parser's locals (the header read so far) are state: it is not replaced.
    halfway: list[bool] = []
    ready, frame_started = asyncio.Event(), asyncio.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept", "subprotocol": "docsync"})
        ready.set()
        await frame_started.wait()
        halfway.append(release_handshake_request(send))
        halfway.append(release_handshake_request(send))
        assert (await receive()) == {"type": "websocket.receive", "text": "whole"}

    protocol, client = _upgraded_sansio(app)
    await asyncio.wait_for(ready.wait(), 60)
    client.receive_data(protocol.transport.data)  # type: ignore[attr-defined]
    client.send_text(b"whole")
    data = b"".join(client.data_to_send())
    protocol.data_received(data[:2])  # the frame's first two bytes only
    frame_started.set()
    while len(halfway) < 2:
        await asyncio.sleep(0.01)
    assert halfway == [False, False]
    assert protocol.request is not None
    protocol.data_received(data[2:])
    protocol.connection_lost(None)
    await asyncio.sleep(0)


# -- uvicorn: its receive queue --------------------------------------------------------


def test_uvicorns_sansio_websocket_uses_only_what_receive_queue_has() -> None:
    # ReceiveQueue stands in for uvicorn's asyncio.Queue: the installed uvicorn must call
    # nothing else of it (a method it lacks would fail at the first frame).
    import uvicorn.protocols.websockets.websockets_sansio_impl as sansio

    assert versions.checked("uvicorn", *uvicorn_queue.CHECKED)
    used = set(re.findall(r"self\.queue\.(\w+)", inspect.getsource(sansio)))
    assert used and used <= {"put_nowait", "get", "empty"}, used
    assert all(callable(getattr(ReceiveQueue, name)) for name in used)


@pytest.mark.asyncio
async def test_receive_queue_is_fifo_wakes_its_getter_and_keeps_an_item_a_cancelled_get_missed() -> None:
    queue = ReceiveQueue(["a", "b"])
    queue.put_nowait("c")
    assert not queue.empty()
    assert [await queue.get() for _ in range(3)] == ["a", "b", "c"]
    assert queue.empty()
    getter = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    queue.put_nowait("d")
    queue.put_nowait("e")
    assert await getter == "d"
    assert await queue.get() == "e"
    # A get cancelled after it was woken leaves the item for the next one.
    getter = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    queue.put_nowait("f")
    getter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await getter
    assert await queue.get() == "f"
    # One consumer: a second get while one waits is refused, loudly, not left unserved.
    getter = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="two tasks"):
        await queue.get()
    queue.put_nowait("g")
    assert await getter == "g"
    # It is small: no deque while at most one item waits.
    assert sys.getsizeof(queue) < 100


@pytest.mark.asyncio
async def test_uvicorns_receive_queue_made_small_once_accepted_frames_still_arrive_in_order() -> None:
    slimmed: list[bool] = []
    received: list[Any] = []
    finished = asyncio.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert (await receive())["type"] == "websocket.connect"
        assert not slim_receive_queue(send)  # not accepted yet: left as it is
        await send({"type": "websocket.accept", "subprotocol": "docsync"})
        slimmed.append(slim_receive_queue(send))
        slimmed.append(slim_receive_queue(send))  # once only
        for _ in range(3):
            received.append(await receive())
        finished.set()

    protocol, client = _upgraded_sansio(app)
    while not slimmed:
        await asyncio.sleep(0.01)
    assert slimmed == [True, False]
    assert type(protocol.queue) is ReceiveQueue
    client.receive_data(protocol.transport.data)  # type: ignore[attr-defined]
    client.send_text(b"one")
    client.send_binary(b"two")
    protocol.data_received(b"".join(client.data_to_send()))
    client.send_text(b"three")
    protocol.data_received(b"".join(client.data_to_send()))
    await asyncio.wait_for(finished.wait(), 60)
    assert received == [
        {"type": "websocket.receive", "text": "one"},
        {"type": "websocket.receive", "bytes": b"two"},
        {"type": "websocket.receive", "text": "three"},
    ]
    # Another server, or another uvicorn release, keeps its queue.
    assert not slim_receive_queue(SimpleNamespace(send=None).send)
    protocol.connection_lost(None)
    await asyncio.sleep(0)


# -- Channels: URLRouter's routing, in one pass ---------------------------------------


class _ScopeRecorder(AsyncConsumer):
    """A consumer that keeps the scope it is run with, and whether URLRouter's frame is on its stack."""

    seen: list[tuple[dict[str, Any], bool]] = []

    def __init__(self, tag: str = "") -> None:
        self.tag = tag

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        frame: Any = sys._getframe(1)
        routed_by_router = False
        while frame is not None:
            routed_by_router |= frame.f_code is URLRouter.__call__.__code__
            frame = frame.f_back
        self.seen.append(({**scope, "tag": self.tag}, routed_by_router))


def _routers() -> list[Any]:
    """URLRouters over docsync's websocket route pattern: plain, with default args, and a nested one."""
    pattern = websocket_urlpatterns[0].pattern.regex.pattern
    return [
        URLRouter(
            [re_path(r"^other/$", _ScopeRecorder.as_asgi(tag="other")), re_path(pattern, _ScopeRecorder.as_asgi())]
        ),
        URLRouter([re_path(pattern, _ScopeRecorder.as_asgi(tag="kw"), kwargs={"extra": 7})]),
        URLRouter([re_path(r"^nested/", URLRouter([re_path(pattern, _ScopeRecorder.as_asgi())]))]),
    ]


@pytest.mark.parametrize("router_index", [0, 1, 2])
@pytest.mark.parametrize(
    "path,root_path",
    [("/bench/ws", ""), ("/dash/bench/ws", ""), ("/site/bench/ws", "/site"), ("/other/", ""), ("/nested/bench/ws", "")],
)
@pytest.mark.asyncio
async def test_a_consumer_call_gives_the_consumer_the_scope_url_router_gives_it(
    router_index: int, path: str, root_path: str
) -> None:
    # Channels' URLRouter copies the scope (path_remaining, url_route) and awaits the route's
    # as_asgi app, which makes the consumer: consumer_call sets the same keys in the copy it
    # is given and returns the same consumer's call; what it does not route is None, the
    # copy untouched.
    assert channels.ROUTER_CHECKED
    router = _routers()[router_index]
    scope = {"type": "websocket", "path": path, "root_path": root_path, "headers": []}
    _ScopeRecorder.seen.clear()
    try:
        await router(dict(scope), None, None)
    except ValueError:  # no route: the router refuses, and consumer_call leaves it to refuse
        copy = dict(scope)
        assert consumer_call(router, copy, None, None) is None and copy == scope
        return
    [(expected, _)] = _ScopeRecorder.seen
    copy = dict(scope)
    call = consumer_call(router, copy, None, None)
    if router_index == 2:  # the matching route is another router: it routes
        assert call is None and copy == scope
        return
    assert call is not None
    _ScopeRecorder.seen.clear()
    await call
    [(got, routed_by_router)] = _ScopeRecorder.seen
    assert list(got.items()) == list(expected.items())  # the same keys, values and order
    assert not routed_by_router
    # A route to an app that is not a consumer's as_asgi, and another router type, are left.
    plain = {**scope, "path": "/bench/ws"}
    assert consumer_call(URLRouter([re_path(r"^bench/ws$", _plain_app)]), plain, None, None) is None
    assert "url_route" not in plain
    assert consumer_call(SimpleNamespace(routes=router.routes), dict(scope), None, None) is None


async def _plain_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    pass


# -- uvicorn: its flow-control event --------------------------------------------------


def test_uvicorns_sansio_websocket_uses_only_what_writable_flag_has() -> None:
    # WritableFlag stands in for uvicorn's asyncio.Event: the installed uvicorn must call
    # nothing else of it (and docsync's frames writer reads is_set and awaits wait).
    import uvicorn.protocols.websockets.websockets_sansio_impl as sansio

    assert versions.checked("uvicorn", *uvicorn_writable.CHECKED)
    used = set(re.findall(r"self\.writable\.(\w+)", inspect.getsource(sansio)))
    used |= set(re.findall(r"owner\.writable\.(\w+)", inspect.getsource(uvicorn)))
    assert used and used <= {"set", "clear", "wait", "is_set"}, used
    assert all(callable(getattr(WritableFlag, name)) for name in used)


@pytest.mark.asyncio
async def test_writable_flag_is_an_event_without_a_deque_while_no_task_waits() -> None:
    flag = WritableFlag(True)
    assert flag.is_set() and await flag.wait() is True
    flag.clear()
    waiters = [asyncio.ensure_future(flag.wait()) for _ in range(2)]
    await asyncio.sleep(0)
    assert not any(w.done() for w in waiters)
    cancelled = asyncio.ensure_future(flag.wait())
    await asyncio.sleep(0)
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    flag.set()
    flag.clear()  # as asyncio.Event: the waiters woken by set() return True though cleared since
    assert await asyncio.gather(*waiters) == [True, True]
    assert flag._waiters is None  # no list once nobody waits
    assert sys.getsizeof(flag) < 100


@pytest.mark.asyncio
async def test_uvicorns_frames_writer_says_when_its_transport_holds_written_bytes_back() -> None:
    # uvicorn's send returns once the bytes are in its transport, which keeps what a client
    # does not read: a client's share (MAX_QUEUED_BYTES_PER_CLIENT) counts them until it drains.
    seen: list[bool] = []
    drained = asyncio.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept", "subprotocol": "docsync"})
        slim_writable(send)
        flow = transport_flow(frames_writer(send))
        assert flow is not None
        seen.append(flow.held_back())
        send.__self__.pause_writing()  # past the transport's high-water mark
        seen.append(flow.held_back())
        await flow.drained()
        seen.append(flow.held_back())
        drained.set()
        await receive()

    protocol, _ = _upgraded_sansio(app)
    await turns_until(lambda: bool(protocol.writable._waiters))  # the app waits on the paused transport
    assert seen == [False, True] and not drained.is_set()
    protocol.resume_writing()
    await asyncio.wait_for(drained.wait(), 60)
    assert seen == [False, True, False]
    assert transport_flow(None) is None and transport_flow(SimpleNamespace(send=None).send) is None
    protocol.connection_lost(None)


@pytest.mark.asyncio
async def test_uvicorns_writable_event_made_small_once_accepted_writes_still_wait_for_resume() -> None:
    slimmed: list[bool] = []
    sent = asyncio.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert (await receive())["type"] == "websocket.connect"
        assert not slim_writable(send)  # not accepted yet: left as it is
        await send({"type": "websocket.accept", "subprotocol": "docsync"})
        send.__self__.pause_writing()
        slimmed.append(slim_writable(send))  # paused: a task may be waiting on the Event; left
        send.__self__.resume_writing()
        slimmed.append(slim_writable(send))
        slimmed.append(slim_writable(send))  # once only
        send.__self__.pause_writing()  # the transport's buffer is full: sends wait
        await send({"type": "websocket.send", "text": "after resume"})
        write = frames_writer(send)
        assert write is not None
        await write(["and the writer's"])
        sent.set()
        await receive()

    protocol, client = _upgraded_sansio(app)
    while len(slimmed) < 3:
        await asyncio.sleep(0.01)
    assert slimmed == [False, True, False]
    assert type(protocol.writable) is WritableFlag
    client.receive_data(protocol.transport.data)  # type: ignore[attr-defined]
    assert client.events_received()[0].status_code == 101  # type: ignore[union-attr]
    protocol.transport.data = b""  # type: ignore[attr-defined]
    await turns_until(lambda: bool(protocol.writable._waiters))  # the send waits on the paused transport
    assert not sent.is_set() and protocol.transport.data == b""  # type: ignore[attr-defined]
    protocol.resume_writing()
    await asyncio.wait_for(sent.wait(), 60)
    client.receive_data(protocol.transport.data)  # type: ignore[attr-defined]
    assert [e.data for e in client.events_received()] == [b"after resume", b"and the writer's"]  # type: ignore[union-attr]
    # A send waiting when the connection is lost is woken, and raises, as with the Event.
    protocol.pause_writing()
    late = asyncio.ensure_future(protocol.send({"type": "websocket.send", "text": "late"}))
    await asyncio.sleep(0)
    protocol.connection_lost(None)
    with pytest.raises(ClientDisconnected):
        await late
    # Another server, or another uvicorn release, keeps its Event.
    assert not slim_writable(SimpleNamespace(send=None).send)


# -- asyncio: a pending task whose loop is gone ----------------------------------------


def destroyed_pending_reports(forget: bool) -> list[str]:
    """Leave a task pending in a closed loop, collect it, and return what asyncio reported."""
    reports: list[str] = []
    loop = asyncio.new_event_loop()
    loop.set_exception_handler(lambda _loop, context: reports.append(context["message"]))

    async def waits_forever() -> None:
        await asyncio.Event().wait()

    task = loop.create_task(waits_forever())
    loop.run_until_complete(asyncio.sleep(0))  # the task starts and suspends
    loop.close()
    if forget:
        forget_pending_task(task)
    task.get_coro().close()
    del task
    gc.collect()
    return reports


def test_a_forgotten_pending_task_is_collected_without_asyncios_report() -> None:
    assert tasks.HAS_LOG_DESTROY_PENDING
    assert destroyed_pending_reports(forget=False) == ["Task was destroyed but it is pending!"]
    assert destroyed_pending_reports(forget=True) == []


# -- threading ----------------------------------------------------------------------

#: A process whose non-daemon thread ends only when the exit hook has run: with the hook
#: run before threads are joined it exits; with it run after, it would wait forever.
EXIT_ORDER_SCRIPT = """
import sys, threading
from docsync.server.compat import threads
threads.HAS_THREADING_ATEXIT = {has_hook}
released = threading.Event()
def hook(word):
    print("hook", word, flush=True)
    released.set()
def waits():
    released.wait()
    print("thread ended", flush=True)
threading.Thread(target=waits, daemon={daemon}).start()
threads.at_interpreter_exit(hook, "ran")
print("main ends", flush=True)
"""


def run_exit_order(has_hook: bool, daemon: bool) -> list[str]:
    """Run ``EXIT_ORDER_SCRIPT`` and return its lines (a hang guard, not a time bound)."""
    script = EXIT_ORDER_SCRIPT.format(has_hook=has_hook, daemon=daemon)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    return done.stdout.splitlines()


def test_the_exit_hook_runs_before_threads_are_joined() -> None:
    assert threads.HAS_THREADING_ATEXIT
    assert run_exit_order(has_hook=True, daemon=False) == ["main ends", "hook ran", "thread ended"]


def test_without_the_threading_hook_atexit_still_runs_it_while_daemon_threads_live() -> None:
    lines = run_exit_order(has_hook=False, daemon=True)
    assert lines[:2] == ["main ends", "hook ran"]


def test_a_response_s_close_sends_request_finished_from_the_handler_it_names() -> None:
    from django.core import signals
    from django.http import HttpResponse

    from docsync.asgi import OneHopASGIHandler
    from docsync.server.compat.django import set_handler_class

    senders: list[Any] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        senders.append(sender)

    signals.request_finished.connect(receiver)
    try:
        response = HttpResponse("x")
        set_handler_class(response, OneHopASGIHandler)
        response.close()
    finally:
        signals.request_finished.disconnect(receiver)
    assert senders == [OneHopASGIHandler]


# -- pongs: bounded while the client does not read ----------------------------------------


def _pings(count: int, size: int = 125) -> bytes:
    """``count`` masked ping frames of ``size`` bytes, as a client sends them."""
    return b"".join(Frame(Opcode.PING, bytes([n % 256]) * size).serialize(mask=True) for n in range(count))


class _HeldDaphneTransport(StringTransport):
    """Twisted's in-memory transport whose written bytes count as unsent until ``drain``."""

    @property
    def dataBuffer(self) -> bytes:  # read by compat.daphne.buffered_bytes, as on a real socket's transport
        return self.value()

    def drain(self) -> None:
        self.clear()


def test_daphne_answers_pings_of_a_client_that_does_not_read_up_to_the_pong_backlog() -> None:
    assert versions.checked("autobahn", *pongs._AUTOBAHN_CHECKED)
    protocol, _ = open_daphne_websocket()
    transport = _HeldDaphneTransport()
    protocol.transport = transport
    assert pongs.bound_pongs(partial(lambda protocol, message: None, protocol))
    transport.write(b"x" * (pongs.PONG_BACKLOG_BYTES + 1))  # a large message the client has not read
    held = len(transport.value())
    for n in range(2000):  # what autobahn's frame parser calls for each ping: 250 KB of them
        protocol._onPing(bytes([n % 256]) * 125)
    pong_bytes = len(transport.value()) - held
    assert 0 < pong_bytes <= pongs.PONG_BACKLOG_BYTES, pong_bytes  # unbound: 2,000 pongs of 127 bytes
    # Once the client reads, pings are answered again, each one.
    transport.drain()
    for _ in range(3):
        protocol._onPing(b"p" * 125)
    client = ClientProtocol(parse_uri("ws://x/"), state=State.OPEN)
    client.receive_data(transport.value())
    assert [(e.opcode, len(e.data)) for e in client.events_received()] == [(Opcode.PONG, 125)] * 3  # type: ignore[union-attr]


class _HeldUvicornTransport(_HandshakeTransport):
    """uvicorn's transport whose written bytes count as unsent (``get_write_buffer_size``) until ``drain``."""

    def get_write_buffer_size(self) -> int:
        return len(self.data)

    def drain(self) -> None:
        self.data = b""


@pytest.mark.asyncio
async def test_uvicorn_answers_pings_of_a_client_that_does_not_read_up_to_the_pong_backlog() -> None:
    assert versions.checked("uvicorn", *pongs._UVICORN_CHECKED)
    bound: list[bool] = []
    accepted = asyncio.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept", "subprotocol": "docsync"})
        bound.append(pongs.bound_pongs(send))
        accepted.set()
        await receive()

    protocol = WebSocketsSansIOProtocol(Config(app=app, ws="websockets-sansio"), ServerState(), {})
    protocol.app = app
    transport = _HeldUvicornTransport()
    protocol.transport = transport  # type: ignore[assignment]
    protocol.connection_made(transport)  # type: ignore[arg-type]
    client = ClientProtocol(parse_uri("ws://127.0.0.1:8000/bench/ws"), subprotocols=["docsync"])
    client.send_request(client.connect())
    protocol.data_received(b"".join(client.data_to_send()))
    await asyncio.wait_for(accepted.wait(), 5)
    assert bound == [True]
    transport.write(b"x" * (pongs.PONG_BACKLOG_BYTES + 1))  # a large message the client has not read
    held = len(transport.data)
    for _ in range(2000):  # one ping per read: 250 KB of them
        protocol.data_received(_pings(1))
    pong_bytes = len(transport.data) - held
    assert 0 < pong_bytes <= pongs.PONG_BACKLOG_BYTES, pong_bytes
    transport.drain()
    protocol.data_received(_pings(3))
    reader = ClientProtocol(parse_uri("ws://x/"), state=State.OPEN)
    reader.receive_data(transport.data)
    assert [(e.opcode, len(e.data)) for e in reader.events_received()] == [(Opcode.PONG, 125)] * 3  # type: ignore[union-attr]
    # Another server's send, or a release outside the gates, is left as it is.
    assert not pongs.bound_pongs(SimpleNamespace(send=None).send)
    protocol.connection_lost(None)
    await asyncio.sleep(0)


# -- daphne and uvicorn: what they hold of a message still being read -------------------


class _Told:
    """A counter recording each count it is told (as ``IncompleteInput.server_holds`` is)."""

    def __init__(self) -> None:
        self.told: list[int] = []

    def server_holds(self, nbytes: int) -> None:
        self.told.append(nbytes)


def _frame_header(length: int, *, fin: bool = True, opcode: int = 0x2) -> bytes:
    """A client's frame header announcing ``length`` bytes, masked with zeros (the payload is sent as it is)."""
    first = (0x80 if fin else 0) | opcode
    if length < 126:
        return bytes([first, 0x80 | length]) + bytes(4)
    if length < 1 << 16:  # the shortest form, as RFC 6455 asks
        return bytes([first, 0x80 | 126]) + length.to_bytes(2, "big") + bytes(4)
    return bytes([first, 0x80 | 127]) + length.to_bytes(8, "big") + bytes(4)


def test_daphne_tells_what_autobahn_holds_of_a_message_after_each_read_and_drops_it_when_muted() -> None:
    protocol, transport = open_daphne_websocket()
    protocol.inside_message, protocol.current_frame = False, None  # as autobahn's handshake leaves them
    protocol.application_queue = queue = asyncio.Queue()
    counter = _Told()
    watch = partial_frames.watch_partial_input(_daphne_send(protocol), counter)
    assert watch is not None
    protocol.dataReceived(_client_frame(b"x" * 300) + _client_frame(b"y" * 10))  # whole messages: nothing held
    assert counter.told == [] and queue.qsize() == 2
    protocol.dataReceived(_frame_header(100_000)[:5])  # a header, in part
    protocol.dataReceived(_frame_header(100_000)[5:] + b"a" * 30_000)
    protocol.dataReceived(b"a" * 20_000)
    piece = partial_frames.PIECE_OVERHEAD  # what each piece held costs besides its bytes: one per read here
    assert counter.told == [5, 30_000 + piece, 50_000 + 2 * piece]
    protocol.dataReceived(b"a" * 50_000 + _client_frame(b"z"))  # its end, and a whole message after it
    assert counter.told[3:] == [0] and queue.qsize() == 4
    assert queue.get_nowait()["bytes"] == b"x" * 300
    # A message in fragments: the fragments read count, and a ping between them does not.
    protocol.dataReceived(_frame_header(10_000, fin=False) + b"b" * 10_000 + _frame_header(4, opcode=0x9) + b"ping")
    protocol.dataReceived(_frame_header(5_000, fin=True, opcode=0x0) + b"c" * 2_000)
    assert counter.told[4:] == [10_000 + piece, 12_000 + 2 * piece]
    # Muted: what is held is dropped (told 0) and nothing read after it is kept or told.
    watch.mute()
    assert counter.told[-1] == 0 and watch.held == 0
    assert protocol.data == b"" and protocol.frame_data == [] and protocol.message_data == []
    assert transport.producerState == "paused"  # its socket is not read: what comes would be discarded
    transport.resumeProducing()  # as daphne's channel does once its writes drain
    protocol.dataReceived(b"c" * 3_000 + _client_frame(b"after"))
    assert counter.told[-1] == 0 and queue.qsize() == 4 - 1  # one taken above, none added
    assert transport.producerState == "paused"  # paused again at the next read
    # Stopped: the read is autobahn's own again, and nothing is told.
    protocol, _ = open_daphne_websocket()
    protocol.inside_message, protocol.current_frame = False, None
    protocol.application_queue = queue = asyncio.Queue()
    counter = _Told()
    watch = partial_frames.watch_partial_input(_daphne_send(protocol), counter)
    assert watch is not None and "dataReceived" in vars(protocol)
    watch.stop()
    assert "dataReceived" not in vars(protocol)
    protocol.dataReceived(_frame_header(1_000) + b"d" * 500)
    assert counter.told == []
    # A connection whose read was replaced already (closing), or another server: nothing watched.
    protocol.dataReceived = print
    assert partial_frames.watch_partial_input(_daphne_send(protocol), counter) is None
    assert partial_frames.watch_partial_input(print, counter) is None


@pytest.mark.asyncio
async def test_uvicorn_tells_what_websockets_holds_of_a_message_after_each_read_and_drops_it_when_muted() -> None:
    watches: list[Any] = []
    received: list[Any] = []
    counter = _Told()
    ready = asyncio.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept", "subprotocol": "docsync"})
        watches.append(partial_frames.watch_partial_input(send, counter))
        ready.set()
        while True:
            message = await receive()
            received.append(message)
            if message["type"] == "websocket.disconnect":
                return

    protocol, client = _upgraded_sansio(app)
    await asyncio.wait_for(ready.wait(), 60)
    watch = watches[0]
    assert watch is not None and "handle_events" in vars(protocol)
    client.receive_data(protocol.transport.data)  # type: ignore[attr-defined]

    def sent(*frames: Frame) -> bytes:
        for frame in frames:
            client.send_frame(frame)
        return b"".join(client.data_to_send())

    whole = sent(Frame(Opcode.BINARY, b"x" * 300))
    protocol.data_received(whole)
    assert counter.told == []
    big = sent(Frame(Opcode.BINARY, b"a" * 100_000))
    protocol.data_received(big[:4])  # the header's first two bytes read, two more buffered
    protocol.data_received(big[4:30_010])
    protocol.data_received(big[30_010:50_010])
    assert counter.told == [2, 30_010 - 14, 50_010 - 14]  # past its 14-byte header, the payload is held
    protocol.data_received(big[50_010:])
    assert counter.told[-1] == 0
    # Fragments: each one read is uvicorn's until the last (their headers: 8 bytes each).
    fragments = sent(Frame(Opcode.BINARY, b"b" * 10_000, fin=False), Frame(Opcode.CONT, b"c" * 5_000))
    cut = 8 + 10_000 + 8 + 2_000
    protocol.data_received(fragments[:cut])
    assert counter.told[-1] == 12_000 + partial_frames.PIECE_OVERHEAD  # the fragment, and 2,000 buffered
    protocol.data_received(fragments[cut:])
    assert counter.told[-1] == 0
    # A message in 2,000 one-byte fragments: each costs its bytes and a piece's overhead.
    piece = partial_frames.PIECE_OVERHEAD
    ones = sent(*(Frame(Opcode.BINARY if n == 0 else Opcode.CONT, b"o", fin=False) for n in range(2_000)))
    protocol.data_received(ones[: len(ones) // 2])
    protocol.data_received(ones[len(ones) // 2 :])
    assert counter.told[-2:] == [1_000 * (1 + piece), 2_000 * (1 + piece)]
    protocol.data_received(sent(Frame(Opcode.CONT, b"o" * 3, fin=False)))
    assert counter.told[-1] == 2_003 + 2_001 * piece
    fragments = sent(Frame(Opcode.CONT, b"c" * 10_000, fin=False), Frame(Opcode.CONT, b"c" * 5_000))
    paused: list[bool] = []
    protocol.transport.pause_reading = lambda: paused.append(True)  # type: ignore[method-assign]
    watch.mute()
    assert counter.told[-1] == 0 and protocol.frames == [] and len(protocol.conn.reader.buffer) == 0
    assert paused == [True]  # its socket is not read any more
    protocol.data_received(fragments[cut:] + whole)
    await asyncio.sleep(0.05)
    assert [m.get("bytes", b"")[:1] for m in received] == [b"x", b"a", b"b"]  # nothing after the mute
    watch.stop()
    assert "handle_events" not in vars(protocol)
    protocol.connection_lost(None)
    await asyncio.sleep(0)


def test_daphne_tells_how_many_data_frames_each_read_held() -> None:
    protocol, _ = open_daphne_websocket()
    protocol.inside_message, protocol.current_frame = False, None
    protocol.application_queue = queue = asyncio.Queue()
    reads: list[int] = []
    watch = partial_frames.watch_partial_input(_daphne_send(protocol), _Told(), reads.append)
    assert watch is not None
    protocol.dataReceived(_client_frame(b"x" * 300) + _client_frame(b"y"))
    one_byte = _frame_header(1, fin=False) + b"o"
    protocol.dataReceived(one_byte + (_frame_header(1, fin=False, opcode=0x0) + b"o") * 99)  # fragments: each one
    protocol.dataReceived(_frame_header(1_000, opcode=0x0)[:3])  # no frame whole: nothing told
    assert reads == [2, 100] and queue.qsize() == 2
    # Control frames count too: autobahn answers each ping (and counts only data frames itself).
    protocol, transport = open_daphne_websocket()
    protocol.inside_message, protocol.current_frame = False, None
    protocol.application_queue = asyncio.Queue()
    reads.clear()
    watch = partial_frames.watch_partial_input(_daphne_send(protocol), _Told(), reads.append)
    assert watch is not None and "processControlFrame" in vars(protocol)
    protocol.dataReceived((_frame_header(0, opcode=0x9)) * 50 + _client_frame(b"x"))
    assert reads == [51] and transport.value().count(b"\x8a\x00") == 50  # 50 pongs
    watch.stop()
    assert "processControlFrame" not in vars(protocol) and "dataReceived" not in vars(protocol)


@pytest.mark.asyncio
async def test_uvicorn_tells_how_many_data_frames_each_read_held_before_handing_them_on() -> None:
    watches: list[Any] = []
    received: list[Any] = []
    ready = asyncio.Event()
    reads: list[int] = []
    refuse_past = [10**9]

    def on_frames(count: int) -> None:
        reads.append(count)
        if sum(reads) > refuse_past[0]:  # as the consumer does past its client's bucket
            watches[0].mute()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept", "subprotocol": "docsync"})
        watches.append(partial_frames.watch_partial_input(send, _Told(), on_frames))
        ready.set()
        while (message := await receive())["type"] != "websocket.disconnect":
            received.append(message)

    protocol, client = _upgraded_sansio(app)
    await asyncio.wait_for(ready.wait(), 60)
    client.receive_data(protocol.transport.data)  # type: ignore[attr-defined]
    for text in (b"one", b"two"):
        client.send_text(text)
    client.send_frame(Frame(Opcode.PING, b"p"))  # a control frame: it counts too
    protocol.data_received(b"".join(client.data_to_send()))
    await asyncio.sleep(0.05)
    assert reads == [3] and [m["text"] for m in received] == ["one", "two"]
    refuse_past[0] = 4  # the next read's frames pass it: refused before uvicorn hands them on
    for text in (b"three", b"four"):
        client.send_text(text)
    protocol.data_received(b"".join(client.data_to_send()))
    await asyncio.sleep(0.05)
    assert reads == [3, 2] and [m["text"] for m in received] == ["one", "two"]
    assert protocol.conn.events == []
    protocol.connection_lost(None)
    await asyncio.sleep(0)
