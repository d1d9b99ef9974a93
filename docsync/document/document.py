"""The Document: roots, an index of every reachable model, events and callbacks."""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any, Protocol

from ..exceptions import PatchError
from ..serialization import Buffer, Encoder
from .callbacks import CallbackKind, SessionCallback
from .collections import TrackedDict, TrackedList
from .events import (
    DocumentEvent,
    MessageSentEvent,
    ModelChangedEvent,
    RootAddedEvent,
    RootRemovedEvent,
    TitleChangedEvent,
)
from .footprint import FootprintLedger
from .model import Model
from .patching import DocumentLimits, apply_events
from .properties import Property, models_in
from .pulled import PulledDocument
from .shares import DocumentShare
from .value_depth import check_message
from .wire import DecodedPatch, decode_patch, model_definition, parse_document

__all__ = ["DEFAULT_MAX_UPLOAD_BYTES", "CallbackScheduler", "Document"]

#: How many callback errors a document keeps until the server reads them.
_KEPT_CALLBACK_ERRORS = 10
#: Message data that nests no deeper than a level: not measured (an int is: past 64 bits, refused).
_FLAT_DATA = frozenset({bool, float, str, type(None)})

logger = logging.getLogger("docsync.document")

Subscriber = Callable[[DocumentEvent], None]


def _snapshot(value: Any) -> Any:
    """Return a plain copy of a tracked list or dict, any other value as it is."""
    if isinstance(value, TrackedList):
        return list(value)
    if isinstance(value, TrackedDict):
        return dict(value)
    return value


class CallbackScheduler(Protocol):
    """What the server gives a document so that its callbacks get scheduled."""

    def callback_added(self, callback: SessionCallback) -> None: ...

    def callback_removed(self, callback: SessionCallback) -> None: ...


#: The upload limit of a document made without one (DOCSYNC["MAX_UPLOAD_BYTES"]'s default).
DEFAULT_MAX_UPLOAD_BYTES = 32 * 1024 * 1024


class Document:
    """A title, ordered roots, and every model reachable from them, indexed by id."""

    __slots__ = (
        "__weakref__",
        "_callbacks",
        "_departed",
        "_held",
        "_held_definitions",
        "_hold_depth",
        "_ledger",
        "_message_callbacks",
        "_models",
        "_models_view",
        "_roots",
        "_scheduler",
        "_self_ref",
        "_subscribers",
        "_title",
        "callback_errors",
        "max_upload_bytes",
        "pending_coroutines",
        "session_context",
        "upload_share",
    )

    def __init__(self, *, title: str = "docsync", max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES) -> None:
        self._title = title
        #: Most bytes that uploads to this document's FileInputs may hold at once.
        self.max_upload_bytes = max_upload_bytes
        self._roots: list[Model] = []
        self._models: dict[str, Model] = {}
        # One read-only view, made once: ``models`` is read several times per patch (a
        # proxy made per call cost ~1.3k instructions each), and one object lets a caller
        # tell the document's models from a mapping standing for them by identity.
        self._models_view: Mapping[str, Model] = MappingProxyType(self._models)
        self._subscribers: list[Subscriber] = []
        self._held: list[DocumentEvent] = []
        # For each held event that attached models: their values when it happened.
        # (None while no held event attached models: most documents never hold one.)
        self._held_definitions: dict[int, list[tuple[Model, dict[str, Any]]]] | None = None
        self._hold_depth = 0
        self._callbacks: dict[int, SessionCallback] = {}
        self._scheduler: CallbackScheduler | None = None
        # (None until a handler is added: most documents take no client messages.)
        self._message_callbacks: dict[str, list[Callable[[MessageSentEvent], Any]]] | None = None
        # Made on first use (by the checks of client changes): kept up to date from then on.
        self._ledger: FootprintLedger | None = None
        # Models that left the document, by id, for as long as something (the application)
        # still holds them: made when the first one leaves.
        self._departed: weakref.WeakValueDictionary[str, Model] | None = None
        # One shared weak reference serves as every model's back-link.
        self._self_ref = weakref.ref(self)
        #: Coroutines returned by async callbacks, for the server to await.
        self.pending_coroutines: list[Any] = []
        #: Errors user callbacks raised (logged already), for the server to tell the page about.
        self.callback_errors: list[BaseException] = []
        #: What application code may see of its session (set by the server), or None.
        self.session_context: Any = None
        #: The share of the client that made the session, which its uploads in progress
        #: count against too (set by the server), or None.
        self.upload_share: DocumentShare | None = None

    # -- title and roots ------------------------------------------------------------

    @property
    def title(self) -> str:
        """The document's title."""
        return self._title

    @title.setter
    def title(self, title: str) -> None:
        self.set_title(title)

    def set_title(self, title: str, setter: Any = None) -> None:
        """Change the title, recording who changed it."""
        if not isinstance(title, str):
            raise TypeError(f"title must be a string, got {title!r:.60}")
        if title != self._title:
            self._title = title
            self._notify(TitleChangedEvent(title, setter))

    @property
    def roots(self) -> tuple[Model, ...]:
        """The root models, in order."""
        return tuple(self._roots)

    def _new_index(self, models: dict[str, Model]) -> None:
        """Index the document's models in a new dict (a pull, a restore), with its view.

        A new dict, not the old one refilled: a view of the models taken before (a
        caller's ``held``) keeps the models it was taken of.
        """
        self._models = models
        self._models_view = MappingProxyType(models)

    @property
    def models(self) -> Mapping[str, Model]:
        """Every model reachable from the roots, by id (read-only)."""
        return self._models_view

    def add_root(self, model: Model, setter: Any = None) -> None:
        """Add ``model`` (and all it references) as a root."""
        if not isinstance(model, Model):
            raise TypeError(f"a root must be a Model, got {model!r:.60}")
        if model in self._roots:
            return
        new_models = self._attach([model])
        self._roots.append(model)
        self._notify(RootAddedEvent(model, setter, new_models))

    def remove_root(self, model: Model, setter: Any = None) -> None:
        """Remove root ``model``; models no longer reachable leave the index."""
        self._roots.remove(model)
        departed = self._recompute()
        self._notify(RootRemovedEvent(model, setter, departed=departed))

    def clear(self) -> None:
        """Remove every root."""
        for root in list(self._roots):
            self.remove_root(root)

    def get_model_by_id(self, model_id: str) -> Model | None:
        """Return the model with id ``model_id``, or None."""
        return self._models.get(model_id)

    def departed_model(self, model_id: str) -> Model | None:
        """The model of id ``model_id`` that left the document and is still held elsewhere, or None.

        An application keeps models it hides (a view swapped out of a layout) and may put
        them back: a client's model under that id would make that fail.
        """
        if self._departed is None or model_id in self._models:
            return None
        return self._departed.get(model_id)

    def model_held(self, model_id: str) -> bool:
        """Whether the model of id ``model_id`` is in the document, or left it and is still held elsewhere."""
        return model_id in self._models or (self._departed is not None and model_id in self._departed)

    def get_model_by_name(self, name: str) -> Model | None:
        """Return the first model named ``name``, or None."""
        for model in self._models.values():
            if model._values.get("name") == name:
                return model
        return None

    def select(self, name: str) -> list[Model]:
        """Return every model named ``name``."""
        return [m for m in self._models.values() if m._values.get("name") == name]

    # -- index ----------------------------------------------------------------------

    def _attach(self, start: Iterable[Model]) -> list[Model]:
        """Index every model reachable from ``start`` that is new; return the new ones."""
        attached: list[Model] = []
        stack = list(start)
        models = self._models
        try:
            while stack:
                model = stack.pop()
                known = models.get(model._id)
                if known is model:
                    continue
                if known is not None:
                    raise ValueError(f"two models share the id {model._id!r}")
                owner = model.document
                if owner is not None and owner is not self:
                    raise ValueError(f"{model!r} already belongs to another document")
                model._document = self._self_ref
                models[model._id] = model
                attached.append(model)
                stack.extend(model.references())
        except ValueError:
            for model in attached:
                model._document = None
                del models[model._id]
            raise
        if self._ledger is not None:
            self._ledger.attached(attached)
        return attached

    def _recompute(self) -> tuple[str, ...]:
        """Drop models no longer reachable from the roots (linear in the models); return their ids."""
        reachable: set[str] = set()
        stack: list[Model] = list(self._roots)
        while stack:
            model = stack.pop()
            if model._id in reachable:
                continue
            reachable.add(model._id)
            stack.extend(model.references())
        departed = tuple([i for i in self._models if i not in reachable])
        for model_id in departed:
            model = self._models.pop(model_id)
            model._document = None
            if self._departed is None:
                self._departed = weakref.WeakValueDictionary()
            self._departed[model_id] = model
            if self._ledger is not None:
                self._ledger.detached(model)
        return departed

    def _model_changed(self, event: Any, prop: Property, removed: Any, added: Any) -> None:
        """Keep the index in step with a change, then report the event."""
        if prop.may_hold_models:
            if added is not None:
                event.new_models = self._attach(models_in(added))
            if removed is not None and any(True for _ in models_in(removed)):
                # Noted on the event: a patch must not define again a model it detached (Sequencer._record).
                event.departed = self._recompute()
        # (``_notify``, inline: one call fewer per change; every change of a model comes here.)
        if self._ledger is not None:
            self._ledger.changed(event.model)
        if self._hold_depth:
            self._hold(event)
            return
        for subscriber in self._subscribers:
            subscriber(event)

    # -- events ---------------------------------------------------------------------

    def on_change(self, subscriber: Subscriber) -> None:
        """Call ``subscriber(event)`` for every change of this document."""
        # Copied on write, never changed in place: a delivery loops over the list it
        # started with (a subscriber may come or go meanwhile) without copying it per event.
        self._subscribers = [*self._subscribers, subscriber]

    def reports_only_to(self, subscriber: Subscriber) -> bool:
        """Tell whether ``subscriber`` is the only one told of this document's changes."""
        return self._subscribers == [subscriber]

    def remove_on_change(self, subscriber: Subscriber) -> None:
        """Stop reporting changes to ``subscriber``."""
        subscribers = list(self._subscribers)
        subscribers.remove(subscriber)
        self._subscribers = subscribers

    def hold(self) -> None:
        """Batch change reports until :meth:`unhold`; repeated sets of a property merge.

        Held events are reported as they would have been without the hold: each
        carries the values of its time, and a model it attached is defined (by
        ``model_definition``, while the event is being reported) as it was then.
        """
        self._hold_depth += 1

    def unhold(self) -> None:
        """Report the changes batched since :meth:`hold`."""
        if self._hold_depth == 0:
            return
        self._hold_depth -= 1
        if self._hold_depth == 0:
            held, self._held = self._held, []
            definitions, self._held_definitions = self._held_definitions, None
            for event in held:
                frozen = definitions.get(id(event), ()) if definitions else ()
                for model, values in frozen:
                    model._frozen_values = values
                try:
                    self._deliver(event)
                finally:
                    for model, _ in frozen:
                        model._frozen_values = None

    def _footprint_ledger(self) -> FootprintLedger:
        """Return the ledger of the models' footprints, made (and filled) on first use."""
        if self._ledger is None:
            self._ledger = FootprintLedger()
            self._ledger.attached(self._models.values())
        return self._ledger

    def _notify(self, event: DocumentEvent) -> None:
        if self._ledger is not None and event.property_key() is not None:
            self._ledger.changed(event.model)  # type: ignore[attr-defined]
        if self._hold_depth:
            self._hold(event)
            return
        for subscriber in self._subscribers:  # (``_deliver``, inline: one call fewer per change)
            subscriber(event)

    def _hold(self, event: DocumentEvent) -> None:
        key = event.property_key()
        if isinstance(event, ModelChangedEvent) and key is not None:
            # A whole new value supersedes the held changes of the same property, but
            # only where no model comes or goes: other held events may name those.
            if not event.model.lookup(event.attr).may_hold_models:
                self._merge_held(event, key)
            # The new value may be edited in place before delivery; those edits are
            # held as events of their own, so this one must carry the value as set.
            event.new = _snapshot(event.new)
        if event.new_models:
            # Definitions are read when the event is reported: keep the models' values
            # of now, as later held events change them again.
            if self._held_definitions is None:
                self._held_definitions = {}
            self._held_definitions[id(event)] = [
                (model, {attr: _snapshot(value) for attr, value in model._values.items()}) for model in event.new_models
            ]
        self._held.append(event)

    def _merge_held(self, event: ModelChangedEvent, key: tuple[str, str]) -> None:
        """Drop the held changes of ``key`` by ``event``'s setter that ``event`` supersedes.

        Of a model that judges values by its other values, only those made since another
        of its properties was last changed: the new value is reported after that change,
        and a receiver judges each change against those reported before it (a
        MultiChoice's value, set under a max_items set before it, must not be reported
        under the max_items of before the hold).
        """
        held = self._held
        judged = event.model._refines
        dropped: list[int] = []
        for index in range(len(held) - 1, -1, -1):
            held_key = held[index].property_key()
            if held_key == key:
                if held[index].setter == event.setter:
                    dropped.append(index)
            elif judged and held_key is not None and held_key[0] == key[0]:
                break
        if not dropped:
            return
        earliest = held[dropped[-1]]
        if isinstance(earliest, ModelChangedEvent):
            event.old = earliest.old
        gone = set(dropped)
        self._held = [e for i, e in enumerate(held) if i not in gone]

    def _deliver(self, event: DocumentEvent) -> None:
        for subscriber in self._subscribers:
            subscriber(event)

    # -- messages -------------------------------------------------------------------

    def send_message(self, msg_type: str, msg_data: Any = None, *, model: Model | None = None) -> None:
        """Send an application-defined message to every client (ValidationError: too deep, an int too wide)."""
        if type(msg_data) not in _FLAT_DATA:
            check_message(msg_type, msg_data)
        self._notify(MessageSentEvent(msg_type, msg_data, model))

    def on_message(self, msg_type: str, callback: Callable[[MessageSentEvent], Any]) -> None:
        """Call ``callback(event)`` when a client sends a message of ``msg_type``."""
        if self._message_callbacks is None:
            self._message_callbacks = {}
        self._message_callbacks.setdefault(msg_type, []).append(callback)

    def message_callbacks(self, msg_type: str) -> tuple[Callable[[MessageSentEvent], Any], ...]:
        """The handlers of client messages of ``msg_type``."""
        return tuple(self._message_callbacks.get(msg_type, ())) if self._message_callbacks else ()

    def accepts_message(self, msg_type: str) -> bool:
        """Tell whether a handler waits for client messages of ``msg_type``."""
        return self._message_callbacks is not None and msg_type in self._message_callbacks

    def _message_received(self, event: MessageSentEvent) -> None:
        if event.model is not None:
            event.model._trigger_event(event)
        for callback in self.message_callbacks(event.msg_type):
            try:
                result = callback(event)
            except Exception as exc:
                logger.exception("error in message callback %r", callback)
                self.callback_failed(exc)
                continue
            if result is not None and hasattr(result, "__await__"):
                self.pending_coroutines.append(result)

    # -- callbacks ------------------------------------------------------------------

    def callback_failed(self, exc: BaseException) -> None:
        """Note that a user callback raised ``exc`` (the server tells the page); keeps the last few."""
        self.callback_errors.append(exc)
        del self.callback_errors[:-_KEPT_CALLBACK_ERRORS]

    def _add_callback(
        self, callback: Callable[[], Any], kind: CallbackKind, delay: float, locked: bool
    ) -> SessionCallback:
        entry = SessionCallback(callback, kind, delay, locked)
        self._callbacks[entry.id] = entry
        if self._scheduler is not None:
            self._scheduler.callback_added(entry)
        return entry

    def add_next_tick_callback(self, callback: Callable[[], Any], *, locked: bool = True) -> SessionCallback:
        """Run ``callback`` once, as soon as possible."""
        return self._add_callback(callback, "next_tick", 0.0, locked)

    def add_timeout_callback(
        self, callback: Callable[[], Any], timeout_milliseconds: float, *, locked: bool = True
    ) -> SessionCallback:
        """Run ``callback`` once, after the timeout."""
        return self._add_callback(callback, "timeout", timeout_milliseconds / 1000, locked)

    def add_periodic_callback(
        self, callback: Callable[[], Any], period_milliseconds: float, *, locked: bool = True
    ) -> SessionCallback:
        """Run ``callback`` every period until removed."""
        if period_milliseconds <= 0:
            raise ValueError(f"period must be positive, got {period_milliseconds}")
        return self._add_callback(callback, "periodic", period_milliseconds / 1000, locked)

    def remove_callback(self, callback: SessionCallback) -> None:
        """Remove a callback added by one of the ``add_*_callback`` methods."""
        if self._callbacks.pop(callback.id, None) is not None and self._scheduler is not None:
            self._scheduler.callback_removed(callback)

    remove_periodic_callback = remove_timeout_callback = remove_next_tick_callback = remove_callback

    @property
    def callbacks(self) -> tuple[SessionCallback, ...]:
        """The callbacks registered and not yet removed."""
        return tuple(self._callbacks.values())

    def callback_done(self, callback: SessionCallback) -> None:
        """Forget a one-shot callback that has run (called by the scheduler)."""
        self._callbacks.pop(callback.id, None)

    def set_callback_scheduler(self, scheduler: CallbackScheduler | None) -> None:
        """Hand the callbacks, present and future, to ``scheduler``."""
        self._scheduler = scheduler
        if scheduler is not None:
            for entry in tuple(self._callbacks.values()):
                scheduler.callback_added(entry)

    # -- JSON -----------------------------------------------------------------------

    def to_json(self, *, encoder: Encoder | None = None) -> tuple[dict[str, Any], list[tuple[str, Buffer]]]:
        """Return the document JSON and the buffers its arrays travel in."""
        encoder = encoder or Encoder()
        models = [model_definition(model, encoder) for model in self._models.values()]
        roots = [{"id": root.id} for root in self._roots]
        return {"title": self._title, "roots": roots, "models": models}, encoder.buffers

    @classmethod
    def from_json(
        cls,
        data: Any,
        buffers: Mapping[str, Buffer] | None = None,
        *,
        max_array_elements: int = 100_000_000,
    ) -> Document:
        """Build a document from document JSON and its buffers, checking everything."""
        title, _, roots = parse_document(data, buffers or {}, max_array_elements=max_array_elements)
        document = cls(title=title)
        for root in roots:
            document.add_root(root)
        return document

    def replace_with_json(
        self,
        data: Any,
        buffers: Mapping[str, Buffer] | None = None,
        *,
        setter: Any = None,
        from_client: bool = False,
        allow_structure: bool = True,
        max_models: int | None = None,
        max_array_elements: int = 100_000_000,
        limits: DocumentLimits | None = None,
    ) -> None:
        """Replace title and roots with those of document JSON (PUSH-DOC), keeping callbacks.

        Every model is built anew (a client's pull keeps the models it shares: ``update_from_json``).
        All or nothing, as a patch that removes every root, sets the title and adds the
        new roots: from a client, under every rule such a patch obeys (client structure,
        ``max_models`` models at most, references, cycles, ``limits``).
        """
        definitions = data.get("models") if type(data) is dict else None
        if max_models is not None and type(definitions) is list and len(definitions) > max_models:
            # Counted before any is built (each definition is one model): building 100,000
            # to refuse them held the session's lock for a quarter of a second.
            raise PatchError(f"too many models: {len(definitions)} > {max_models}")
        title, models, roots = parse_document(data, buffers or {}, max_array_elements=max_array_elements)
        if max_models is not None and len(models) > max_models:
            raise PatchError(f"too many models: {len(models)} > {max_models}")
        events: list[DocumentEvent] = [RootRemovedEvent(root, setter) for root in self._roots]
        if title != self._title:
            events.append(TitleChangedEvent(title, setter))
        events += [RootAddedEvent(root, setter) for root in roots]
        apply_events(
            self,
            events,
            setter=setter,
            new_models=models,
            from_client=from_client,
            allow_structure=allow_structure,
            limits=limits,
            pushed=True,
        )

    def update_from_json(
        self,
        data: Any,
        buffers: Mapping[str, Buffer] | None = None,
        *,
        setter: Any = None,
        max_array_elements: int = 100_000_000,
    ) -> None:
        """Make the document hold document JSON in place, keeping each model of the same id and type (a pull).

        All or nothing. Kept models take the pulled values; the changes are then reported
        as a patch's are (``PulledDocument``); callbacks stay.
        """
        pulled = PulledDocument.read(self, data, buffers or {}, setter=setter, max_array_elements=max_array_elements)
        pulled.apply()
        pulled.report()

    def decode_patch(
        self,
        content: Any,
        buffers: Mapping[str, Buffer] | None = None,
        *,
        setter: Any = None,
        max_array_elements: int = 100_000_000,
        skip_unknown: bool = False,
        keep_known: bool = False,
    ) -> DecodedPatch:
        """Decode PATCH-DOC content against this document, without applying it.

        ``skip_unknown``: leave out (and count) events naming models not held here.
        ``keep_known``: skip definitions of models held here (the server's corrections).
        """
        return decode_patch(
            content,
            self._models,
            buffers or {},
            setter=setter,
            max_array_elements=max_array_elements,
            skip_unknown=skip_unknown,
            keep_known=keep_known,
        )

    def apply_patch(
        self,
        patch: DecodedPatch | list[DocumentEvent],
        *,
        setter: Any = None,
        from_client: bool = False,
        allow_structure: bool = True,
        max_models: int | None = None,
        limits: DocumentLimits | None = None,
    ) -> None:
        """Apply events atomically: if any is refused (PatchError), none is applied."""
        if isinstance(patch, DecodedPatch):
            events, new_models = patch.events, patch.new_models
        else:
            events, new_models = patch, {}
        apply_events(
            self,
            events,
            setter=setter,
            new_models=new_models,
            from_client=from_client,
            allow_structure=allow_structure,
            max_models=max_models,
            limits=limits,
        )

    # -- teardown -------------------------------------------------------------------

    def destroy(self) -> None:
        """Drop every callback, subscriber and model so the memory is freed at once."""
        for entry in tuple(self._callbacks.values()):
            self.remove_callback(entry)
        self._scheduler = None
        for model in self._models.values():
            model.clear_callbacks()
            model._document = None
        for coroutine in self.pending_coroutines:
            coroutine.close()
        self.pending_coroutines.clear()
        self._models.clear()
        self._roots.clear()
        self._subscribers = []
        self._message_callbacks = None
        self._held.clear()
        self._held_definitions = None
        self._ledger = None
