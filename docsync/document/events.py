"""Document change events: what changed, and who changed it (the setter)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

__all__ = [
    "ColumnDataChangedEvent",
    "ColumnsPatchedEvent",
    "ColumnsStreamedEvent",
    "DictItemsDeletedEvent",
    "DictItemsSetEvent",
    "DocumentEvent",
    "ListSplicedEvent",
    "MessageSentEvent",
    "ModelChangedEvent",
    "RootAddedEvent",
    "RootRemovedEvent",
    "TitleChangedEvent",
]


class DocumentEvent:
    """Base of every change event; ``kind`` is its name on the wire."""

    __slots__ = ()
    kind: ClassVar[str] = ""
    setter: Any
    #: Models this change attached to the document (sent in full with the event).
    new_models: list[Any]
    #: Ids of the models this change detached from the document (none held them any more).
    departed: tuple[str, ...]

    def property_key(self) -> tuple[str, str] | None:
        """Return ``(model id, attr)`` of the property this event touches, if any."""
        model = getattr(self, "model", None)
        attr = getattr(self, "attr", None)
        if model is None or attr is None:
            return None
        return (model.id, attr)


@dataclass(slots=True, eq=False)
class ModelChangedEvent(DocumentEvent):
    """A property was given a whole new value."""

    kind: ClassVar[str] = "ModelChanged"
    model: Any
    attr: str
    old: Any
    new: Any
    setter: Any = None
    new_models: list[Any] = field(default_factory=list)
    departed: tuple[str, ...] = ()


@dataclass(slots=True, eq=False)
class ColumnDataChangedEvent(DocumentEvent):
    """Some columns of a data source were replaced."""

    kind: ClassVar[str] = "ColumnDataChanged"
    model: Any
    attr: str
    columns: dict[str, Any]
    setter: Any = None
    new_models: list[Any] = field(default_factory=list)
    departed: tuple[str, ...] = ()


@dataclass(slots=True, eq=False)
class ColumnsStreamedEvent(DocumentEvent):
    """Rows were appended to every column, keeping at most ``rollover`` rows."""

    kind: ClassVar[str] = "ColumnsStreamed"
    model: Any
    attr: str
    data: dict[str, Any]
    rollover: int | None = None
    setter: Any = None
    new_models: list[Any] = field(default_factory=list)
    departed: tuple[str, ...] = ()


@dataclass(slots=True, eq=False)
class ColumnsPatchedEvent(DocumentEvent):
    """Cells of columns were replaced, by index or by slice."""

    kind: ClassVar[str] = "ColumnsPatched"
    model: Any
    attr: str
    #: column name -> list of (int index or slice, value or values)
    patches: dict[str, list[tuple[Any, Any]]]
    setter: Any = None
    new_models: list[Any] = field(default_factory=list)
    departed: tuple[str, ...] = ()


@dataclass(slots=True, eq=False)
class ListSplicedEvent(DocumentEvent):
    """``delete`` items at ``index`` of a list property were replaced by ``items``."""

    kind: ClassVar[str] = "ListSpliced"
    model: Any
    attr: str
    index: int
    delete: int
    items: list[Any]
    setter: Any = None
    new_models: list[Any] = field(default_factory=list)
    departed: tuple[str, ...] = ()


@dataclass(slots=True, eq=False)
class DictItemsSetEvent(DocumentEvent):
    """Entries of a dict property were set."""

    kind: ClassVar[str] = "DictItemsSet"
    model: Any
    attr: str
    items: dict[Any, Any]
    setter: Any = None
    new_models: list[Any] = field(default_factory=list)
    departed: tuple[str, ...] = ()


@dataclass(slots=True, eq=False)
class DictItemsDeletedEvent(DocumentEvent):
    """Entries of a dict property (or columns of a data source) were deleted."""

    kind: ClassVar[str] = "DictItemsDeleted"
    model: Any
    attr: str
    keys: list[Any]
    setter: Any = None
    new_models: list[Any] = field(default_factory=list)
    departed: tuple[str, ...] = ()


@dataclass(slots=True, eq=False)
class RootAddedEvent(DocumentEvent):
    """A model became a root of the document."""

    kind: ClassVar[str] = "RootAdded"
    model: Any
    setter: Any = None
    new_models: list[Any] = field(default_factory=list)
    departed: tuple[str, ...] = ()


@dataclass(slots=True, eq=False)
class RootRemovedEvent(DocumentEvent):
    """A model stopped being a root of the document."""

    kind: ClassVar[str] = "RootRemoved"
    model: Any
    setter: Any = None
    new_models: list[Any] = field(default_factory=list)
    departed: tuple[str, ...] = ()


@dataclass(slots=True, eq=False)
class TitleChangedEvent(DocumentEvent):
    """The document title changed."""

    kind: ClassVar[str] = "TitleChanged"
    title: str
    setter: Any = None
    new_models: list[Any] = field(default_factory=list)
    departed: tuple[str, ...] = ()


@dataclass(slots=True, eq=False)
class MessageSentEvent(DocumentEvent):
    """A message: a UI event aimed at a model, or an application-defined message."""

    kind: ClassVar[str] = "MessageSent"
    msg_type: str
    msg_data: Any
    model: Any = None
    setter: Any = None
    new_models: list[Any] = field(default_factory=list)
    departed: tuple[str, ...] = ()


def _key_of_property(event: Any) -> tuple[str, str]:
    return (event.model._id, event.attr)


def _no_key(event: Any) -> None:
    return None


# Each class answers ``property_key`` without looking its fields up by name: it is
# asked for every change, by every subscriber.
_WITH_KEY: tuple[type[DocumentEvent], ...] = (
    ModelChangedEvent,
    ColumnDataChangedEvent,
    ColumnsStreamedEvent,
    ColumnsPatchedEvent,
    ListSplicedEvent,
    DictItemsSetEvent,
    DictItemsDeletedEvent,
)
for _cls in _WITH_KEY:
    setattr(_cls, "property_key", _key_of_property)  # noqa: B010
for _cls in (RootAddedEvent, RootRemovedEvent, TitleChangedEvent, MessageSentEvent):
    setattr(_cls, "property_key", _no_key)  # noqa: B010
