from __future__ import annotations

import contextlib
import gc
import re
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import orjson
import pytest

from docsync.exceptions import MessageTooBigError, ProtocolError, RateLimitedError
from docsync.protocol import message
from docsync.protocol.message import Frame, Message, new_message
from docsync.protocol.msgtypes import MESSAGE_TYPES
from docsync.protocol.receiver import (
    DEFAULT_MAX_BUFFERS,
    DEFAULT_MAX_FRAME_BYTES,
    DEFAULT_MAX_MESSAGE_BYTES,
    Expecting,
    Receiver,
)
from docsync.protocol.wire_json import count_containers, count_separators


def feed(receiver: Receiver, frames: list[Frame]) -> Message:
    """Feed a whole message; only its last frame may complete it."""
    *head, last = frames
    for frame in head:
        assert receiver.receive(frame) is None
    result = receiver.receive(last)
    assert result is not None
    assert receiver.expecting is Expecting.HEADER
    return result


def header(**fields: Any) -> str:
    return orjson.dumps({"msgid": "1", "msgtype": "PUSH-DOC", **fields}).decode()


def assert_same(received: Message, sent: Message) -> None:
    assert received.header == sent.header
    assert received.metadata == sent.metadata
    assert received.content == sent.content
    assert [(i, bytes(b)) for i, b in received.buffers] == [(i, bytes(b)) for i, b in sent.buffers]


def assert_still_works(receiver: Receiver) -> None:
    assert receiver.expecting is Expecting.HEADER
    sent = message.patch_doc([{"kind": "x"}], [("a", b"\x00\x01")], seq=1)
    assert_same(feed(receiver, sent.to_frames()), sent)


VERSION_INFO: message.VersionInfo = {"docsync": "0.1.0", "server": "0.1.0"}

BUILDERS: dict[str, Callable[[], Message]] = {
    "ACK": message.ack,
    "OK": lambda: message.ok("1"),
    "ERROR": lambda: message.error("1", "bad thing ✗", code="E1"),
    "SERVER-INFO-REQ": message.server_info_req,
    "SERVER-INFO-REPLY": lambda: message.server_info_reply("1", VERSION_INFO),
    "PULL-DOC-REQ": message.pull_doc_req,
    "PULL-DOC-REPLY": lambda: message.pull_doc_reply("1", {"roots": [{"id": "p1"}]}, [("b1", b"\x00" * 10)]),
    "PUSH-DOC": lambda: message.push_doc({"roots": []}, [("b1", b"x"), ("b2", bytearray(b"y"))]),
    "PATCH-DOC": lambda: message.patch_doc([{"kind": "ModelChanged"}], seq=3, base=2),
    "RESUME-REQ": lambda: message.resume_req(7, "client-1"),
    "RESUME-REPLY": lambda: new_message("RESUME-REPLY", {"mode": "full", "seq": 9, "doc": {}}, reqid="1"),
}


def test_builders_cover_every_message_type() -> None:
    assert set(BUILDERS) == MESSAGE_TYPES


@pytest.mark.parametrize("msgtype", sorted(BUILDERS))
def test_round_trip(msgtype: str) -> None:
    sent = BUILDERS[msgtype]()
    received = feed(Receiver(), sent.to_frames())
    assert received.msgtype == msgtype
    assert_same(received, sent)


def test_round_trip_keeps_metadata_and_extra_header_fields() -> None:
    sent = new_message("ACK", metadata={"trace": ["é", 1]}, header_extra={"x-hop": 2})
    received = feed(Receiver(), sent.to_frames())
    assert received.header["x-hop"] == 2
    assert received.metadata == {"trace": ["é", 1]}


def test_numpy_buffers_arrive_byte_identical() -> None:
    a = np.linspace(0, 1, 1000)
    b = np.arange(12, dtype=np.int32).reshape(3, 4)
    sent = message.push_doc({}, [("a", memoryview(a)), ("b", memoryview(b))])
    received = feed(Receiver(), sent.to_frames())
    assert [i for i, _ in received.buffers] == ["a", "b"]
    np.testing.assert_array_equal(np.frombuffer(received.buffers[0][1], np.float64), a)
    np.testing.assert_array_equal(np.frombuffer(received.buffers[1][1], np.int32), b.ravel())


def test_payloads_are_kept_as_received() -> None:
    payload = b"\x00" * 100
    receiver = Receiver()
    for frame in [header(num_buffers=1), "{}", "{}", '{"id":"p"}']:
        assert receiver.receive(frame) is None
    received = receiver.receive(payload)
    assert received is not None
    assert received.buffers[0][1] is payload


def test_expecting_follows_the_frames() -> None:
    receiver = Receiver()
    seen = []
    for frame in message.push_doc({}, [("a", b"1"), ("b", b"2")]).to_frames():
        seen.append(receiver.expecting)
        receiver.receive(frame)
    assert seen == [
        Expecting.HEADER,
        Expecting.METADATA,
        Expecting.CONTENT,
        Expecting.BUFFER_HEADER,
        Expecting.BUFFER_PAYLOAD,
        Expecting.BUFFER_HEADER,
        Expecting.BUFFER_PAYLOAD,
    ]
    assert receiver.expecting is Expecting.HEADER


def test_explicit_zero_buffers() -> None:
    received = feed(Receiver(), [header(num_buffers=0), "{}", '{"doc":{}}'])
    assert received.buffers == []
    assert received.header["num_buffers"] == 0


def test_messages_in_a_row_do_not_share_state() -> None:
    receiver = Receiver()
    first = feed(receiver, message.push_doc({"n": 1}, [("a", b"1")]).to_frames())
    second = feed(receiver, message.push_doc({"n": 2}, [("a", b"2")]).to_frames())
    assert first.buffers == [("a", b"1")]
    assert second.buffers == [("a", b"2")]
    assert first.content == {"doc": {"n": 1}}


def test_a_receiver_between_messages_holds_no_containers_of_its_own() -> None:
    # One receiver per connection, idle between messages nearly all the time: it held five
    # fresh empty containers for the next message (464 bytes); now only itself.
    frames = message.pull_doc_req().to_frames()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        receivers = [Receiver() for _ in range(200)]
        received = [feed(receiver, frames) for receiver in receivers]
        del received
        held = (tracemalloc.get_traced_memory()[0] - before) / len(receivers)
    finally:
        tracemalloc.stop()
    assert held < 300, f"{held:.0f} bytes per idle receiver"  # 760 before, 203 after (CPython 3.11)
    # Messages with buffers still get their own lists and ids (below: in a row).
    receiver = receivers[0]
    first = feed(receiver, message.push_doc({}, [("a", b"1"), ("b", b"2")]).to_frames())
    second = feed(receiver, message.push_doc({}, [("a", b"3")]).to_frames())
    assert first.buffers == [("a", b"1"), ("b", b"2")] and second.buffers == [("a", b"3")]
    duplicate = [header(num_buffers=2), "{}", '{"doc":{}}', '{"id":"a"}', b"1", '{"id":"a"}']
    with pytest.raises(ProtocolError, match="duplicate buffer id"):
        feed(receiver, duplicate)


def test_reset_drops_a_partial_message() -> None:
    receiver = Receiver()
    for frame in message.push_doc({}, [("a", b"1")]).to_frames()[:4]:
        receiver.receive(frame)
    assert receiver.expecting is Expecting.BUFFER_PAYLOAD
    receiver.reset()
    assert_still_works(receiver)


def test_refuses_non_frames() -> None:
    receiver = Receiver()
    receiver.receive(header())
    with pytest.raises(TypeError, match=r"^frame must be str or bytes-like, got int$"):
        receiver.receive(1)  # type: ignore[arg-type]
    assert_still_works(receiver)


BUFFER_PREFIX = [header(num_buffers=2), "{}", "{}"]

# (prefix frames, offending frame, exact error message)
FAULTS: dict[str, tuple[list[Frame], Frame, str]] = {
    "binary header": ([], b"{}", "expected text header frame, got binary frame"),
    "binary metadata": ([header()], b"{}", "expected text metadata frame, got binary frame"),
    "binary content": ([header(), "{}"], b"{}", "expected text content frame, got binary frame"),
    "binary buffer header": (
        BUFFER_PREFIX,
        bytearray(b'{"id":"a"}'),
        "expected text buffer header frame, got binary frame",
    ),
    "text payload": (
        [*BUFFER_PREFIX, '{"id":"a"}'],
        "abc",
        "expected binary buffer payload frame, got text frame",
    ),
    "bad header json": ([], "{", "invalid JSON in header frame"),
    "bad metadata json": ([header()], "nope", "invalid JSON in metadata frame"),
    "bad content json": ([header(), "{}"], "[1,]", "invalid JSON in content frame"),
    "bad buffer header json": (BUFFER_PREFIX, "", "invalid JSON in buffer header frame"),
    "surrogate in header": ([], '{"msgid":"\ud800"}', "invalid JSON in header frame"),
    "deep content": ([header(), "{}"], "[" * 200 + "]" * 200, "invalid JSON in content frame"),
    "header not object": ([], "[]", "header must be a JSON object"),
    "no msgtype": ([], '{"msgid":"1"}', "header without msgtype"),
    "msgtype not str": ([], '{"msgid":"1","msgtype":5}', "msgtype must be a string, got 5"),
    "unknown msgtype": ([], '{"msgid":"1","msgtype":"FOO"}', "unknown message type 'FOO'"),
    "long msgtype": (
        [],
        '{"msgid":"1","msgtype":"' + "A" * 1000 + '"}',
        "unknown message type 'AAAAAAAAAAAAAAAAA...AAAAAAAAAAAAAAAAAA'",
    ),
    "no msgid": ([], '{"msgtype":"ACK"}', "header without msgid"),
    "msgid not str": ([], '{"msgtype":"ACK","msgid":1}', "msgid must be a string, got 1"),
    "reqid not str": ([], header(reqid=None), "reqid must be a string, got None"),
    "msgid too long": ([], '{"msgtype":"ACK","msgid":"' + "m" * 129 + '"}', "msgid too long: 129 > 128 characters"),
    "4 MiB msgid": ([], header(msgid="m" * (4 << 20)), "msgid too long: 4194304 > 128 characters"),
    "reqid too long": ([], header(reqid="r" * 200), "reqid too long: 200 > 128 characters"),
    "negative num_buffers": (
        [],
        header(num_buffers=-1),
        "num_buffers must be a non-negative integer, got -1",
    ),
    "bool num_buffers": (
        [],
        header(num_buffers=True),
        "num_buffers must be a non-negative integer, got True",
    ),
    "float num_buffers": (
        [],
        header(num_buffers=1.0),
        "num_buffers must be a non-negative integer, got 1.0",
    ),
    "str num_buffers": (
        [],
        header(num_buffers="2"),
        "num_buffers must be a non-negative integer, got '2'",
    ),
    "too many buffers": ([], header(num_buffers=70), "too many buffers: 70 > 64"),
    "metadata not object": ([header()], "[]", "metadata must be a JSON object"),
    "metadata null": ([header()], "null", "metadata must be a JSON object"),
    "content not object": ([header(), "{}"], '"doc"', "content must be a JSON object"),
    "buffer id not str": (
        BUFFER_PREFIX,
        '{"id":1}',
        "buffer header must be exactly {\"id\": <string>}, got {'id': 1}",
    ),
    "buffer header extra key": (
        BUFFER_PREFIX,
        '{"id":"a","x":0}',
        "buffer header must be exactly {\"id\": <string>}, got {'id': 'a', 'x': 0}",
    ),
    "buffer header list": (
        BUFFER_PREFIX,
        '["a"]',
        "buffer header must be exactly {\"id\": <string>}, got ['a']",
    ),
    "duplicate buffer id": (
        [*BUFFER_PREFIX, '{"id":"a"}', b"1"],
        '{"id":"a"}',
        "duplicate buffer id 'a'",
    ),
}


@pytest.mark.parametrize("case", FAULTS)
def test_fault(case: str) -> None:
    prefix, bad, expected = FAULTS[case]
    receiver = Receiver()
    for frame in prefix:
        assert receiver.receive(frame) is None
    with pytest.raises(ProtocolError) as excinfo:
        receiver.receive(bad)
    assert str(excinfo.value) == expected
    assert_still_works(receiver)


def test_fault_does_not_leak_into_the_next_message() -> None:
    receiver = Receiver()
    for frame in [header(num_buffers=2), '{"m":1}', '{"doc":1}', '{"id":"a"}', b"old"]:
        receiver.receive(frame)
    with pytest.raises(ProtocolError):
        receiver.receive("not a payload")
    sent = message.push_doc({"fresh": True}, [("a", b"new")])
    received = feed(receiver, sent.to_frames())
    assert received.buffers == [("a", b"new")]
    assert received.metadata == {}


class TestLimits:
    def test_defaults(self) -> None:
        receiver = Receiver()
        assert receiver.max_frame_bytes == DEFAULT_MAX_FRAME_BYTES == 16 * 1024 * 1024
        assert receiver.max_message_bytes == DEFAULT_MAX_MESSAGE_BYTES == 64 * 1024 * 1024
        assert receiver.max_buffers == DEFAULT_MAX_BUFFERS == 64

    @pytest.mark.parametrize("name", ["max_frame_bytes", "max_message_bytes", "max_buffers", "max_id_length"])
    @pytest.mark.parametrize("value", [0, -1, None, True, 1.5])
    def test_limits_must_be_positive_integers(self, name: str, value: Any) -> None:
        with pytest.raises(ValueError, match=f"^{name} must be a positive integer, got "):
            Receiver(**{name: value})

    def test_frame_limit_is_inclusive(self) -> None:
        receiver = Receiver(max_frame_bytes=100)
        for frame in [header(num_buffers=1), "{}", "{}", '{"id":"a"}']:
            receiver.receive(frame)
        assert receiver.receive(b"x" * 100) is not None

    def test_frame_too_large(self) -> None:
        receiver = Receiver(max_frame_bytes=100)
        for frame in [header(num_buffers=1), "{}", "{}", '{"id":"a"}']:
            receiver.receive(frame)
        with pytest.raises(ProtocolError) as excinfo:
            receiver.receive(memoryview(np.zeros(13, dtype=np.float64)))
        assert str(excinfo.value) == "frame too large: 104 > 100 bytes"
        assert_still_works(receiver)

    def test_text_frames_count_utf8_bytes(self) -> None:
        receiver = Receiver(max_frame_bytes=100)
        with pytest.raises(ProtocolError) as excinfo:
            receiver.receive("✓" * 34)
        assert str(excinfo.value) == "frame too large: 102 > 100 bytes"
        assert_still_works(receiver)

    def test_message_too_large(self) -> None:
        receiver = Receiver(max_message_bytes=200)
        frames = [header(num_buffers=2), "{}", "{}", '{"id":"a"}', b"x" * 80, '{"id":"b"}']
        used = sum(len(frame) for frame in frames)
        for frame in frames:
            assert receiver.receive(frame) is None
        with pytest.raises(ProtocolError) as excinfo:
            receiver.receive(b"x" * (201 - used))
        assert str(excinfo.value) == "message too large: 201 > 200 bytes"
        assert_still_works(receiver)

    def test_message_limit_matches_wire_size(self) -> None:
        sent = message.push_doc({"t": "ünïcode"}, [("a", memoryview(np.ones(50)))])
        size = sent.wire_size()
        assert_same(feed(Receiver(max_message_bytes=size), sent.to_frames()), sent)
        receiver = Receiver(max_message_bytes=size - 1)
        with pytest.raises(ProtocolError, match=f"^message too large: {size} > {size - 1} bytes$"):
            for frame in sent.to_frames():
                receiver.receive(frame)
        assert_still_works(receiver)

    def test_message_size_restarts_with_each_message(self) -> None:
        sent = message.push_doc({}, [("a", b"x" * 100)])
        receiver = Receiver(max_message_bytes=sent.wire_size())
        for _ in range(3):
            feed(receiver, sent.to_frames())

    def test_buffer_limit_is_inclusive(self) -> None:
        receiver = Receiver(max_buffers=2)
        sent = message.push_doc({}, [("a", b"1"), ("b", b"2")])
        assert_same(feed(receiver, sent.to_frames()), sent)
        with pytest.raises(ProtocolError, match=r"^too many buffers: 3 > 2$"):
            receiver.receive(header(num_buffers=3))
        assert_still_works(receiver)

    def test_size_fault_names_what_a_receiver_would_refuse(self) -> None:
        receiver = Receiver(max_frame_bytes=10, max_message_bytes=40, max_buffers=1)
        small = ["{}", "{}", "{}", '{"id":"a"}', b"x" * 10]
        assert receiver.size_fault(small) is None
        assert receiver.size_fault(["{}", "{}", "{}", '{"id":"a"}', b"x" * 11]) == "frame too large: 11 > 10 bytes"
        assert receiver.size_fault([*small, '{"id":"b"}', b"y"]) == "too many buffers: 2 > 1"
        assert receiver.size_fault(["x" * 10] * 5) == "message too large: 50 > 40 bytes"
        # What it names is what receiving the frames raises.
        with pytest.raises(ProtocolError, match=r"^frame too large: 11 > 10 bytes$"):
            receiver.receive(b"x" * 11)

    def test_size_fault_counts_structure_only_when_asked_as_receiving_would(self) -> None:
        receiver = Receiver(max_containers=10, max_values=20)
        header = orjson.dumps({"msgid": "1", "msgtype": "PATCH-DOC"}).decode()
        nested = orjson.dumps({"x": [[1]] * 11}).decode()  # 13 containers, 11 values
        listed = orjson.dumps({"x": list(range(21))}).decode()  # 2 containers, 21 values
        quoted = orjson.dumps({"x": "[,:" * 30}).decode()  # brackets, commas and colons in a string
        for content, fault in [
            (nested, "too many arrays and objects in content frame: 13 > 10"),
            (listed, "too many values in content frame: 21 > 20"),
            (quoted, None),
        ]:
            frames = [header, "{}", content]
            assert receiver.size_fault(frames) is None  # the server's own messages: not counted
            assert receiver.size_fault(frames, structure=True) == fault
            if fault is None:
                assert feed(receiver, frames).content == orjson.loads(content)
            else:
                with pytest.raises(MessageTooBigError, match=rf"^{re.escape(fault)}$"):
                    feed(receiver, frames)
        # A buffer header is named as such; its binary payload is not counted.
        buffered = [header, "{}", "{}", '{"id":"' + "[" * 11 + '"}', b"[" * 30]
        assert receiver.size_fault(buffered, structure=True) is None

    def test_id_length_limit_is_inclusive(self) -> None:
        receiver = Receiver(max_id_length=8)
        frames = [orjson.dumps({"msgid": "m" * 8, "msgtype": "OK", "reqid": "r" * 8}).decode(), "{}", "{}"]
        assert feed(receiver, frames).header == {"msgid": "m" * 8, "msgtype": "OK", "reqid": "r" * 8}
        with pytest.raises(ProtocolError, match=r"^msgid too long: 9 > 8 characters$"):
            receiver.receive(orjson.dumps({"msgid": "m" * 9, "msgtype": "OK"}).decode())
        assert_still_works(receiver)


class TestContainerLimit:
    """``max_containers``: the JSON arrays and objects one text frame may hold."""

    def test_unlimited_by_default(self) -> None:
        receiver = Receiver()
        assert receiver.max_containers is None
        content = orjson.dumps({"x": [[1]] * 200_000}).decode()
        received = feed(receiver, [header(msgtype="PATCH-DOC"), "{}", content])
        assert len(received.content["x"]) == 200_000

    @pytest.mark.parametrize("value", [0, -1, 1.5, True, "10"])
    def test_refuses_a_limit_that_is_not_a_positive_integer(self, value: Any) -> None:
        with pytest.raises(ValueError, match="max_containers must be a positive integer or None"):
            Receiver(max_containers=value)

    def test_a_content_frame_over_it_is_refused_before_parsing(self) -> None:
        receiver = Receiver(max_containers=100)
        content = orjson.dumps({"events": [[1.5]] * 200}).decode()
        for frame in [header(msgtype="PATCH-DOC"), "{}"]:
            receiver.receive(frame)
        with pytest.raises(MessageTooBigError) as excinfo:
            receiver.receive(content)
        assert str(excinfo.value) == "too many arrays and objects in content frame: 202 > 100"
        assert excinfo.value.close_code == 1009
        assert_still_works(receiver)

    def test_every_text_frame_is_counted(self) -> None:
        receiver = Receiver(max_containers=10)
        with pytest.raises(MessageTooBigError, match=r"^too many arrays and objects in header frame: 12 > 10$"):
            receiver.receive(header(extra=[[]] * 10))
        receiver.receive(header())
        with pytest.raises(MessageTooBigError, match=r"^too many arrays and objects in metadata frame: 12 > 10$"):
            receiver.receive(orjson.dumps({"m": [{}] * 10}).decode())
        assert_still_works(receiver)

    def test_exactly_the_limit_is_taken(self) -> None:
        receiver = Receiver(max_containers=102)
        content = orjson.dumps({"events": [[1.5]] * 100}).decode()  # 102 containers
        received = feed(receiver, [header(msgtype="PATCH-DOC"), "{}", content])
        assert received.content == {"events": [[1.5]] * 100}

    def test_brackets_inside_strings_do_not_count(self) -> None:
        # A text full of brackets (a FileInput's base64 has none; a pasted JSON file has many).
        receiver = Receiver(max_containers=10)
        content = orjson.dumps({"value": "[{" * 1000, "escaped": ['\\"[[[[', "\\\\", '"{{{{"']}).decode()
        received = feed(receiver, [header(msgtype="PATCH-DOC"), "{}", content])
        assert received.content["value"] == "[{" * 1000

    def test_a_long_frame_with_few_containers_is_taken(self) -> None:
        receiver = Receiver(max_containers=10)
        content = orjson.dumps({"indices": list(range(100_000))}).decode()
        received = feed(receiver, [header(msgtype="PATCH-DOC"), "{}", content])
        assert received.content["indices"] == list(range(100_000))

    def test_the_limit_does_not_apply_to_binary_payloads(self) -> None:
        receiver = Receiver(max_containers=1)
        frames: list[Frame] = [header(num_buffers=1), "{}", "{}", '{"id":"a"}', b"[[[[{{{{" * 100]
        assert feed(receiver, frames).buffers == [("a", b"[[[[{{{{" * 100)]

    @pytest.mark.parametrize("enabled", [True, False])
    @pytest.mark.parametrize("content", ['{"x":' + "[1]," * 30_000 + "1}", '{"x":' + "[1]," * 30_000 + "}"])
    def test_a_large_frame_leaves_the_garbage_collector_as_it_was(self, enabled: bool, content: str) -> None:
        # A frame over 64 KiB is parsed with the collector paused, valid or not.
        receiver = Receiver()
        was = gc.isenabled()
        (gc.enable if enabled else gc.disable)()
        try:
            receiver.receive(header(msgtype="PATCH-DOC"))
            receiver.receive("{}")
            with contextlib.suppress(ProtocolError):
                receiver.receive(content)
            assert gc.isenabled() is enabled
        finally:
            (gc.enable if was else gc.disable)()


class TestValueLimit:
    """``max_values``: the JSON values one text frame may hold, counted as its commas and colons."""

    def test_unlimited_by_default(self) -> None:
        receiver = Receiver()
        assert receiver.max_values is None
        content = orjson.dumps({"x": [1] * 300_000}).decode()
        assert len(feed(receiver, [header(msgtype="PATCH-DOC"), "{}", content]).content["x"]) == 300_000

    @pytest.mark.parametrize("value", [0, -1, 1.5, True, "10"])
    def test_refuses_a_limit_that_is_not_a_positive_integer(self, value: Any) -> None:
        with pytest.raises(ValueError, match="max_values must be a positive integer or None"):
            Receiver(max_values=value)

    def test_a_content_frame_over_it_is_refused_before_parsing(self) -> None:
        receiver = Receiver(max_values=100)
        content = orjson.dumps({"events": [1] * 200, "base": 0}).decode()  # 199 + 1 commas, 2 colons
        for frame in [header(msgtype="PATCH-DOC"), "{}"]:
            receiver.receive(frame)
        with pytest.raises(MessageTooBigError) as excinfo:
            receiver.receive(content)
        assert str(excinfo.value) == "too many values in content frame: 202 > 100"
        assert excinfo.value.close_code == 1009
        assert_still_works(receiver)

    def test_every_text_frame_is_counted(self) -> None:
        receiver = Receiver(max_values=10)
        with pytest.raises(MessageTooBigError, match=r"^too many values in header frame: 16 > 10$"):
            receiver.receive(header(extra=[1] * 12))
        receiver.receive(header())
        with pytest.raises(MessageTooBigError, match=r"^too many values in metadata frame: 12 > 10$"):
            receiver.receive(orjson.dumps({"m": [0] * 12}).decode())
        assert_still_works(receiver)

    def test_exactly_the_limit_is_taken(self) -> None:
        receiver = Receiver(max_values=102)
        content = orjson.dumps({"indices": list(range(100)), "base": 0}).decode()  # 99 + 1 commas, 2 colons
        assert feed(receiver, [header(msgtype="PATCH-DOC"), "{}", content]).content["indices"] == list(range(100))

    def test_commas_and_colons_inside_strings_do_not_count(self) -> None:
        receiver = Receiver(max_values=10)
        content = orjson.dumps({"value": "a,b:" * 1000, "escaped": ['\\",,::', "\\\\", '",:,"']}).decode()
        received = feed(receiver, [header(msgtype="PATCH-DOC"), "{}", content])
        assert received.content["value"] == "a,b:" * 1000

    def test_the_limit_does_not_apply_to_binary_payloads(self) -> None:
        receiver = Receiver(max_values=5)  # the header's commas and colons
        frames: list[Frame] = [header(num_buffers=1), "{}", "{}", '{"id":"a"}', b"1,2,3," * 100]
        assert feed(receiver, frames).buffers == [("a", b"1,2,3," * 100)]


class TestCountSeparators:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("1", 0),
            ('",,::"', 0),
            ("[1,2,3]", 2),
            ('{"a":[1,{}],"b":",:"}', 4),
            ('["\\\\", [",\\","]]', 1),
            ('["\\\\\\",", 1]', 1),
        ],
    )
    def test_counts_commas_and_colons_outside_strings(self, text: str, expected: int) -> None:
        assert count_separators(text) == expected
        assert count_separators(text.encode()) == expected


class TestCountContainers:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("1", 0),
            ('"[{"', 0),
            ("[]", 1),
            ('{"a":[1,{}],"b":"]]["}', 3),
            ('["\\\\", ["\\"["]]', 2),
            ('["\\\\\\"[", []]', 2),
            ("[" * 50 + "]" * 50, 50),
        ],
    )
    def test_counts_arrays_and_objects_outside_strings(self, text: str, expected: int) -> None:
        assert count_containers(text) == expected
        assert count_containers(text.encode()) == expected

    def test_agrees_with_the_parsed_value(self) -> None:
        value = {"a": [{"b": ["[", "{", "\\", '"']}, [], {}], "c": [[1], [2, [3]]], "d": 'x\\"[y'}
        text = orjson.dumps(value).decode()

        def containers(v: Any) -> int:
            if isinstance(v, list):
                return 1 + sum(containers(i) for i in v)
            if isinstance(v, dict):
                return 1 + sum(containers(i) for i in v.values())
            return 0

        assert count_containers(text) == containers(value) == 10


def test_each_text_frame_within_the_limits_is_charged_before_it_is_parsed() -> None:
    # The server takes a frame's values from its client's bucket there (MAX_VALUES_PER_SECOND_PER_CLIENT).
    charged: list[str] = []
    receiver = Receiver(max_values=10)
    receiver.charge_values = charged.append
    header = '{"msgtype":"PATCH-DOC","msgid":"1","num_buffers":1}'
    assert receiver.receive(header) is None
    assert receiver.receive("{}") is None  # an empty metadata frame: no values, not parsed
    content = '{"events":[1,2,3,4,5,6,7,8]}' + " " * 100  # longer than the limit: checked, then charged
    assert receiver.receive(content) is None
    assert receiver.receive('{"id":"b"}') is None
    assert receiver.receive(b"\x00") is not None  # a buffer's payload: not charged
    assert charged == [header, content, '{"id":"b"}']


def test_a_frame_past_the_value_limit_is_refused_uncharged_and_a_refused_charge_drops_the_message() -> None:
    charged: list[str] = []
    receiver = Receiver(max_values=10)
    receiver.charge_values = charged.append
    receiver.receive('{"msgtype":"PATCH-DOC","msgid":"1"}')
    receiver.receive("{}")
    with pytest.raises(MessageTooBigError):
        receiver.receive('{"events":[' + ",".join(["0"] * 20) + "]}")
    assert charged == ['{"msgtype":"PATCH-DOC","msgid":"1"}']  # the refused frame took nothing

    def refuse(frame: str) -> None:
        raise RateLimitedError("past the bucket")

    receiver.charge_values = refuse
    with pytest.raises(RateLimitedError):
        receiver.receive('{"msgtype":"PATCH-DOC","msgid":"2"}')
    assert receiver.expecting is Expecting.HEADER
