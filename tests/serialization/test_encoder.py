from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import orjson
import pytest

from docsync.exceptions import SerializationError
from docsync.serialization import ALLOWED_DTYPES, Encoder
from docsync.serialization.encoder import is_reference_type


class Ref:
    """Anything marked ``__docsync_ref__`` travels as a reference."""

    __docsync_ref__ = True

    def __init__(self, id: str) -> None:
        self.id = id


def encode(value: Any, **options: Any) -> tuple[Any, Encoder]:
    encoder = Encoder(**options)
    result = encoder.encode(value)
    orjson.dumps(result)  # whatever the encoder returns must be valid JSON
    return result, encoder


class TestPlainValues:
    @pytest.mark.parametrize("value", [None, True, False, 0, -7, 2**62, 1.5, -0.0, "", "héllo ☃ 𝄞"])
    def test_json_values_pass_through(self, value: Any) -> None:
        result, encoder = encode(value)
        assert result == value and type(result) is type(value)
        assert encoder.buffers == []

    def test_lists_and_tuples_become_lists(self) -> None:
        assert encode([1, (2, 3), [4, [5]]])[0] == [1, [2, 3], [4, [5]]]
        assert encode(())[0] == []

    def test_string_keyed_dict_is_plain(self) -> None:
        assert encode({"a": 1, "b": {"c": [2]}})[0] == {"a": 1, "b": {"c": [2]}}

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (np.int8(-3), -3),
            (np.uint64(2**63), 2**63),
            (np.float32(1.5), 1.5),
            (np.float64(2.25), 2.25),
            (np.bool_(True), True),
        ],
    )
    def test_numpy_scalars_become_python_values(self, value: Any, expected: Any) -> None:
        result = encode(value)[0]
        assert result == expected and type(result) is type(expected)


class TestSpecialFloats:
    @pytest.mark.parametrize(
        ("value", "text"),
        [(math.nan, "nan"), (math.inf, "+inf"), (-math.inf, "-inf"), (np.float32("nan"), "nan")],
    )
    def test_nonfinite_floats_are_typed(self, value: float, text: str) -> None:
        assert encode(value)[0] == {"type": "number", "value": text}

    def test_nested_nonfinite_floats(self) -> None:
        assert encode({"x": [1.0, math.inf]})[0] == {"x": [1.0, {"type": "number", "value": "+inf"}]}


class TestMaps:
    def test_non_string_keys_make_a_map(self) -> None:
        result = encode({1: "a", "b": 2, (3, 4): None})[0]
        assert result == {"type": "map", "entries": [[1, "a"], ["b", 2], [[3, 4], None]]}

    def test_dict_with_type_key_is_a_map(self) -> None:
        # A plain object with "type" would be read back as a typed value.
        assert encode({"type": "number", "value": "nan"})[0] == {
            "type": "map",
            "entries": [["type", "number"], ["value", "nan"]],
        }

    def test_dict_with_only_id_is_a_map(self) -> None:
        # A plain object {"id": ...} would be read back as a model reference.
        assert encode({"id": "x"})[0] == {"type": "map", "entries": [["id", "x"]]}

    def test_dict_with_id_and_more_is_plain(self) -> None:
        assert encode({"id": "x", "n": 1})[0] == {"id": "x", "n": 1}

    def test_bool_and_float_keys(self) -> None:
        result = encode({True: 1, 1.5: 2, math.nan: 3})[0]
        assert result["type"] == "map"
        assert result["entries"][:2] == [[True, 1], [1.5, 2]]
        assert result["entries"][2] == [{"type": "number", "value": "nan"}, 3]


class TestSetsBytesTimes:
    def test_sets(self) -> None:
        result = encode({3, 1, 2})[0]
        assert result["type"] == "set"
        assert sorted(result["entries"]) == [1, 2, 3]
        assert encode(frozenset())[0] == {"type": "set", "entries": []}

    @pytest.mark.parametrize("data", [b"\x00\xff\x10", bytearray(b"abc"), memoryview(b"xyz"), b""])
    def test_bytes_travel_as_buffers(self, data: Any) -> None:
        result, encoder = encode(data)
        assert result == {"type": "bytes", "buffer": "0"}
        assert [(i, bytes(b)) for i, b in encoder.buffers] == [("0", bytes(data))]

    def test_bytes_as_base64(self) -> None:
        result, encoder = encode(b"\x00\xff\x10", use_buffers=False)
        assert result == {"type": "bytes", "base64": "AP8Q"}
        assert encoder.buffers == []

    def test_dates_and_datetimes(self) -> None:
        naive = dt.datetime(2024, 2, 29, 13, 5, 7, 123456)
        aware = dt.datetime(2024, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
        assert encode(dt.date(2024, 2, 29))[0] == {"type": "date", "iso": "2024-02-29"}
        assert encode(naive)[0] == {"type": "datetime", "iso": "2024-02-29T13:05:07.123456"}
        assert encode(aware)[0] == {"type": "datetime", "iso": "2024-01-01T00:00:00-05:00"}

    def test_times(self) -> None:
        assert encode(dt.time(13, 5))[0] == {"type": "time", "iso": "13:05:00"}
        offset = dt.timezone(dt.timedelta(hours=2))
        assert encode(dt.time(1, 2, 3, 4, tzinfo=offset))[0] == {"type": "time", "iso": "01:02:03.000004+02:00"}


class TestReferences:
    def test_models_become_references_and_are_collected(self) -> None:
        a, b = Ref("a"), Ref("b")
        result, encoder = encode({"x": [a, b, a]})
        assert result == {"x": [{"id": "a"}, {"id": "b"}, {"id": "a"}]}
        assert list(encoder.referenced) == ["a", "b"]
        assert encoder.referenced["a"] is a

    def test_is_reference_type(self) -> None:
        assert is_reference_type(Ref("a"))
        assert not is_reference_type({"id": "a"})
        assert not is_reference_type(Ref)


class TestUnencodable:
    @pytest.mark.parametrize(
        "value",
        [object(), 1j, np.array([1 + 2j]), np.array(["a"]), np.array([object()]), np.zeros(1, "f2")],
    )
    def test_refused_with_serialization_error(self, value: Any) -> None:
        with pytest.raises(SerializationError, match=r"cannot|cannot be sent"):
            Encoder().encode(value)

    def test_disallowed_dtype_names_the_dtype(self) -> None:
        with pytest.raises(SerializationError, match=r"^dtype 'complex128' cannot be sent$"):
            Encoder().encode(np.zeros(2, dtype=complex))

    def test_unknown_type_names_the_type(self) -> None:
        with pytest.raises(SerializationError, match=r"^cannot encode value of type object$"):
            Encoder().encode([1, object()])


class TestArrays:
    @pytest.mark.parametrize("dtype", sorted(ALLOWED_DTYPES))
    def test_every_allowed_dtype(self, dtype: str) -> None:
        array = (np.arange(12) % 3).astype(dtype).reshape(3, 4)
        result, encoder = encode(array)
        assert result == {
            "type": "ndarray",
            "buffer": "0",
            "dtype": dtype,
            "shape": [3, 4],
            "order": "little",  # every platform docsync runs on is little-endian
        }
        ((buffer_id, data),) = encoder.buffers
        assert buffer_id == "0"
        assert bytes(data) == array.tobytes()

    def test_contiguous_array_is_not_copied(self) -> None:
        array = np.linspace(0, 1, 1000)
        _, encoder = encode(array)
        data = encoder.buffers[0][1]
        assert isinstance(data, memoryview)
        assert data.obj is array
        assert np.shares_memory(np.frombuffer(data, dtype=np.uint8), array)
        assert data.nbytes == array.nbytes

    def test_contiguous_2d_array_is_not_copied(self) -> None:
        array = np.arange(24, dtype=np.int32).reshape(2, 3, 4)
        data = encode(array)[1].buffers[0][1]
        assert isinstance(data, memoryview)
        assert np.shares_memory(np.frombuffer(data, dtype=np.uint8), array)

    def test_non_contiguous_array_is_copied_in_c_order(self) -> None:
        base = np.arange(20, dtype=np.float64)
        strided = base[::2]
        result, encoder = encode(strided)
        data = encoder.buffers[0][1]
        assert result["shape"] == [10]
        assert bytes(data) == strided.copy().tobytes()
        assert not np.shares_memory(np.frombuffer(data, dtype=np.uint8), base)

    def test_fortran_order_array_travels_in_c_order(self) -> None:
        array = np.asfortranarray(np.arange(6, dtype=np.int16).reshape(2, 3))
        result, encoder = encode(array)
        assert result["shape"] == [2, 3]
        assert bytes(encoder.buffers[0][1]) == np.ascontiguousarray(array).tobytes()

    def test_big_endian_array_keeps_its_bytes(self) -> None:
        array = np.arange(4, dtype=">i4")
        result, encoder = encode(array)
        assert result["order"] == "big"
        assert result["dtype"] == "int32"
        assert bytes(encoder.buffers[0][1]) == b"\0\0\0\0\0\0\0\x01\0\0\0\x02\0\0\0\x03"
        assert encoder.buffers[0][1].obj is array  # no byte swap, no copy

    def test_explicit_little_endian(self) -> None:
        assert encode(np.arange(2, dtype="<u2"))[0]["order"] == "little"

    @pytest.mark.parametrize("shape", [(), (0,), (0, 3), (2, 0, 3), (1, 1, 1, 1)])
    def test_odd_shapes(self, shape: tuple[int, ...]) -> None:
        array = np.ones(shape, dtype=np.uint8)
        result, encoder = encode(array)
        assert result["shape"] == list(shape)
        assert bytes(encoder.buffers[0][1]) == array.tobytes()

    def test_base64_mode(self) -> None:
        result, encoder = encode(np.array([1, 2], dtype=np.uint16), use_buffers=False)
        assert result == {
            "type": "ndarray",
            "base64": "AQACAA==",
            "dtype": "uint16",
            "shape": [2],
            "order": "little",
        }
        assert encoder.buffers == []

    def test_buffer_ids_are_distinct_and_in_order(self) -> None:
        result, encoder = encode([np.zeros(1), b"x", np.ones(2)])
        assert [item["buffer"] for item in result] == ["0", "1", "2"]
        assert [i for i, _ in encoder.buffers] == ["0", "1", "2"]

    def test_add_buffer(self) -> None:
        encoder = Encoder()
        assert encoder.add_buffer(b"a") == "0"
        assert encoder.add_buffer(b"b") == "1"
        assert encoder.buffers == [("0", b"a"), ("1", b"b")]


class TestIntegerRange:
    @pytest.mark.parametrize("value", [-(2**63), 2**63 - 1, 2**64 - 1, np.uint64(2**64 - 1)])
    def test_64_bit_integers(self, value: Any) -> None:
        assert encode(value)[0] == int(value)

    @pytest.mark.parametrize("value", [2**64, -(2**63) - 1, [1, 10**30], {(2**70, "k"): 1}])
    def test_larger_integers_are_refused(self, value: Any) -> None:
        with pytest.raises(SerializationError, match=r"^integer -?\d+ does not fit in 64 bits \(\d+ bits\)$"):
            Encoder().encode(value)


class TestLongPlainLists:
    """Lists of 32 items or more: their item types checked in one C-level pass, then copied."""

    @staticmethod
    def item_by_item(value: list[Any]) -> Any:
        try:
            return [Encoder().encode(item) for item in value]
        except SerializationError as exc:
            return type(exc)

    @pytest.mark.parametrize(
        "head",
        [
            [],
            [True, False, None, "s"],
            [2**64 - 1, -(2**63)],
            [2**64],
            [-(2**63) - 1],
            [10**400],
            [1e300],
            [math.nan],
            [math.inf],
            [-math.inf],
            [1, 2.5, True],
            [1, "a"],
            [[1]],
            [np.float64(1.5), np.int64(3)],
            [(1, 2)],
            [Ref("m1")],
        ],
    )
    @pytest.mark.parametrize("filler", [1, 1.5, "x", None])
    def test_same_as_item_by_item(self, head: list[Any], filler: Any) -> None:
        value = [*head, *([filler] * 40), *head]
        expected = self.item_by_item(value)
        try:
            result = Encoder().encode(value)
        except SerializationError as exc:
            result = type(exc)
        assert repr(result) == repr(expected)
        if isinstance(result, list):
            assert [type(item) for item in result] == [type(item) for item in expected]
            assert result is not value

    def test_a_tuple_becomes_a_list(self) -> None:
        assert Encoder().encode(tuple(range(50))) == list(range(50))


class TestLinesOfPlainValues:
    """32 lists or more of plain values (a MultiLine's column): all their items checked in the same C-level passes."""

    @staticmethod
    def line_by_line(value: list[Any]) -> Any:
        try:
            return [[Encoder().encode(item) for item in line] for line in value]
        except SerializationError as exc:
            return type(exc)

    @pytest.mark.parametrize(
        "odd",
        [[], [2**64 - 1, -(2**63)], [2**64], [-(2**63) - 1], [math.nan], [-math.inf], [1, "a"], [(1, 2)], [[1]]],
    )
    @pytest.mark.parametrize("line", [[1, 2, 3], [0.5] * 12, ["a", None, True], []])
    def test_same_as_line_by_line(self, odd: list[Any], line: list[Any]) -> None:
        value = [line] * 20 + [[*line, *odd]] + [line] * 20
        expected = self.line_by_line(value)
        try:
            result = Encoder().encode(value)
        except SerializationError as exc:
            result = type(exc)
        assert repr(result) == repr(expected)
        if isinstance(result, list):
            assert all(new is not old for new, old in zip(result, value, strict=True))

    def test_no_call_per_item(self) -> None:
        import sys

        calls = 0

        def count(frame: Any, event: str, arg: Any) -> None:
            nonlocal calls
            calls += event == "call"

        value = [list(range(12))] * 10_000
        sys.setprofile(count)
        try:
            result = Encoder().encode(value)
        finally:
            sys.setprofile(None)
        assert result == value and calls < 20, calls
