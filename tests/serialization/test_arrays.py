from __future__ import annotations

import re
import sys
from typing import Any

import numpy as np
import pytest

from docsync.exceptions import DeserializationError
from docsync.serialization import ALLOWED_DTYPES, arrays, dtype_name
from docsync.serialization.arrays import (
    MAX_DIMENSIONS,
    array_from_buffer,
    array_to_buffer,
    decode_base64,
)

LIMIT = 1_000_000


def test_allowed_dtypes_are_those_with_a_javascript_typed_array() -> None:
    assert {
        "bool",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "float32",
        "float64",
    } == ALLOWED_DTYPES


class TestToBuffer:
    @pytest.mark.parametrize("dtype", sorted(ALLOWED_DTYPES))
    def test_description(self, dtype: str) -> None:
        array = np.zeros((2, 3), dtype=dtype)
        data, description = array_to_buffer(array)
        assert description == {"dtype": dtype, "shape": [2, 3], "order": sys.byteorder}
        assert data.format == "B"
        assert data.nbytes == array.nbytes

    def test_contiguous_array_is_shared(self) -> None:
        array = np.arange(100, dtype=np.int32)
        data, _ = array_to_buffer(array)
        assert data.obj is array
        array[0] = 77  # the buffer sees later writes: it is the array's memory
        assert np.frombuffer(data, dtype=np.int32)[0] == 77

    def test_non_contiguous_array_is_copied(self) -> None:
        array = np.arange(10, dtype=np.int32)[::3]
        data, description = array_to_buffer(array)
        assert description["shape"] == [4]
        assert np.frombuffer(data, dtype=np.int32).tolist() == [0, 3, 6, 9]

    @pytest.mark.parametrize(
        "array",
        [np.zeros(2, dtype=complex), np.zeros(2, dtype="f2"), np.array(["x"]), np.zeros(1, "M8[s]")],
    )
    def test_disallowed_dtypes(self, array: np.ndarray) -> None:
        with pytest.raises(ValueError, match=rf"^dtype '{re.escape(array.dtype.name)}' cannot be sent$"):
            array_to_buffer(array)

    def test_byte_order(self) -> None:
        assert array_to_buffer(np.zeros(1, ">f4"))[1]["order"] == "big"
        assert array_to_buffer(np.zeros(1, "<f4"))[1]["order"] == "little"
        # Single bytes have no order; the native one is written.
        assert array_to_buffer(np.zeros(1, "u1"))[1]["order"] == sys.byteorder


class TestFromBuffer:
    @pytest.mark.parametrize("dtype", sorted(ALLOWED_DTYPES))
    @pytest.mark.parametrize("shape", [(), (0,), (5,), (2, 3), (2, 0, 4), (1,) * MAX_DIMENSIONS])
    def test_round_trip(self, dtype: str, shape: tuple[int, ...]) -> None:
        array = (np.arange(int(np.prod(shape))) % 2).astype(dtype).reshape(shape)
        data, description = array_to_buffer(array)
        result = array_from_buffer(bytes(data), description["dtype"], description["shape"], description["order"], LIMIT)
        assert result.dtype == array.dtype
        assert result.shape == shape
        assert result.tobytes() == array.tobytes()

    @pytest.mark.parametrize("dtype", ["int16", "uint32", "int64", "float32", "float64"])
    def test_foreign_byte_order_is_converted(self, dtype: str) -> None:
        values = [1, 2, 300]
        big = np.array(values, dtype=np.dtype(dtype).newbyteorder(">"))
        result = array_from_buffer(big.tobytes(), dtype, [3], "big", LIMIT)
        assert result.dtype == np.dtype(dtype) and result.dtype.isnative
        assert result.tolist() == values

    def test_native_order_is_a_view_without_copy(self) -> None:
        payload = bytearray(np.arange(6, dtype=np.uint16).tobytes())
        result = array_from_buffer(payload, "uint16", [2, 3], sys.byteorder, LIMIT)
        assert np.shares_memory(result, np.frombuffer(payload, dtype=np.uint8))

    def test_bytes_payload_gives_a_read_only_array(self) -> None:
        result = array_from_buffer(b"\x01\x00", "uint8", [2], "little", LIMIT)
        assert not result.flags.writeable

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (("float64", [1], "little"), r"^buffer length 4 does not match float64\[1\] \(8 bytes\)$"),
            (("int32", [2], "little"), r"^buffer length 4 does not match int32\[2\] \(8 bytes\)$"),
            (("object", [1], "little"), r"^dtype not allowed: 'object'$"),
            (("complex64", [1], "little"), r"^dtype not allowed: 'complex64'$"),
            (("O", [1], "little"), r"^dtype not allowed: 'O'$"),
            ((["float64"], [1], "little"), r"^dtype not allowed: \['float64'\]$"),
            (("int32", [1], "native"), r"^invalid byte order 'native'$"),
            (("int32", (1,), "little"), r"^invalid ndarray shape \(1,\)$"),
            (("int32", [1, None], "little"), r"^invalid ndarray shape \[1, None\]$"),
            (("int32", [1] * (MAX_DIMENSIONS + 1), "little"), r"^invalid ndarray shape"),
            (("uint8", [LIMIT + 1], "little"), rf"^ndarray too large: {LIMIT + 1} > {LIMIT} elements$"),
            (("uint8", [1001, 1000], "little"), rf"^ndarray too large: 1001000 > {LIMIT} elements$"),
        ],
    )
    def test_refusals(self, args: tuple[Any, Any, Any], message: str) -> None:
        with pytest.raises(DeserializationError, match=message):
            array_from_buffer(b"\0" * 4, *args, max_elements=LIMIT)

    def test_dtype_is_checked_before_the_buffer_is_touched(self) -> None:
        with pytest.raises(DeserializationError, match="dtype not allowed"):
            array_from_buffer(b"", "V8", [10**12], "little", LIMIT)


class TestBase64:
    def test_decodes(self) -> None:
        assert decode_base64("AAEC") == b"\x00\x01\x02"
        assert decode_base64("") == b""

    @pytest.mark.parametrize("text", ["A", "AA=A", "AAE*", "AAEC\n"])
    def test_invalid(self, text: str) -> None:
        with pytest.raises(DeserializationError, match=r"^invalid base64 data$"):
            decode_base64(text)

    def test_not_a_string(self) -> None:
        with pytest.raises(DeserializationError, match=r"^base64 data must be a string, got bytes$"):
            decode_base64(b"AAEC")


@pytest.mark.parametrize("spec", ["float64", ">f8", "<i4", "bool", "uint8", "M8[ms]", "U7", "f8,i4"])
def test_dtype_name_is_numpys_name_remembered(spec: str) -> None:
    dtype = np.dtype(spec)
    assert dtype_name(dtype) == dtype.name
    assert dtype_name(np.dtype(spec)) == dtype.name  # asked again: from what was kept


def test_dtype_name_keeps_a_bounded_number_of_dtypes() -> None:
    for width in range(1, 200):  # each its own dtype ("<U1" ... "<U199")
        dtype = np.dtype(f"U{width}")
        assert dtype_name(dtype) == dtype.name
    assert len(arrays._DTYPE_NAMES) <= arrays._MAX_NAMED_DTYPES
