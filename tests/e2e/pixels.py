"""Read the pixels of a PNG screenshot (8-bit RGB or RGBA, as Chromium writes them)."""

from __future__ import annotations

import io
import struct

import numpy as np
from PIL import Image

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {2: 3, 6: 4}  # PNG colour type -> channels


def decode_png(data: bytes) -> np.ndarray:
    """Return the image as a (height, width, channels) uint8 array."""
    if data[:8] != _SIGNATURE or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", data[16:29])
    if depth != 8 or colour not in _CHANNELS or interlace:
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour}, interlace {interlace}")
    # Pillow's decoder, in C: the row filters (Paeth most of all) undone byte by byte in
    # Python took ~0.1-0.2 s of CPU per screenshot, and some tests compare dozens.
    with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
        pixels = np.asarray(image)
    assert pixels.shape == (height, width, _CHANNELS[colour]) and pixels.dtype == np.uint8, pixels.shape
    return pixels


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
