"""Documents of models: typed properties, change events, callbacks and patches.

Pure: no Django, Channels or networking here, and no ``async def``.
"""

from __future__ import annotations

from . import models as models  # registers the built-in model types by name
from .callbacks import SessionCallback
from .document import CallbackScheduler, Document
from .events import (
    ColumnDataChangedEvent,
    ColumnsPatchedEvent,
    ColumnsStreamedEvent,
    DictItemsDeletedEvent,
    DictItemsSetEvent,
    DocumentEvent,
    ListSplicedEvent,
    MessageSentEvent,
    ModelChangedEvent,
    RootAddedEvent,
    RootRemovedEvent,
    TitleChangedEvent,
)
from .integrity import DocumentLimits
from .model import Model
from .shares import ClientDocuments, DocumentShare, DocumentShares
from .wire import DecodedPatch, encode_events

__all__ = [
    "CallbackScheduler",
    "ClientDocuments",
    "ColumnDataChangedEvent",
    "ColumnsPatchedEvent",
    "ColumnsStreamedEvent",
    "DecodedPatch",
    "DictItemsDeletedEvent",
    "DictItemsSetEvent",
    "Document",
    "DocumentEvent",
    "DocumentLimits",
    "DocumentShare",
    "DocumentShares",
    "ListSplicedEvent",
    "MessageSentEvent",
    "Model",
    "ModelChangedEvent",
    "RootAddedEvent",
    "RootRemovedEvent",
    "SessionCallback",
    "TitleChangedEvent",
    "encode_events",
]
