"""Bokeh's document JSON and events on docsync's frames: encode once, check, then apply.

docsync's Receiver and Message already frame messages exactly as Bokeh does (header,
metadata, content, then ``{"id"}``/payload pairs per buffer), so only the content is
Bokeh's: its serializer writes it, its deserializer reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
from bokeh.core.serialization import Buffer, Serialized, Serializer, UnknownReferenceError
from bokeh.document.events import ColumnDataChangedEvent, DocumentPatchedEvent, ModelChangedEvent
from bokeh.io.doc import patch_curdoc
from bokeh.models import ColumnDataSource

from ..exceptions import PatchError
from ..protocol import DEFAULT_MAX_MESSAGE_BYTES, Message, new_message
from ..protocol.msgtypes import PATCH_DOC, PULL_DOC_REPLY
from ..protocol.wire_json import right_sized
from ..serialization import frozen_buffer
from ..sync.patches import MAX_PATCH_EVENTS
from .attachments import Reattachments, check_attachments
from .client_html import check_client_html
from .client_rows import read_datetime_rows, widen_patched_columns
from .compat import BoundedDeserializer, check_complete, decoded_models, is_server_id, unsent_models
from .event_checks import check_events
from .footprint import ClientModels, DocumentFootprint
from .nesting import check_nesting
from .offered import check_offered
from .withdrawn import Withdrawals

__all__ = [
    "EncodedBokehEvent",
    "apply_client_patch",
    "document_content",
    "encode_event",
    "frozen_content",
    "patch_message",
    "pull_reply",
]


@dataclass(slots=True)
class EncodedBokehEvent:
    """A document event in Bokeh's wire form, frozen when it happened."""

    origin: Any  # the connection whose patch caused it (not echoed back to it), or None
    json: Any
    buffers: list[tuple[str, Any]]
    nbytes: int = 0  # its JSON's and buffers' size (the journal's bound counts it)
    #: The data sources whose data it replaced or which it brought in (``encode_event``'s ``track``).
    sources: tuple[Any, ...] = ()
    #: The ids of the models it defines (carries whole: first sent, or attached again).
    defines: tuple[str, ...] = ()


def _buffer_ref(obj: Any) -> Any:
    if isinstance(obj, Buffer):
        return obj.ref  # {"id": ...}: the payload travels as its own binary frame
    if isinstance(obj, np.generic):  # Bokeh leaves numpy scalars to its JSON encoder
        return obj.item()
    raise TypeError(f"cannot encode {type(obj).__name__}")


def _json_bytes(rep: Any) -> bytes:
    # Right-sized: a session's log keeps each event's (orjson keeps a 4 KiB buffer behind a short result).
    return right_sized(orjson.dumps(rep, default=_buffer_ref, option=orjson.OPT_PASSTHROUGH_DATACLASS))


def _frozen_json(rep: Any) -> orjson.Fragment:
    """Bokeh's representation as finished JSON, embedded as is in the message's content."""
    return orjson.Fragment(_json_bytes(rep))


def _as_bytes(data: Any) -> Any:
    # Bokeh hands out typed views (float64 items): ASGI servers that take views count
    # len(), so each is recast to a flat byte view (no copy) first.
    if isinstance(data, memoryview) and data.format != "B":
        # A view with a zero in its shape (an empty 2-D array) cannot be cast: its bytes are none.
        return data.cast("B") if data.c_contiguous and data.nbytes else data.tobytes()
    return data


def _buffers(serializer_buffers: list[Buffer]) -> list[tuple[str, Any]]:
    return [(str(buffer.id), _as_bytes(buffer.data)) for buffer in serializer_buffers]


def encode_event(document: Any, event: DocumentPatchedEvent, origin: Any, *, track: bool = False) -> EncodedBokehEvent:
    """Encode ``event`` now: models first referenced here travel with it, once.

    ``track``: note the data sources whose data the event replaced or which it brought
    in (a journal record names their datetime columns: datetime_columns.py).
    """
    serializer = Serializer(references=document.models.synced_references)
    before = unsent_models(document) if track else ()
    rep = serializer.encode(event)
    # (Most events bring no model: then Bokeh's set of those not sent yet is empty.)
    unsent = unsent_models(document)
    defines = tuple([model.id for model in unsent if serializer.has_ref(model)]) if unsent else ()
    document.models.flush_synced(lambda model: not serializer.has_ref(model))
    sources: tuple[Any, ...] = ()
    if track:
        brought: list[Any] = []
        if len(unsent_models(document)) < len(before):  # most events bring no model: no walk over the unsent
            brought = [m for m in before if isinstance(m, ColumnDataSource) and serializer.has_ref(m)]
        if isinstance(event, ColumnDataChangedEvent) or (isinstance(event, ModelChangedEvent) and event.attr == "data"):
            brought.append(event.model)
        sources = tuple(brought)
    data = _json_bytes(rep)
    # Bokeh's buffers view the arrays themselves: the app's own, which it may write into
    # after the change, while this event waits to be sent or journaled. An event must say
    # what the change was, so it owns its bytes (a frame's read-only bytes go as they are).
    buffers = [(buffer_id, frozen_buffer(view)) for buffer_id, view in _buffers(serializer.buffers)]
    nbytes = len(data) + sum(memoryview(b).nbytes for _, b in buffers)
    return EncodedBokehEvent(origin, orjson.Fragment(data), buffers, nbytes, sources, defines)


def frozen_content(rep: Any, serializer_buffers: list[Buffer]) -> tuple[orjson.Fragment, list[tuple[str, Any]]]:
    """``rep`` (Bokeh's representation) as finished JSON, and its buffers with bytes of their own."""
    # Bytes of their own, as encode_event's: the message may wait (persistence) while the app writes into its arrays.
    return _frozen_json(rep), [(buffer_id, frozen_buffer(view)) for buffer_id, view in _buffers(serializer_buffers)]


def patch_message(events: list[EncodedBokehEvent]) -> Message:
    """One PATCH-DOC carrying ``events`` (BokehJS applies them in order)."""
    buffers = [pair for event in events for pair in event.buffers]
    return new_message(PATCH_DOC, {"events": [event.json for event in events]}, buffers=buffers)


def document_content(document: Any) -> tuple[orjson.Fragment, list[tuple[str, Any]]]:
    """The whole document as Bokeh's JSON (finished), and its arrays as (id, bytes view) buffers."""
    serialized = document.to_json()
    return _frozen_json(serialized.content), _buffers(serialized.buffers)


def pull_reply(document: Any, reqid: str, *, inline: bool = False) -> Message:
    """PULL-DOC-REPLY: the whole document as Bokeh's JSON, arrays as binary buffers (``inline``: as base64)."""
    if inline:
        return new_message(PULL_DOC_REPLY, {"doc": _frozen_json(document.to_json(deferred=False))}, reqid=reqid)
    doc, buffers = document_content(document)
    return new_message(PULL_DOC_REPLY, {"doc": doc}, reqid=reqid, buffers=buffers)


def apply_client_patch(
    document: Any,
    message: Message,
    setter: Any,
    footprint: DocumentFootprint | None = None,
    client_models: ClientModels | None = None,
    client_html: bool = True,
    client_offers: bool | None = None,
    app_types: dict[str, str] | None = None,
    left_out: list[Any] | None = None,
    reattachments: Reattachments | None = None,
) -> bool:
    """Apply a client's PATCH-DOC (call holding the session lock; runs the app's callbacks).

    All-or-nothing: the patch is decoded and every property change checked before the
    first is applied, so a refused patch (PatchError) leaves the document as it was.
    Returns False when the patch was dropped because it names a model removed meanwhile
    (as Bokeh does: a change that crossed a removal on the wire). ``footprint``: the
    document's size, which the patch may not take over its limit; ``client_models``: the
    models clients created so far, which the patch's new models may not take over theirs;
    ``client_html``: False in a session other users see, where the patch may carry no HTML
    or code (client_html.py); ``client_offers``: whether the patch may change what a widget
    offers (None: where the app's own code names the property; offered.py); ``app_types``:
    the type the application built under each of its ids (persistence), which no new model
    of another type may take: a restore would take it for the application changed.
    ``left_out``: gets the events (as sent) left out for naming a model that the app's
    callback of an earlier event took out (withdrawn.py); the others are applied.
    ``reattachments``: the session's bucket of what put-backs send the other tabs, which a
    patch attaching a model the document holds may not take while it owes (attachments.py).
    """
    sent = message.content.get("events")
    if isinstance(sent, list) and len(sent) > MAX_PATCH_EVENTS:
        # Each event may run the app's callbacks, holding the session's lock: one 16 MiB
        # frame of slider changes held it for minutes, and made a PATCH-DOC for the other
        # tabs far past the message limit. As docsync's own dialect: at most 1,000.
        raise PatchError(f"too many events in one patch: {len(sent)} > {MAX_PATCH_EVENTS}")
    buffers = [Buffer(buffer_id, bytes(payload)) for buffer_id, payload in message.buffers]  # type: ignore[arg-type]
    # Compressed bytes inflate at most to what the document may hold (a pull carries them).
    limit = footprint.limit if footprint is not None and footprint.limit is not None else DEFAULT_MAX_MESSAGE_BYTES
    check_models = client_models.check if client_models is not None else None
    deserializer = BoundedDeserializer(
        list(document.models), setter=setter, max_inflated=limit, check_models=check_models
    )
    try:
        patch = deserializer.deserialize(Serialized(message.content, buffers))
    except UnknownReferenceError as exc:
        if document.models.seen(exc.id):
            return False
        raise PatchError(f"reference to unknown model {str(exc.id)[:60]}") from exc
    except PatchError:
        raise  # a bound the deserializer keeps (compat.BoundedDeserializer): its own words
    except Exception as exc:
        raise PatchError(f"bad patch: {str(exc)[:200] or type(exc).__name__}") from exc
    events = patch.get("events") if isinstance(patch, dict) else None
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        raise PatchError("a PATCH-DOC needs a list of events")
    new_models = decoded_models(deserializer, document)
    for model in new_models:
        if is_server_id(model.id):
            raise PatchError(f"model id {model.id!r:.40} is reserved for the server's own models")
        built = app_types.get(model.id) if app_types else None
        if built is not None and str(model.__qualified_model__) != built:
            # Ids of another shape than Bokeh's simple ones (BOKEH_SIMPLE_IDS=no: uuids).
            raise PatchError(f"model id {model.id!r:.40} is reserved for the application's {built:.40}")
    for model in new_models:
        check_complete(model)
    read_datetime_rows(events)
    check_events(events)
    if not client_html:
        check_client_html(events, new_models)
    written_code = check_offered(
        events, new_models, document, client_offers, client_models.code if client_models is not None else None
    )
    if client_models is not None:
        client_models.check(len(new_models))
    if footprint is not None:
        footprint.check(document, new_models, events)
    check_nesting(document, new_models, events)
    check_attachments(document, new_models, events, reattachments)
    if footprint is not None:
        footprint.count()  # the document against its client's share (checked again: another thread's patch)
    if client_models is not None:
        client_models.add(len(new_models), written_code)  # from here the patch applies

    # (A patch of one event runs no callback before it.)
    watch = Withdrawals(document, events, setter) if len(events) > 1 else None

    def apply() -> None:
        failed: BaseException | None = None
        for at, event in enumerate(events):
            if watch is not None:
                if watch.withdrawn and watch.names_withdrawn(event):
                    if left_out is not None:
                        left_out.append(sent[at])  # type: ignore[index]
                    continue
                watch.before(event)
            widen_patched_columns(event)
            try:
                DocumentPatchedEvent.handle_event(document, event, setter)
            except Exception as exc:
                # An app's callback raised (every event was checked before the first was
                # applied): its event is made, and so are the rest, as the sender made
                # them all. Stopping left the sender with changes no one else held.
                if failed is None:
                    failed = exc
        document.models.flush_synced(lambda model: not deserializer.has_ref(model))
        if failed is not None:
            raise failed

    if not watch:  # (nearly every patch: it names no model a callback could take out first)
        with patch_curdoc(document):
            apply()
        return True
    document.on_change(watch.changed)
    try:
        with patch_curdoc(document):
            apply()
    finally:
        document.remove_on_change(watch.changed)
    return True
