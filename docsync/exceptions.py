"""Exceptions raised by docsync.

The tree::

    DocsyncError
    ├── ProtocolError            a frame sequence that is not a valid message
    ├── SerializationError       a value that cannot be encoded
    ├── DeserializationError     JSON or buffers that cannot be decoded safely
    ├── ValidationError          a property value of the wrong type (also a ValueError)
    ├── PatchError               a patch refused as a whole; the document is unchanged
    │   ├── UnknownModelError    a patch names a model id the document does not hold
    │   ├── UnknownPropertyError a patch names a property the model does not have
    │   └── NotWritableError     a patch from a client sets a property it may not set
    └── ConfigurationError       the ``DOCSYNC`` setting is wrong

Messages are short lowercase fragments that show the offending value.
"""

from __future__ import annotations

__all__ = [
    "ConfigurationError",
    "DeserializationError",
    "DocsyncError",
    "NotWritableError",
    "PatchError",
    "ProtocolError",
    "SerializationError",
    "UnknownModelError",
    "UnknownPropertyError",
    "ValidationError",
]


class DocsyncError(Exception):
    """Base class of every docsync exception."""


class ProtocolError(DocsyncError):
    """A frame or frame sequence breaks the wire protocol."""


class SerializationError(DocsyncError):
    """A value cannot be encoded for the wire."""


class DeserializationError(DocsyncError):
    """Received JSON or buffers cannot be decoded into trusted values."""


class ValidationError(DocsyncError, ValueError):
    """A property was given a value of the wrong type."""


class PatchError(DocsyncError):
    """A patch was refused as a whole; nothing of it was applied."""


class UnknownModelError(PatchError):
    """A patch refers to a model id the document does not hold."""


class UnknownPropertyError(PatchError):
    """A patch refers to a property the model does not have."""


class NotWritableError(PatchError):
    """A client patch sets a property the model does not let browsers change."""


class ConfigurationError(DocsyncError):
    """The ``DOCSYNC`` setting is invalid."""
