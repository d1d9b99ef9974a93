from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import orjson
import pytest

from docsync.exceptions import DeserializationError
from docsync.serialization import ALLOWED_DTYPES, Decoder, Encoder


def roundtrip(value: Any, *, use_buffers: bool = True) -> Any:
    encoder = Encoder(use_buffers=use_buffers)
    text = orjson.dumps(encoder.encode(value))
    buffers = {buffer_id: bytes(data) for buffer_id, data in encoder.buffers}
    return Decoder(buffers).decode(orjson.loads(text))


def ndarray(**fields: Any) -> dict[str, Any]:
    return {"type": "ndarray", "buffer": "0", "dtype": "float64", "shape": [1], "order": "little"} | fields


class TestRoundTrip:
    @pytest.mark.parametrize(
        "value",
        [
            None,
            True,
            17,
            -2.5,
            "☃",
            [1, [2, [3]]],
            {"a": {"b": [1, 2]}},
            {1: "one", "two": 2},
            {(1, 2): "pair", (1, (2, 3)): "nested"},
            {frozenset({1, 2}): "fs"},
            {b"k": 1},
            {"type": "x"},
            {"id": "not-a-reference"},
            {1, 2, 3},
            {(1, 2), (3, 4)},
            set(),
            b"\x00\x01\xff",
            dt.date(1999, 12, 31),
            dt.datetime(2000, 1, 1, 0, 0, 1, 5),
            dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
            dt.time(23, 59, 59, 999999),
            dt.time(0, 0, tzinfo=dt.UTC),
        ],
    )
    @pytest.mark.parametrize("use_buffers", [True, False])
    def test_value_survives(self, value: Any, use_buffers: bool) -> None:
        result = roundtrip(value, use_buffers=use_buffers)
        assert result == value
        assert type(result) is type(value)

    @pytest.mark.parametrize("value", [math.inf, -math.inf])
    def test_infinities(self, value: float) -> None:
        assert roundtrip(value) == value

    def test_nan(self) -> None:
        assert math.isnan(roundtrip(math.nan))
        result = roundtrip({"x": [math.nan]})
        assert math.isnan(result["x"][0])

    def test_tuples_come_back_as_lists(self) -> None:
        assert roundtrip((1, (2,))) == [1, [2]]

    @pytest.mark.parametrize("dtype", sorted(ALLOWED_DTYPES))
    @pytest.mark.parametrize("use_buffers", [True, False])
    def test_arrays(self, dtype: str, use_buffers: bool) -> None:
        array = (np.arange(-6, 6) % 5).astype(dtype).reshape(2, 2, 3)
        result = roundtrip(array, use_buffers=use_buffers)
        assert result.dtype == array.dtype and result.shape == array.shape
        assert np.array_equal(result, array)

    def test_big_endian_array_comes_back_native_with_the_same_values(self) -> None:
        array = np.array([1.5, -2.0, 1e300], dtype=">f8")
        result = roundtrip(array)
        assert result.dtype == np.dtype("float64") and result.dtype.isnative
        assert result.tolist() == [1.5, -2.0, 1e300]

    def test_non_contiguous_array(self) -> None:
        array = np.arange(30, dtype=np.int64).reshape(5, 6)[::2, 1::2]
        assert np.array_equal(roundtrip(array), array)


class TestReferences:
    def test_reference_resolved(self) -> None:
        target = object()
        seen: list[str] = []

        def resolve(model_id: str) -> Any:
            seen.append(model_id)
            return target

        assert Decoder(resolve_ref=resolve).decode({"x": {"id": "m1"}}) == {"x": target}
        assert seen == ["m1"]

    def test_reference_to_unknown_id(self) -> None:
        with pytest.raises(DeserializationError, match=r"^reference to unknown model id 'm9'$"):
            Decoder().decode([{"id": "m9"}])

    def test_reference_id_must_be_a_string(self) -> None:
        with pytest.raises(DeserializationError, match=r"^invalid reference"):
            Decoder().decode({"id": 5})

    def test_resolver_errors_propagate(self) -> None:
        def resolve(model_id: str) -> Any:
            raise DeserializationError(f"nope {model_id}")

        with pytest.raises(DeserializationError, match="nope x"):
            Decoder(resolve_ref=resolve).decode({"id": "x"})


class TestRefusals:
    @pytest.mark.parametrize(
        ("value", "buffers", "message"),
        [
            ({"type": "frobnicate"}, {}, r"^unknown value type 'frobnicate'$"),
            ({"type": 7}, {}, r"^unknown value type 7$"),
            ({"type": "number", "value": "NaN"}, {}, r"^invalid number 'NaN'$"),
            ({"type": "number"}, {}, r"^invalid number None$"),
            ({"type": "number", "value": ["nan"]}, {}, r"^invalid number \['nan'\]$"),
            ({"type": "number", "value": {"nan": 1}}, {}, r"^invalid number \{'nan': 1\}$"),
            ({"type": "datetime", "iso": "yesterday"}, {}, r"^invalid datetime 'yesterday'$"),
            ({"type": "date", "iso": 20240101}, {}, r"^date without an ISO string$"),
            ({"type": "time", "iso": "24:00"}, {}, r"^invalid time '24:00'$"),
            ({"type": "map", "entries": {}}, {}, r"^map entries must be a list$"),
            ({"type": "map", "entries": [[1]]}, {}, r"^map entry must be a \[key, value\] pair"),
            ({"type": "map", "entries": [[{"a": 1}, 2]]}, {}, r"^unhashable map key$"),
            ({"type": "set", "entries": "abc"}, {}, r"^set entries must be a list$"),
            ({"type": "set", "entries": [{"a": 1}]}, {}, r"^unhashable set entry$"),
            ({"type": "bytes"}, {}, r"^binary value without 'buffer' or 'base64'$"),
            ({"type": "bytes", "buffer": "0"}, {}, r"^missing buffer '0'$"),
            ({"type": "bytes", "buffer": 0}, {"0": b""}, r"^missing buffer 0$"),
            ({"type": "bytes", "base64": "!!"}, {}, r"^invalid base64 data$"),
            ({"type": "bytes", "base64": 12}, {}, r"^base64 data must be a string, got int$"),
            (ndarray(), {}, r"^missing buffer '0'$"),
            (ndarray(buffer="7"), {"0": b"\0" * 8}, r"^missing buffer '7'$"),
            (
                ndarray(shape=[2]),
                {"0": b"\0" * 8},
                r"^buffer length 8 does not match float64\[2\] \(16 bytes\)$",
            ),
            (ndarray(), {"0": b"\0" * 9}, r"^buffer length 9 does not match float64\[1\] \(8 bytes\)$"),
            (ndarray(dtype="object"), {"0": b"\0" * 8}, r"^dtype not allowed: 'object'$"),
            (ndarray(dtype="complex128"), {"0": b"\0" * 16}, r"^dtype not allowed: 'complex128'$"),
            (ndarray(dtype="float16"), {"0": b"\0" * 2}, r"^dtype not allowed: 'float16'$"),
            (ndarray(dtype="<f8"), {"0": b"\0" * 8}, r"^dtype not allowed: '<f8'$"),
            (ndarray(dtype=None), {"0": b"\0" * 8}, r"^dtype not allowed: None$"),
            (ndarray(order="middle"), {"0": b"\0" * 8}, r"^invalid byte order 'middle'$"),
            (ndarray(order=None), {"0": b"\0" * 8}, r"^invalid byte order None$"),
            (ndarray(shape=[-1]), {"0": b""}, r"^invalid ndarray shape \[-1\]$"),
            (ndarray(shape=[1.0]), {"0": b"\0" * 8}, r"^invalid ndarray shape \[1.0\]$"),
            (ndarray(shape=[True]), {"0": b"\0" * 8}, r"^invalid ndarray shape \[True\]$"),
            (ndarray(shape="8"), {"0": b"\0" * 8}, r"^invalid ndarray shape '8'$"),
            (ndarray(shape=[1] * 9), {"0": b"\0" * 8}, r"^invalid ndarray shape \[1, 1, 1"),
            (
                ndarray(shape=[10**5, 10**5]),
                {"0": b"\0" * 8},
                r"^ndarray too large: 10000000000 > 100000000 elements$",
            ),
            (
                ndarray(shape=[2**64, 0]),
                {"0": b""},
                r"^ndarray too large: 18446744073709551616 > 100000000 elements$",
            ),
            (
                ndarray(shape=[0, 2**40]),
                {"0": b""},
                r"^ndarray too large: 1099511627776 > 100000000 elements$",
            ),
        ],
    )
    def test_refused(self, value: Any, buffers: dict[str, bytes], message: str) -> None:
        with pytest.raises(DeserializationError, match=message):
            Decoder(buffers).decode(value)

    def test_max_array_elements_is_configurable(self) -> None:
        decoder = Decoder({"0": b"\0" * 80}, max_array_elements=9)
        with pytest.raises(DeserializationError, match=r"^ndarray too large: 10 > 9 elements$"):
            decoder.decode(ndarray(shape=[10]))

    def test_deep_nesting(self) -> None:
        value: Any = 1
        for _ in range(70):
            value = [value]
        with pytest.raises(DeserializationError, match=r"^value nested deeper than 64 levels$"):
            Decoder().decode(value)

    def test_deep_nesting_in_maps_and_objects(self) -> None:
        value: Any = 1
        for i in range(70):
            value = {"type": "map", "entries": [[i, value]]} if i % 2 else {"k": value}
        with pytest.raises(DeserializationError, match="nested deeper"):
            Decoder().decode(value)

    @pytest.mark.parametrize(("kind", "levels"), [("map", 3), ("set", 2)])
    def test_depth_counts_the_json_levels_of_maps_and_sets(self, kind: str, levels: int) -> None:
        # Each wraps its item in ``levels`` JSON levels; the innermost list is one more.
        def nested(count: int) -> Any:
            value: Any = [1]
            for _ in range(count):
                entries = [[1, value]] if kind == "map" else [value]
                value = {"type": kind, "entries": entries}
            return value

        fits = (64 - 1) // levels
        Decoder().decode(nested(fits))
        with pytest.raises(DeserializationError, match=r"^value nested deeper than 64 levels$"):
            Decoder().decode(nested(fits + 1))

    def test_a_column_of_lines_counts_its_lines_as_a_level(self) -> None:
        # 32 lines or more are taken in bulk: that pass skipped the lines' level, so a
        # column of lines 63 levels down was taken here, refused by the JavaScript decoder.
        def nested(count: int) -> Any:
            value: Any = [[1.0, 2.0]] * 40
            for _ in range(count):
                value = [value]
            return value

        Decoder().decode(nested(62))
        with pytest.raises(DeserializationError, match=r"^value nested deeper than 64 levels$"):
            Decoder().decode(nested(63))

    def test_max_depth_is_configurable(self) -> None:
        assert Decoder(max_depth=3).decode([[1]]) == [[1]]
        with pytest.raises(DeserializationError, match=r"deeper than 3 levels"):
            Decoder(max_depth=3).decode([[[[1]]]])

    @pytest.mark.parametrize("value", [object(), (1, 2), b"raw", 1j])
    def test_non_json_values(self, value: Any) -> None:
        with pytest.raises(DeserializationError, match=r"^cannot decode value of type "):
            Decoder().decode(value)


class TestZeroCopy:
    def test_decoded_array_is_a_view_of_the_buffer(self) -> None:
        payload = bytearray(np.arange(4, dtype=np.float64).tobytes())
        result = Decoder({"0": payload}).decode(ndarray(shape=[4]))
        assert np.shares_memory(result, np.frombuffer(payload, dtype=np.uint8))
        assert result.tolist() == [0.0, 1.0, 2.0, 3.0]

    def test_typed_memoryview_buffer_is_measured_in_bytes(self) -> None:
        source = np.arange(3, dtype=np.float64)
        result = Decoder({"0": memoryview(source)}).decode(ndarray(shape=[3]))
        assert result.tolist() == [0.0, 1.0, 2.0]


def test_decode_key_makes_keys_hashable() -> None:
    decoder = Decoder()
    assert decoder.decode_key([1, ["a", 2]]) == (1, ("a", 2))
    assert decoder.decode_key({"type": "set", "entries": [1, 2]}) == frozenset({1, 2})
    assert decoder.decode_key("k") == "k"
    assert decoder.decode_key({"type": "number", "value": "+inf"}) == math.inf


class TestLongPlainLists:
    """Lists of 32 items or more of plain values are copied whole."""

    @pytest.mark.parametrize("filler", [1, 1.5, "x", None, True])
    def test_a_copy_equal_to_the_received_list(self, filler: Any) -> None:
        value = [filler] * 40 + [2**64 - 1, "s", None, False]
        result = Decoder().decode(value)
        assert result == value and result is not value
        assert [type(item) for item in result] == [type(item) for item in value]

    @pytest.mark.parametrize(
        "odd", [{"type": "number", "value": "nan"}, [1], {"type": "set", "entries": []}, {"id": "x"}]
    )
    def test_values_to_decode_among_plain_ones_are_decoded(self, odd: Any) -> None:
        value = [1] * 40 + [odd]
        decoder = Decoder(resolve_ref=lambda model_id: ("model", model_id))
        result = decoder.decode(value)
        assert result[:40] == [1] * 40
        assert repr(result[40]) == repr(decoder.decode(odd))
        assert type(result[40]) is not dict


class TestLinesAndObjectsOfPlainValues:
    """32 lines or members or more: checked in one C-level pass, then copied whole."""

    @pytest.mark.parametrize("line", [[1, 2.5, "s", None, False], [], [2**64 - 1]])
    def test_lines_are_copied(self, line: list[Any]) -> None:
        value = [line] * 40
        result = Decoder().decode(value)
        assert result == value and result is not value
        assert all(new is not old for new, old in zip(result, value, strict=True))

    @pytest.mark.parametrize("odd", [{"type": "number", "value": "nan"}, [1], {"id": "x"}])
    def test_a_line_holding_a_value_to_decode_is_decoded(self, odd: Any) -> None:
        decoder = Decoder(resolve_ref=lambda model_id: ("model", model_id))
        result = decoder.decode([[1, 2]] * 40 + [[3, odd]])
        assert result[:40] == [[1, 2]] * 40
        assert repr(result[40][1]) == repr(decoder.decode(odd))

    def test_an_object_of_plain_members_is_copied(self) -> None:
        value = {f"k{i}": [None, 1, 1.5, "s", True][i % 5] for i in range(40)}
        result = Decoder().decode(value)
        assert result == value and result is not value

    @pytest.mark.parametrize("odd", [{"type": "number", "value": "-inf"}, [1], {"id": "x"}])
    def test_an_object_with_a_member_to_decode_is_decoded(self, odd: Any) -> None:
        decoder = Decoder(resolve_ref=lambda model_id: ("model", model_id))
        result = decoder.decode({**{f"k{i}": i for i in range(40)}, "odd": odd})
        assert repr(result["odd"]) == repr(decoder.decode(odd))
        assert type(result["odd"]) is not dict
