"""How large a Bokeh document's pull is, kept per model, and how much a client's patch would add.

The same bound as docsync's own documents (docs/protocol.md §11): a client's patch that
would leave the document over ``MAX_DOCUMENT_BYTES`` and bigger than before is refused
before anything applies. The estimate is kept per model: a change marks its model, and
only marked models are measured again, when the next client patch is checked (in its
worker thread, never on the event loop). A patch's growth is measured from what it
carries and the values it replaces, never from the whole document. The application's
own changes are not bounded (as in docsync's dialect): it may build a document over the
bound, and a client's change that does not grow such a document is still accepted. The
documents of one client's sessions together are bounded the same way
(``MAX_DOCUMENT_BYTES_PER_CLIENT``, docsync/document/shares.py): a patch counts the
document at its size after it, an estimate never short of it (at most the values the
patch replaces over, until the session's next client patch measures it again).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import numpy as np
import orjson
from bokeh.core.has_props import HasProps
from bokeh.core.serialization import Serializer
from bokeh.document.events import ColumnsPatchedEvent, ColumnsStreamedEvent
from bokeh.model import Model

from ..document import DocumentShare
from ..exceptions import PatchError
from .compat import model_table

__all__ = ["ClientModels", "DocumentFootprint", "measure", "model_size"]

#: A model's definition besides its type name, id and attributes (``{"type":"object","name":,"id":,...}``).
_MODEL_OVERHEAD = 48
#: A reference to a model besides its id: ``{"id":""}``.
_REFERENCE = 10
#: An array besides its bytes (``{"type":"ndarray","array":,"order":,"dtype":,"shape":}``, a buffer's header).
_ARRAY_OVERHEAD = 128
#: A pull's header frame, the content's keys, the version, the roots list's brackets.
_PULL_OVERHEAD = 512
#: The longest JSON text of a number (``-1.2345678901234567e-308``).
_NUMBER = 24
#: A dict's encoding besides its entries: ``{"type":"map","entries":[]}``.
_MAP = 32
_SCALARS = (bool, int, float, type(None))


def _base64(nbytes: int) -> int:
    # A reconnecting tab's pull carries arrays inline, as base64 (session.py): the larger form.
    return (nbytes + 2) // 3 * 4


def measure(value: Any, *, wide: bool = False) -> int:
    """Estimate ``value``'s bytes in a pull: its JSON text, an array as base64, a model as a reference.

    Never short of Bokeh's encoding: orjson writes the value as Bokeh's JSON writer does,
    except a dict, which Bokeh writes as a longer ``{"type":"map","entries":[[k,v],...]}``:
    counted so where one is (a list whose JSON holds no ``{`` holds no dict). ``wide``:
    an array at its longest, as numbers (streamed into a list column it becomes numbers).
    """
    if isinstance(value, dict):
        return _MAP + sum(measure(key, wide=wide) + measure(item, wide=wide) + 3 for key, item in value.items())
    extra = 0

    def default(obj: Any) -> Any:
        nonlocal extra
        if isinstance(obj, Model):
            # A reference: the model itself is counted once, as a model of the document.
            extra += len(obj.id) + _REFERENCE
            return None
        if isinstance(obj, np.ndarray):
            extra += max(_base64(obj.nbytes), _NUMBER * obj.size if wide else 0) + _ARRAY_OVERHEAD
            return None
        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, bytes | bytearray | memoryview):
            extra += _base64(memoryview(obj).nbytes) + _ARRAY_OVERHEAD
            return None
        if isinstance(obj, set | frozenset):  # {"type":"set","entries":[...]}
            extra += measure(list(obj)) + _MAP
            return None
        if isinstance(obj, HasProps):  # a value model (not a Model): written inline
            extra += _MODEL_OVERHEAD + len(obj.__qualified_model__) + measure(obj.properties_with_values())
            return None
        # Anything else as Bokeh writes it (its representation holds no object orjson refuses twice).
        return Serializer(deferred=False).encode(obj)

    try:
        text = orjson.dumps(value, default=default, option=orjson.OPT_NON_STR_KEYS)
    except (orjson.JSONEncodeError, TypeError):
        # Nested deeper than orjson goes (an app's value): Bokeh's own encoding, measured slowly.
        return len(json.dumps(Serializer(deferred=False).encode(value), default=repr))
    if isinstance(value, list | tuple) and b"{" in text:
        return 2 + sum(measure(item, wide=wide) + 1 for item in value)  # it may hold dicts: item by item
    return len(text) + extra


def model_size(model: Any) -> int:
    """Estimate a model's definition's bytes in a pull (its set properties, as Bokeh writes them)."""
    values = model.properties_with_values(include_defaults=False)
    return _MODEL_OVERHEAD + len(model.__qualified_model__) + len(model.id) + measure(values)


class ClientModels:
    """How many models clients have created in one document, at most ``limit`` (``MAX_CLIENT_MODELS``).

    Bokeh remembers the id of every model that ever left a document, for the session's
    life: without this count a client adding and removing models would grow that set
    (and the document's churn) without end, under the size bound.
    """

    __slots__ = ("code", "created", "limit", "unjournaled")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.created = 0
        #: Ids of the code models clients defined or changed (at most the document's models and
        #: ``limit`` more): no code of theirs lets a browser change what a widget offers (offered.py).
        self.code: set[str] = set()
        #: What was added since the journal last took it (``journaled``): (code ids, models created).
        self.unjournaled: tuple[list[str], int] = ([], 0)

    def check(self, count: int) -> None:
        """Refuse (PatchError) ``count`` more models if they would pass the limit."""
        if count and self.created + count > self.limit:
            raise PatchError(f"too many models created by clients: at most {self.limit}")

    def add(self, created: int, code: set[str]) -> None:
        """Count ``created`` models a client's patch defines, and the ids of the code models it writes."""
        new = code - self.code if code else ()
        if created or new:
            self.created += created
            self.code.update(new)
            ids, count = self.unjournaled
            ids.extend(new)  # each id once: it stays in ``code``
            self.unjournaled = (ids, count + created)

    def journaled(self) -> tuple[list[str], int]:
        """What was added since the last call (a transaction's journal record carries it: persistence.py)."""
        taken, self.unjournaled = self.unjournaled, ([], 0)
        return taken

    def restored(self, code: set[str], created: int) -> None:
        """Take back what clients had written before the session was restored (their saved ids)."""
        self.code |= code
        self.created += created


class DocumentFootprint:
    """One Bokeh document's estimated pull size, and the check of a client's patch against ``limit``.

    Built when first needed (a session no client grows never measures its document);
    then the document's changes mark their models (``changed``), measured again by the
    next ``refresh`` (streams and cell patches are counted from their rows: ``_count_rows``).
    Use only holding the session's lock.
    """

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.built = False
        self._sizes: dict[str, int] = {}
        self._models_total = 0
        self._dirty: set[str] = set()
        self._drift: dict[str, int] = {}  # bytes counted but maybe not there (see _count_rows)
        self._table: Any = None  # the document's model table last reconciled with ``_sizes``
        self._extra = 0  # the title and the roots list
        #: The document's part of what the client that made its session may hold (None: not counted).
        self.share: DocumentShare | None = None
        self._counting: tuple[int, int] | None = None  # (before, after) of the patch last checked

    @property
    def total(self) -> int:
        """The document's estimated pull size as of the last ``refresh``."""
        return self._models_total + self._extra

    def changed(self, event: Any) -> None:
        """Note a document event of any origin: its model is measured again by the next refresh."""
        model = getattr(event, "model", None)
        if not self.built or model is None:
            return
        model_id = model.id
        size = self._sizes.get(model_id)
        rows = isinstance(event, ColumnsStreamedEvent | ColumnsPatchedEvent)
        if rows and size is not None and model_id not in self._dirty:
            self._count_rows(model_id, size, event)
            return
        self._dirty.add(model_id)
        if len(self._dirty) > len(self._sizes) + 1000:
            # Ids of models since removed pile up (an app that makes and drops models and
            # no client patch checked meanwhile): measure everything anew when next needed.
            self.built = False
            self._dirty.clear()

    def _count_rows(self, model_id: str, size: int, event: Any) -> None:
        # Rows streamed or cells patched are counted from the event, not by measuring the
        # columns again (a 1M-row list column takes a Python walk), at their longest.
        # Rows a rollover drops and cells replaced are not subtracted: once what was so
        # counted passes an eighth of the model's size, the model is measured again
        # (amortised: a stream or a patch costs about eight times its own measure).
        streamed = isinstance(event, ColumnsStreamedEvent)
        if streamed and any(isinstance(column, np.ndarray) for column in event.data.values()):
            # Bokeh makes a list column an array when an array is streamed into it (every
            # row changes size): measured again, which an array column makes cheap.
            self._dirty.add(model_id)
            return
        grown = measure(event.data if streamed else event.patches, wide=True)
        drift = self._drift.get(model_id, 0) + grown
        if drift * 8 > size:
            self._drift.pop(model_id, None)
            self._dirty.add(model_id)
            return
        self._drift[model_id] = drift
        self._sizes[model_id] = size + grown
        self._models_total += grown

    def refresh(self, document: Any) -> None:
        """Measure the models changed (or added) since the last refresh; forget those removed."""
        table = model_table(document)
        if not self.built:
            self._sizes.clear()
            self._drift.clear()
            self._models_total = 0
            self._table = None
            self._dirty = set(table)
            self.built = True
        elif table is not self._table or len(table) != len(self._sizes):
            # The document's set of models changed (Bokeh makes its table anew then).
            for gone in self._sizes.keys() - table.keys():
                self._models_total -= self._sizes.pop(gone)
                self._drift.pop(gone, None)
            self._dirty.update(table.keys() - self._sizes.keys())
        self._table = table
        for model_id in self._dirty:
            model = table.get(model_id)
            if model is None:
                continue
            size = model_size(model)
            self._models_total += size - self._sizes.get(model_id, 0)
            self._sizes[model_id] = size
            self._drift.pop(model_id, None)
        self._dirty.clear()
        self._extra = (
            _PULL_OVERHEAD + measure(document.title) + sum(len(root.id) + _REFERENCE for root in document.roots)
        )

    def check(self, document: Any, new_models: list[Any], events: list[dict[str, Any]]) -> None:
        """Refuse (PatchError) a patch that would grow the document over its limit, or its client's over their share."""
        share = self.share
        self._counting = None
        if (self.limit is None and share is None) or (not new_models and _replaces_scalars(events)):
            return  # a slider's, a checkbox's: a number for a number cannot grow the document
        self.refresh(document)
        before = self.total
        limit = self.limit
        upper = before + _growth(document, new_models, events, credit=False)
        if (limit is None or upper <= limit) and (share is None or share.fits(upper)):
            self._counting = (before, upper)
            return  # even counting no value it replaces: the values replaced go unmeasured
        growth = _growth(document, new_models, events, credit=True)
        after = before + growth
        if limit is not None and growth > 0 and after > limit:
            raise PatchError(f"document too large: {after} > {limit} bytes")
        if share is not None and growth > 0 and not share.fits(after):
            share.count(before, after)  # refused, with the client's count in its words
        self._counting = (before, after)

    def count(self) -> None:
        """Count the size the last ``check`` passed against the client's share (the patch applies next).

        Checked again: another session of the client may have grown meanwhile, in another thread.
        """
        counting, self._counting = self._counting, None
        if counting is not None and self.share is not None:
            self.share.count(*counting)


def _replaces_scalars(events: list[dict[str, Any]]) -> bool:
    for event in events:
        if event["kind"] != "ModelChanged" or type(event["new"]) not in _SCALARS:
            return False
        if type(_current(event["model"], event["attr"])) not in _SCALARS:
            return False
    return True


def _current(model: Any, attr: str) -> Any:
    try:
        return getattr(model, attr)
    except Exception:  # a property with no value yet (Bokeh raises): nothing to replace
        return None


def _growth(document: Any, new_models: Iterable[Any], events: list[dict[str, Any]], *, credit: bool) -> int:
    """How many bytes the patch adds to the document's pull (at least: never short of it).

    ``credit``: less the values it replaces (measured: as long as they are); without, an
    upper bound from what the patch carries alone.
    """
    grown = sum(model_size(model) for model in new_models)  # as the patch defines them
    # A value's size as the patch leaves it so far: a second change of one property
    # replaces the first's value, not the document's (no credit counted twice).
    now: dict[tuple[int, str], int] = {}

    def replace(key: tuple[int, str], old: Any, new: Any) -> int:
        if not credit:
            return measure(new)
        before = now[key] if key in now else measure(old)
        now[key] = after = measure(new)
        return after - before

    for event in events:
        kind = event["kind"]
        if kind in ("ModelChanged", "ColumnDataChanged"):
            model, attr = event["model"], event["attr"]
            new = event["new"] if kind == "ModelChanged" else event["data"]
            grown += replace((id(model), attr), _current(model, attr), new)
        elif kind == "TitleChanged":
            grown += replace((id(document), "title"), document.title, event["title"])
        elif kind == "ColumnsStreamed":
            # Rows a rollover drops are not credited: a stream counts whole.
            grown += measure(event["data"], wide=True)
        elif kind == "ColumnsPatched":
            # Nor are the cells a patch replaces: its new values count whole.
            grown += measure(event["patches"], wide=True)
        elif kind == "RootAdded":
            grown += len(event["model"].id) + _REFERENCE
    return grown
