"""Typed JSON values, model references and numpy arrays as binary buffers.

The pure layer below the document and the protocol: values in, JSON-able objects and
buffers out, and back. Options come in as constructor arguments.
"""

from __future__ import annotations

from .arrays import ALLOWED_DTYPES, Buffer, dtype_name, frozen_buffer
from .decoder import Decoder
from .depth import MAX_VALUE_DEPTH, nests_deeper
from .encoder import Encoder

__all__ = [
    "ALLOWED_DTYPES",
    "MAX_VALUE_DEPTH",
    "Buffer",
    "Decoder",
    "Encoder",
    "dtype_name",
    "frozen_buffer",
    "nests_deeper",
]
