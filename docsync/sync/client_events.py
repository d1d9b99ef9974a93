"""What a client protocol reports to its adapter, and how a lost change is named."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..document import DocumentEvent, Model
from ..document import events as ev
from ..protocol import Message

__all__ = ["ChangesLost", "ClientEvent", "ErrorReported", "Live", "Reply", "Reset", "describe_change"]


@dataclass(frozen=True, slots=True)
class Live:
    """The document is live: pulled (``mode`` "pull"), or resumed ("replay" or "full").

    ``fresh`` is true when the server no longer had the session and made a new one;
    ``replayed`` counts the patches a replay brought.
    """

    mode: str
    seq: int
    fresh: bool = False
    replayed: int = 0


@dataclass(frozen=True, slots=True)
class Reset:
    """The server replaced the document (PUSH-DOC) at position ``seq``."""

    seq: int


@dataclass(frozen=True, slots=True)
class ChangesLost:
    """Local changes that were not kept, each named by ``describe_change``.

    ``reason``: "rejected" (they lost the convergence rule), "refused" (the server
    answered ERROR), "reset" (the document was reset before they were sent), "resync"
    (the document was pulled again before they were sent) or "too-large" (the server
    would have refused it for its size, and closed the connection: not sent, and the
    document pulled again). ``changes`` is empty when the server lost some of a patch's
    changes without saying which; ``text`` is the server's reason when it refused, and
    ``not sent: <the limit>`` when too large.
    """

    reason: str
    changes: tuple[str, ...]
    count: int
    text: str | None = None


@dataclass(frozen=True, slots=True)
class ErrorReported:
    """The server sent ERROR: to a request (``reqid``), or before closing (no ``reqid``)."""

    text: str
    code: str | None
    reqid: str | None
    msgtype: str | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """A reply to a request the adapter sent itself (the protocol does not own it)."""

    message: Message


ClientEvent = Live | Reset | ChangesLost | ErrorReported | Reply


def _label(model: Model) -> str:
    name = getattr(model, "name", None)
    return name if isinstance(name, str) and name else model.__type_name__


#: The events of one property of a model (most changes lost): named without the checks for the others.
_OF_A_PROPERTY = frozenset(
    {
        ev.ModelChangedEvent,
        ev.ColumnDataChangedEvent,
        ev.ColumnsStreamedEvent,
        ev.ColumnsPatchedEvent,
        ev.ListSplicedEvent,
        ev.DictItemsSetEvent,
        ev.DictItemsDeletedEvent,
    }
)


def describe_change(event: DocumentEvent) -> str:
    """Name what ``event`` changed, for a notice: ``"phase.value"``, ``"title"``, ``"roots"``."""
    if type(event) in _OF_A_PROPERTY:
        model: Any = event.model  # type: ignore[attr-defined]
        return f"{_label(model)}.{event.attr}" if model is not None else event.kind  # type: ignore[attr-defined]
    if isinstance(event, ev.TitleChangedEvent):
        return "title"
    if isinstance(event, ev.RootAddedEvent | ev.RootRemovedEvent):
        return "roots"
    if isinstance(event, ev.MessageSentEvent):
        return f"message {event.msg_type}"
    model = getattr(event, "model", None)
    attr = getattr(event, "attr", "")
    return f"{_label(model)}.{attr}" if model is not None else event.kind
