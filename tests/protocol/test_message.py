from __future__ import annotations

import ast
import importlib
import math
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest

import docsync.protocol
from docsync.protocol import message, msgtypes, receiver, wire_json
from docsync.protocol.message import Message, frame_nbytes, new_message
from docsync.protocol.msgtypes import MESSAGE_TYPES

PROTOCOL_DIR = Path(docsync.protocol.__file__).parent


def parsed(frames: list[Any]) -> list[Any]:
    return [orjson.loads(frame) if isinstance(frame, str) else frame for frame in frames]


class TestMsgtypes:
    def test_names_match_the_wire(self) -> None:
        assert msgtypes.SERVER_INFO_REQ == "SERVER-INFO-REQ"
        assert msgtypes.PATCH_DOC == "PATCH-DOC"
        assert msgtypes.RESUME_REPLY == "RESUME-REPLY"

    def test_message_types_holds_every_constant(self) -> None:
        names = set(msgtypes.__all__) - {"MESSAGE_TYPES"}
        assert {getattr(msgtypes, name) for name in names} == MESSAGE_TYPES
        assert len(MESSAGE_TYPES) == 11


class TestNewMessage:
    def test_builds_header(self) -> None:
        msg = new_message(msgtypes.OK, reqid="7")
        assert msg.header == {"msgid": msg.msgid, "msgtype": "OK", "reqid": "7"}
        assert msg.msgtype == "OK"
        assert msg.reqid == "7"
        assert msg.metadata == {}
        assert msg.content == {}
        assert msg.buffers == []

    def test_reqid_is_none_when_absent(self) -> None:
        assert new_message(msgtypes.ACK).reqid is None
        assert "reqid" not in new_message(msgtypes.ACK).header

    def test_msgids_are_unique_strings(self) -> None:
        ids = [new_message(msgtypes.ACK).msgid for _ in range(1000)]
        assert all(isinstance(msgid, str) for msgid in ids)
        assert len(set(ids)) == 1000

    def test_refuses_unknown_message_type(self) -> None:
        with pytest.raises(ValueError, match=r"^unknown message type 'FOO'$"):
            new_message("FOO")

    def test_header_extra_is_kept(self) -> None:
        msg = new_message(msgtypes.ACK, header_extra={"session": "s1"})
        assert msg.header["session"] == "s1"

    @pytest.mark.parametrize("field", ["msgid", "msgtype", "reqid", "num_buffers"])
    def test_header_extra_cannot_override_framing(self, field: str) -> None:
        with pytest.raises(ValueError, match=f"^header_extra may not set '{field}'$"):
            new_message(msgtypes.ACK, header_extra={field: "x"})

    def test_copies_content_and_metadata(self) -> None:
        content = {"a": 1}
        msg = new_message(msgtypes.PUSH_DOC, content, metadata={"m": 1})
        content["a"] = 2
        assert msg.content == {"a": 1}
        assert msg.metadata == {"m": 1}

    def test_refuses_duplicate_buffer_ids(self) -> None:
        with pytest.raises(ValueError, match=r"^duplicate buffer id 'a'$"):
            new_message(msgtypes.PUSH_DOC, buffers=[("a", b"1"), ("a", b"2")])

    def test_refuses_non_string_buffer_ids(self) -> None:
        with pytest.raises(TypeError, match=r"^buffer id must be a string, got 1$"):
            new_message(msgtypes.PUSH_DOC, buffers=[(1, b"1")])  # type: ignore[list-item]


class TestHelpers:
    def test_ack(self) -> None:
        msg = message.ack()
        assert (msg.msgtype, msg.reqid, msg.content) == ("ACK", None, {})

    def test_ok(self) -> None:
        msg = message.ok("3")
        assert (msg.msgtype, msg.reqid, msg.content) == ("OK", "3", {})

    @pytest.mark.parametrize("reqid", ["3", "a-b_c.9", 'q"uote\\back', "tab\tnl\n\x01", "/", "é", "日本"])
    @pytest.mark.parametrize(("seq", "applied_seq"), [(0, 0), (41, 42), (2**52, 2**52 + 1)])
    def test_applied_ok_frames_are_those_of_the_general_encoding(self, reqid: str, seq: int, applied_seq: int) -> None:
        msg = message.applied_ok(reqid, seq, applied_seq)
        content = {"seq": seq, "rejected": 0, "applied_seq": applied_seq}
        general = Message({"msgid": msg.msgid, "msgtype": "OK", "reqid": reqid}, {}, content)
        assert (msg.msgtype, msg.reqid, msg.header, msg.metadata, msg.content) == (
            "OK",
            reqid,
            general.header,
            {},
            content,
        )
        assert msg.to_frames() == general.to_frames()
        assert msg.sized_frames() == general.sized_frames()
        assert message.applied_ok(reqid, seq, applied_seq).msgid != msg.msgid

    @pytest.mark.parametrize(
        "buffers",
        [
            [],
            [("1.0.0", memoryview(np.arange(3.0)))],
            [("a", b"xy"), ('q"é\\', bytearray(b"z")), ("c", memoryview(b""))],
        ],
    )
    @pytest.mark.parametrize("content", [{"events": [], "seq": 1}, {"text": "é 日本", "n": [1, 2.5]}])
    @pytest.mark.parametrize("as_bytes", [False, True])
    def test_with_content_frame_gives_the_general_frames(
        self, buffers: list[Any], content: dict[str, Any], as_bytes: bool
    ) -> None:
        encoded = orjson.dumps(content)
        msg = message.with_content_frame("PATCH-DOC", content, encoded if as_bytes else encoded.decode(), buffers)
        general = Message({"msgid": msg.msgid, "msgtype": "PATCH-DOC"}, {}, content, list(buffers))
        frames, sizes = general.sized_frames()
        assert (msg.header, msg.metadata, msg.content, msg.buffers) == (general.header, {}, content, buffers)
        assert msg.to_frames() == frames and msg.sized_frames() == (frames, sizes)

    def test_with_content_frame_refuses_unknown_message_types(self) -> None:
        with pytest.raises(ValueError, match="unknown message type"):
            message.with_content_frame("NOPE", {}, "{}", [])

    def test_error(self) -> None:
        msg = message.error("3", "boom")
        assert (msg.msgtype, msg.reqid, msg.content) == ("ERROR", "3", {"text": "boom"})

    def test_error_with_code(self) -> None:
        msg = message.error(None, "no", code="not-writable")
        assert msg.reqid is None
        assert msg.content == {"text": "no", "code": "not-writable"}

    def test_server_info(self) -> None:
        assert message.server_info_req().msgtype == "SERVER-INFO-REQ"
        reply = message.server_info_reply("1", {"docsync": "0.1.0", "server": "0.1.0"})
        assert reply.msgtype == "SERVER-INFO-REPLY"
        assert reply.reqid == "1"
        assert reply.content == {"version_info": {"docsync": "0.1.0", "server": "0.1.0"}}

    def test_pull_doc(self) -> None:
        assert message.pull_doc_req().msgtype == "PULL-DOC-REQ"
        reply = message.pull_doc_reply("2", {"roots": []}, [("b1", b"xy")])
        assert reply.msgtype == "PULL-DOC-REPLY"
        assert reply.reqid == "2"
        assert reply.content == {"doc": {"roots": []}}
        assert reply.buffers == [("b1", b"xy")]

    def test_push_doc(self) -> None:
        msg = message.push_doc({"roots": []})
        assert (msg.msgtype, msg.content, msg.buffers) == ("PUSH-DOC", {"doc": {"roots": []}}, [])

    def test_patch_doc(self) -> None:
        msg = message.patch_doc([{"kind": "TitleChanged", "title": "t"}])
        assert msg.msgtype == "PATCH-DOC"
        assert msg.content == {"events": [{"kind": "TitleChanged", "title": "t"}]}

    def test_patch_doc_positions(self) -> None:
        msg = message.patch_doc([], [("b", b"")], seq=5, base=4)
        assert msg.content == {"events": [], "seq": 5, "base": 4}
        assert msg.buffers == [("b", b"")]

    def test_resume_req(self) -> None:
        msg = message.resume_req(12, "c1")
        assert msg.msgtype == "RESUME-REQ"
        assert msg.content == {"last_seq": 12, "client_id": "c1"}


class TestToFrames:
    def test_without_buffers(self) -> None:
        msg = new_message(msgtypes.PATCH_DOC, {"events": []}, metadata={"m": "é"})
        frames = msg.to_frames()
        assert all(isinstance(frame, str) for frame in frames)
        assert parsed(frames) == [
            {"msgid": msg.msgid, "msgtype": "PATCH-DOC"},
            {"m": "é"},
            {"events": []},
        ]

    def test_with_buffers(self) -> None:
        payload = memoryview(b"abc")
        msg = new_message(msgtypes.PUSH_DOC, {"doc": {}}, buffers=[("1", payload), ("2", b"")])
        frames = msg.to_frames()
        assert len(frames) == 7
        assert parsed(frames[:4]) == [
            {"msgid": msg.msgid, "msgtype": "PUSH-DOC", "num_buffers": 2},
            {},
            {"doc": {}},
            {"id": "1"},
        ]
        assert frames[4] is payload
        assert parsed(frames[5:]) == [{"id": "2"}, b""]
        assert msg.header["num_buffers"] == 2

    def test_numpy_memoryview_is_not_copied(self) -> None:
        array = np.arange(6, dtype=np.float64).reshape(2, 3)
        view = memoryview(array)
        frames = message.push_doc({}, [("a", view)]).to_frames()
        assert frames[4] is view
        assert frame_nbytes(frames[4]) == 48

    def test_counts_buffers_appended_after_construction(self) -> None:
        msg = message.push_doc({})
        msg.buffers.append(("late", b"x"))
        assert orjson.loads(msg.to_frames()[0])["num_buffers"] == 1

    def test_drops_stale_num_buffers(self) -> None:
        msg = Message({"msgid": "1", "msgtype": "ACK", "num_buffers": 3})
        assert orjson.loads(msg.to_frames()[0]) == {"msgid": "1", "msgtype": "ACK"}

    def test_wire_size_counts_utf8_and_buffer_bytes(self) -> None:
        view = memoryview(np.zeros(4, dtype=np.int32))
        msg = message.push_doc({"title": "héllo ✓"}, [("a", view)])
        frames = msg.to_frames()
        expected = sum(len(f.encode()) for f in frames if isinstance(f, str)) + 16
        assert msg.wire_size() == expected


class TestFrameNbytes:
    @pytest.mark.parametrize(
        ("frame", "size"),
        [
            ("", 0),
            ("abc", 3),
            ("é", 2),
            ("✓", 3),
            ("😀", 4),
            ("\ud800", 3),
            (b"abc", 3),
            (bytearray(5), 5),
            (memoryview(np.zeros((2, 2), dtype=np.float32)), 16),
        ],
    )
    def test_counts_wire_bytes(self, frame: Any, size: int) -> None:
        assert frame_nbytes(frame) == size


class TestWireJson:
    def test_dumps_is_compact_text(self) -> None:
        assert wire_json.dumps({"a": [1, 2.5, None, "é"]}) == '{"a":[1,2.5,null,"é"]}'

    @pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
    def test_dumps_refuses_non_finite_floats(self, bad: float) -> None:
        # orjson alone would write null; a NaN must never silently become None.
        with pytest.raises(ValueError, match="out of range float"):
            wire_json.dumps({"events": [{"value": [1.0, bad]}]})

    def test_dumps_refuses_unencodable_values(self) -> None:
        with pytest.raises(TypeError):
            wire_json.dumps({1: "non-str key"})
        with pytest.raises(TypeError):
            wire_json.dumps(2**64)

    def test_loads_accepts_text_and_bytes(self) -> None:
        for text in ('{"a":1}', b'{"a":1}', bytearray(b'{"a":1}'), memoryview(b'{"a":1}')):
            assert wire_json.loads(text) == {"a": 1}

    @pytest.mark.parametrize("text", ["", "{", "NaN", "[Infinity]", "1e999", '"\\ud800"', "\ud800", b"\xff"])
    def test_loads_raises_value_error(self, text: str | bytes) -> None:
        with pytest.raises(ValueError):
            wire_json.loads(text)

    def test_loads_limits_depth(self) -> None:
        limit = wire_json.MAX_DEPTH
        assert wire_json.loads("[" * limit + "]" * limit) is not None
        with pytest.raises(ValueError, match=f"^JSON nested deeper than {limit} levels$"):
            wire_json.loads("[" * (limit + 1) + "]" * (limit + 1))

    def test_loads_refuses_deep_input_before_orjson_sees_it(self) -> None:
        # orjson < 3.9.15 segfaults on this (CVE-2024-27454).
        hostile = '{"a":' * 400_000 + "1" + "}" * 400_000
        with pytest.raises(ValueError, match="nested deeper"):
            wire_json.loads(hostile)
        with pytest.raises(ValueError, match="nested deeper"):
            wire_json.loads(("[1," * 400_000).encode())

    def test_loads_ignores_brackets_inside_strings(self) -> None:
        text = '["' + "[{" * 500 + '\\"\\\\", "' + "[" * 500 + '"]'
        assert wire_json.loads(text) == ["[{" * 500 + '"\\', "[" * 500]

    def test_loads_counts_brackets_after_escaped_backslash(self) -> None:
        # The quote after an escaped backslash closes the string: what follows nests.
        deep = "[" * 200 + "]" * 200
        with pytest.raises(ValueError, match="nested deeper"):
            wire_json.loads('["\\\\", ' + deep + "]")

    def test_loads_counts_unterminated_strings_as_structure(self) -> None:
        with pytest.raises(ValueError, match="nested deeper"):
            wire_json.loads('"' + "[" * 200)

    def test_depth_limit_lets_anything_loaded_be_dumped_again(self) -> None:
        limit = wire_json.MAX_DEPTH
        value = wire_json.loads("[" * limit + "]" * limit)
        assert wire_json.dumps(value) == "[" * limit + "]" * limit


class TestModules:
    MODULES = ("message", "msgtypes", "receiver", "wire_json")

    @pytest.mark.parametrize("name", MODULES)
    def test_all_names_exist(self, name: str) -> None:
        module = importlib.import_module(f"docsync.protocol.{name}")
        assert sorted(set(module.__all__)) == sorted(module.__all__)
        for export in module.__all__:
            assert hasattr(module, export), export

    def test_package_reexports_the_public_api(self) -> None:
        expected = set(message.__all__) | set(msgtypes.__all__) | set(receiver.__all__)
        assert set(docsync.protocol.__all__) == expected
        for export in expected:
            assert hasattr(docsync.protocol, export), export

    @pytest.mark.parametrize("path", sorted(PROTOCOL_DIR.glob("*.py")), ids=lambda p: p.name)
    def test_stays_sans_io(self, path: Path) -> None:
        tree = ast.parse(path.read_text())
        assert not any(isinstance(node, ast.AsyncFunctionDef) for node in ast.walk(tree))
        imported = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
        forbidden = {"django", "channels", "asyncio", "socket", "websockets", "daphne"}
        assert not imported & forbidden
