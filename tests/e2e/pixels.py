"""Read the pixels of a PNG screenshot (8-bit RGB or RGBA, as Chromium writes them)."""

from __future__ import annotations

import struct
import zlib

import numpy as np

_CHANNELS = {2: 3, 6: 4}  # PNG colour type -> channels


def decode_png(data: bytes) -> np.ndarray:
    """Return the image as a (height, width, channels) uint8 array."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, chunks, header = 8, [], None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
    if header is None:
        raise ValueError("PNG without IHDR")
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in _CHANNELS or interlace:
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour}, interlace {interlace}")
    channels = _CHANNELS[colour]
    stride = width * channels
    raw = zlib.decompress(b"".join(chunks))
    out = bytearray(height * stride)
    previous = bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], raw[start + 1 : start + 1 + stride]
        row = _unfilter(kind, line, previous, channels)
        out[y * stride : (y + 1) * stride] = row
        previous = row
    return np.frombuffer(bytes(out), dtype=np.uint8).reshape(height, width, channels)


def _unfilter(kind: int, line: bytes, previous: bytes, channels: int) -> bytes:
    if kind == 0:
        return line
    if kind == 2:
        return (
            ((np.frombuffer(line, np.uint8).astype(np.uint16) + np.frombuffer(previous, np.uint8)) & 0xFF)
            .astype(np.uint8)
            .tobytes()
        )
    row = bytearray(line)
    for x in range(len(row)):
        left = row[x - channels] if x >= channels else 0
        if kind == 1:
            predicted = left
        elif kind == 3:
            predicted = (left + previous[x]) >> 1
        else:
            up = previous[x]
            upper_left = previous[x - channels] if x >= channels else 0
            p = left + up - upper_left
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - upper_left)
            predicted = left if pa <= pb and pa <= pc else up if pb <= pc else upper_left
        row[x] = (row[x] + predicted) & 0xFF
    return bytes(row)


def changed_fraction(before: bytes, after: bytes) -> float:
    """Return the share of pixels that differ between two PNG screenshots of one size."""
    a, b = decode_png(before), decode_png(after)
    if a.shape != b.shape:
        return 1.0
    return float(np.any(a[..., :3] != b[..., :3], axis=-1).mean())


def ink_fraction(png: bytes) -> float:
    """Return the share of pixels that are not (nearly) white: how much is drawn."""
    image = decode_png(png)[..., :3].astype(np.int32)
    return float((image.min(axis=-1) < 235).mean())
