"""numpy arrays to buffers and back, checking everything that arrives."""

from __future__ import annotations

import base64
import sys
from typing import Any

import numpy as np

from ..exceptions import DeserializationError

__all__ = [
    "ALLOWED_DTYPES",
    "Buffer",
    "array_from_buffer",
    "array_to_buffer",
    "decode_base64",
    "dtype_name",
    "frozen_buffer",
]

Buffer = bytes | bytearray | memoryview

#: The dtypes that may travel; each has a JavaScript typed-array counterpart.
ALLOWED_DTYPES: frozenset[str] = frozenset(
    {
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
    }
)

NATIVE_ORDER = sys.byteorder
MAX_DIMENSIONS = 8
#: The names of the dtypes met so far: numpy works ``dtype.name`` out in Python on every
#: read, which showed in profiles of every column checked and every array sent. Bounded:
#: once full, further dtypes are named without being kept.
_DTYPE_NAMES: dict[np.dtype[Any], str] = {}
_MAX_NAMED_DTYPES = 64


def dtype_name(dtype: np.dtype[Any]) -> str:
    """Return ``dtype.name`` ("float64"), remembered per dtype."""
    name = _DTYPE_NAMES.get(dtype)
    if name is None:
        name = dtype.name
        if len(_DTYPE_NAMES) < _MAX_NAMED_DTYPES:
            _DTYPE_NAMES[dtype] = name
    return name


#: The byte order of a dtype's ``byteorder`` ("=" and "|": the machine's).
_BYTE_ORDERS = {"<": "little", ">": "big"}


def array_to_buffer(array: np.ndarray) -> tuple[memoryview, dict[str, Any]]:
    """Return the array's bytes (no copy when contiguous) and its description."""
    name = dtype_name(array.dtype)
    if name not in ALLOWED_DTYPES:
        raise ValueError(f"dtype {name!r} cannot be sent")
    if not array.flags.c_contiguous:
        # Only a non-contiguous view pays for a copy; contiguous arrays go out as-is.
        array = np.ascontiguousarray(array)
    byte_order = _BYTE_ORDERS.get(array.dtype.byteorder, NATIVE_ORDER)
    # One dimension, so that the cast to bytes also works for empty multi-dimensional
    # arrays (memoryview refuses to cast a shape containing a zero).
    flat = array if array.ndim == 1 else array.reshape(-1)
    view = memoryview(flat).cast("B")  # type: ignore[arg-type]
    return view, {"dtype": name, "shape": list(array.shape), "order": byte_order}


def _unwritable(data: memoryview) -> bool:
    """Tell whether nothing can write the memory under ``data``: read-only all the way down to a bytes object."""
    owner: object = data
    for _ in range(16):  # views of views of a frame: a few steps at most
        if type(owner) is bytes:
            return True
        if isinstance(owner, memoryview):
            if not owner.readonly:
                return False
            owner = owner.obj
        elif isinstance(owner, np.ndarray):
            # A read-only array that owns its memory can be made writable again by anyone.
            if owner.flags.writeable or owner.base is None:
                return False
            owner = owner.base
        else:
            return False
    return False


def frozen_buffer(data: Buffer) -> Buffer:
    """Return ``data`` if nothing can write its memory (bytes, a read-only view over bytes), else its bytes, copied.

    What an encoded event holds must say what it said when encoded: a view of a live
    column's memory changed with every later in-place write (a cells or slice patch).
    Columns decoded from frames are read-only views over the frame's bytes and go as they are.
    """
    if type(data) is bytes or (isinstance(data, memoryview) and _unwritable(data)):
        return data
    return bytes(data)


def _checked_shape(shape: object, max_elements: int) -> tuple[tuple[int, ...], int]:
    """The dimensions of a valid ``shape``, and how many elements it holds."""
    if not isinstance(shape, list) or len(shape) > MAX_DIMENSIONS:
        raise DeserializationError(f"invalid ndarray shape {shape!r:.80}")
    count = 1
    for size in shape:
        if type(size) is not int or size < 0:
            raise DeserializationError(f"invalid ndarray shape {shape!r:.80}")
        # Checked one by one too: a zero elsewhere in the shape hides a huge size from
        # the product, and numpy fails on such shapes with errors of its own.
        if size > max_elements:
            raise DeserializationError(f"ndarray too large: {size} > {max_elements} elements")
        count *= size
    if count > max_elements:
        raise DeserializationError(f"ndarray too large: {count} > {max_elements} elements")
    return tuple(shape), count


#: The dtype of each (allowed dtype name, byte order) met: at most 2 per allowed dtype.
_WIRE_DTYPES: dict[tuple[str, str], np.dtype[Any]] = {}


def _wire_dtype(name: str, order: str) -> np.dtype[Any]:
    """The dtype of an array that arrives as ``name`` in byte ``order`` (both checked already)."""
    dtype = _WIRE_DTYPES.get((name, order))
    if dtype is None:
        dtype = np.dtype(name)
        if dtype.itemsize > 1:
            dtype = dtype.newbyteorder("<" if order == "little" else ">")
        _WIRE_DTYPES[name, order] = dtype
    return dtype


def array_from_buffer(data: Buffer, dtype_name: object, shape: object, order: object, max_elements: int) -> np.ndarray:
    """Build an array over ``data`` (no copy), after checking dtype, shape and length."""
    if not isinstance(dtype_name, str) or dtype_name not in ALLOWED_DTYPES:
        raise DeserializationError(f"dtype not allowed: {dtype_name!r:.40}")
    if order not in ("little", "big"):
        raise DeserializationError(f"invalid byte order {order!r:.40}")
    dims, count = _checked_shape(shape, max_elements)
    dtype = _wire_dtype(dtype_name, order)
    expected = count * dtype.itemsize
    # len() of a typed memoryview counts items, not bytes.
    length = data.nbytes if isinstance(data, memoryview) else len(data)
    if length != expected:
        raise DeserializationError(f"buffer length {length} does not match {dtype_name}{list(dims)} ({expected} bytes)")
    array = np.frombuffer(data, dtype=dtype)
    if len(dims) != 1:  # (one dimension, most arrays: frombuffer's own shape is ``dims``)
        array = array.reshape(dims)
    if dtype.itemsize > 1 and order != NATIVE_ORDER:
        array = array.astype(dtype.newbyteorder("="))
    return array


def decode_base64(text: object) -> bytes:
    """Decode a base64 string, refusing anything else."""
    if not isinstance(text, str):
        raise DeserializationError(f"base64 data must be a string, got {type(text).__name__}")
    try:
        return base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise DeserializationError("invalid base64 data") from exc
