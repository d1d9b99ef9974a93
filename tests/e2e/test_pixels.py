"""The PNG reader of the browser tests (pixels.py): PNGs written here, with every row filter, back to their pixels."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from .pixels import decode_png


def _paeth(left: int, up: int, upper_left: int) -> int:
    p = left + up - upper_left
    pa, pb, pc = abs(p - left), abs(p - up), abs(p - upper_left)
    return left if pa <= pb and pa <= pc else up if pb <= pc else upper_left


def _filtered(image: np.ndarray, kinds: list[int]) -> bytes:
    """The image's rows, each filtered with its kind (0 none, 1 sub, 2 up, 3 average, 4 Paeth), as PNG stores them."""
    height, width, channels = image.shape
    out = bytearray()
    previous = [0] * (width * channels)
    for y in range(height):
        row = [int(v) for v in image[y].reshape(-1)]
        encoded = []
        for x, value in enumerate(row):
            left = row[x - channels] if x >= channels else 0
            upper_left = previous[x - channels] if x >= channels else 0
            predicted = [0, left, previous[x], (left + previous[x]) >> 1, _paeth(left, previous[x], upper_left)]
            encoded.append((value - predicted[kinds[y]]) & 0xFF)
        out += bytes([kinds[y], *encoded])
        previous = row
    return bytes(out)


def _png(image: np.ndarray, kinds: list[int]) -> bytes:
    height, width, channels = image.shape

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, {3: 2, 4: 6}[channels], 0, 0, 0)
    data = zlib.compress(_filtered(image, kinds))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


@pytest.mark.parametrize("channels", [3, 4])
def test_every_row_filter_decodes_to_the_pixels(channels: int) -> None:
    rng = np.random.default_rng(channels)
    image = rng.integers(0, 256, size=(10, 7, channels), dtype=np.uint8)
    kinds = [y % 5 for y in range(10)]  # each filter twice, after each other one
    decoded = decode_png(_png(image, kinds))
    assert decoded.dtype == np.uint8 and decoded.shape == image.shape
    np.testing.assert_array_equal(decoded, image)


def test_not_a_png_and_a_png_not_as_chromium_writes_them_are_refused() -> None:
    with pytest.raises(ValueError, match="not a PNG"):
        decode_png(b"GIF89a")
    sixteen_bits = bytearray(_png(np.zeros((2, 2, 3), np.uint8), [0, 0]))
    sixteen_bits[24] = 16  # IHDR's bit depth
    with pytest.raises(ValueError, match="unsupported PNG: depth 16"):
        decode_png(bytes(sixteen_bits))
