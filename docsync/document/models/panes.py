"""Rich content: Markdown and HTML (sanitised on the server), images, progress bars, alerts."""

from __future__ import annotations

import struct
import zlib
from typing import Any

import numpy as np

from ...exceptions import ValidationError
from ..properties import Bytes, Enum, Float, Nullable, Property, String
from ..sanitize import SafeHTML, render_markdown
from .widgets import Widget

__all__ = ["HTML", "Alert", "Image", "Markdown", "Progress", "png_from_rgba"]


class HTML(Widget):
    """HTML content, sanitised when it is set: scripts, styles and event attributes never reach a page."""

    text = SafeHTML(help="The HTML, as kept after sanitising (what Python reads back is what browsers get).")


class Markdown(Widget):
    """Markdown (CommonMark, with tables), rendered and sanitised on the server."""

    text = String(help="The Markdown source.")
    html = SafeHTML(help="The rendered HTML: set by the model whenever ``text`` changes.")

    def __init__(self, text: str | None = None, *, id: str | None = None, **properties: Any) -> None:
        if text is not None:
            properties["text"] = text
        source = properties.get("text")
        if isinstance(source, str) and "html" not in properties:
            properties["html"] = render_markdown(source)
        super().__init__(id=id, **properties)

    def _store_value(self, prop: Property, value: Any, setter: Any) -> None:
        super()._store_value(prop, value, setter)
        if prop.name == "text":
            super()._set_value(self.lookup("html"), render_markdown(self.text), setter)


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_from_rgba(array: np.ndarray) -> bytes:
    """Encode an (height, width, 4) uint8 RGBA array (or (height, width, 3) RGB) as PNG."""
    if array.ndim != 3 or array.shape[2] not in (3, 4) or array.dtype != np.uint8:
        raise ValidationError(f"an image array must be (height, width, 3 or 4) uint8, got {array.dtype} {array.shape}")
    height, width, channels = array.shape
    # Each row starts with its filter type (0: none).
    rows = np.zeros((height, 1 + width * channels), dtype=np.uint8)
    rows[:, 1:] = np.ascontiguousarray(array).reshape(height, width * channels)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 6 if channels == 4 else 2, 0, 0, 0)
    return (
        _PNG_SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6)) + chunk(b"IEND", b"")
    )


def image_format(data: bytes | None) -> str | None:
    """Return "png", "jpeg" or "svg" for image bytes, or None."""
    if not data:
        return None
    if data.startswith(_PNG_SIGNATURE):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<svg", b"<?xml")) and b"<svg" in data[:4096].lower():
        return "svg"
    return None


class Image(Widget):
    """A PNG, JPEG or SVG image from bytes, or a PNG made from a numpy RGBA (or RGB) array.

    The browser shows it as an ``<img>`` (an SVG in an image runs no script).
    """

    data = Nullable(Bytes())
    format = Nullable(Enum("png", "jpeg", "svg"), help="Set from the bytes.")
    alt = String(help="Text for readers who cannot see the image; empty marks it as decoration.")

    def __init__(self, data: Any = None, *, id: str | None = None, **properties: Any) -> None:
        if data is not None:
            properties["data"] = data
        super().__init__(id=id, **properties)
        if self._values.get("data") and "format" not in self._values:
            self._values["format"] = image_format(self._values["data"])

    def validate_value(self, prop: Property, value: Any) -> Any:
        if prop.name == "data" and isinstance(value, np.ndarray):
            value = png_from_rgba(value)
        value = super().validate_value(prop, value)
        if prop.name == "data" and value and image_format(value) is None:
            raise ValidationError("Image.data is neither PNG, JPEG nor SVG")
        return value

    def _store_value(self, prop: Property, value: Any, setter: Any) -> None:
        super()._store_value(prop, value, setter)
        if prop.name == "data":
            super()._set_value(self.lookup("format"), image_format(self.data), setter)


class Progress(Widget):
    """A progress bar: ``value`` out of ``max``, or an indeterminate bar when ``value`` is None."""

    title = String(help="What is in progress (also its accessible name).")
    value = Nullable(Float())
    max = Float(100.0)


class Alert(Widget):
    """A notice in a coloured box: its text is shown as text."""

    text = String()
    alert_type = Enum("info", "success", "warning", "danger")
