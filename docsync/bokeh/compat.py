"""Where docsync relies on Bokeh's internals: each use version-gated and tested.

Bokeh's server runs all user code on one thread; docsync runs sync callbacks in
worker threads, so the few process-wide states Bokeh keeps for "the current
document" are made per thread (and per asyncio task) here. Serializing a model skips
the defaults it leaves out (``install_lean_serialization``: the same JSON, several
times faster), checked against the installed Bokeh's own in tests/bokeh/. A model makes
its empty default lists and dicts when they are first used rather than when it is built
(``install_lean_models``: a session's document is about a fifth smaller). A value the
application writes deeper than a pull can write is refused before it changes anything
(``install_value_depth_bound``).
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import gzip
import io
import sys
import weakref
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import bokeh
import bokeh.io.doc
import bokeh.model.util
import numpy as np
from bokeh.core.has_props import HasProps
from bokeh.core.property.bases import Property
from bokeh.core.property.descriptors import PropertyDescriptor, UnsetValueError
from bokeh.core.property.singletons import Intrinsic, Undefined
from bokeh.core.property.wrappers import PropertyValueColumnData, PropertyValueContainer
from bokeh.core.serialization import Deserializer
from bokeh.document.events import ColumnsPatchedEvent, ColumnsStreamedEvent
from bokeh.settings import settings as bokeh_settings
from bokeh.util.serialization import make_id
from packaging.version import Version

from ..exceptions import PatchError, ValueTooDeepError
from .value_depth import MAX_VALUE_DEPTH, TYPED_LEVELS, nests_deeper

__all__ = [
    "CLIENT_NDARRAY_DTYPES",
    "MAX_VALUE_DEPTH",
    "SUPPORTED",
    "BoundedDeserializer",
    "check_complete",
    "check_version",
    "decoded_models",
    "destroy_document",
    "forget_modules",
    "give_new_id",
    "install_lean_models",
    "install_lean_serialization",
    "install_thread_safe_curdoc",
    "install_value_depth_bound",
    "is_server_id",
    "lifecycle_hook",
    "message_callbacks",
    "model_table",
    "no_python_callbacks",
    "patch_calls_python",
    "set_session_context",
]

#: The Bokeh releases this package was written and tested against.
SUPPORTED = (Version("3.9"), Version("3.10"))


def check_version() -> None:
    """Refuse a Bokeh release whose internals this package was not checked against."""
    version = Version(bokeh.__version__)
    low, high = SUPPORTED
    if not (low <= version < high):
        raise ImportError(f"docsync's Bokeh support needs bokeh>={low},<{high}; bokeh {version} is installed")


class _PatchedCurdocs:
    """A stand-in for ``bokeh.io.doc._PATCHED_CURDOCS`` whose stack is per thread and task.

    ``patch_curdoc`` appends and pops; ``curdoc()`` reads ``len`` and ``[-1]``. With one
    list for the process, two sessions' callbacks running at once in two worker
    threads would see each other's document.
    """

    def __init__(self) -> None:
        self._stack: contextvars.ContextVar[tuple[weakref.ReferenceType[Any], ...]] = contextvars.ContextVar(
            "docsync_bokeh_curdocs", default=()
        )

    def append(self, ref: weakref.ReferenceType[Any]) -> None:
        self._stack.set((*self._stack.get(), ref))

    def pop(self) -> weakref.ReferenceType[Any]:
        stack = self._stack.get()
        self._stack.set(stack[:-1])
        return stack[-1]

    def __len__(self) -> int:
        return len(self._stack.get())

    def __getitem__(self, index: int) -> weakref.ReferenceType[Any]:
        return self._stack.get()[index]


def install_thread_safe_curdoc() -> None:
    """Make ``curdoc()`` inside callbacks name the calling thread's (or task's) document."""
    if not isinstance(bokeh.io.doc._PATCHED_CURDOCS, _PatchedCurdocs):
        bokeh.io.doc._PATCHED_CURDOCS = _PatchedCurdocs()  # type: ignore[assignment]


def destroy_document(document: Any, receiver: Any) -> None:
    """Free a session's document as ``Document.destroy`` does, without its ``gc.collect()``.

    A full collection per destroyed session blocks the event loop for every session
    (tens of milliseconds with a few apps loaded); the cycles are freed by the
    collector's normal runs instead.
    """
    document.remove_on_change(receiver)
    document.callbacks.destroy()
    document.models.destroy()
    forget_modules(document)


def forget_modules(document: Any) -> None:
    """Take the modules a script app made for ``document`` out of ``sys.modules``, as ``modules.destroy()`` does.

    Bokeh's own also calls ``gc.get_referrers`` on each module, only to log a warning:
    a walk over every object of the process, on the event loop (~30 ms per destroyed
    session with Django and Bokeh loaded, every session stalled meanwhile).
    """
    manager = document.modules
    modules: list[ModuleType] = list(manager._modules)
    for module in modules:
        if sys.modules.get(module.__name__) is module:
            del sys.modules[module.__name__]
    manager._modules = []


def set_session_context(document: Any, session_context: Any) -> None:
    """Give ``document`` its session context, as Bokeh's own server does (a private weak reference)."""
    document._session_context = weakref.ref(session_context)


def give_new_id(model: Any) -> None:
    """Give ``model`` an id of this process (a restored model made by another process; Bokeh's ids are read-only)."""
    model._id = make_id()


def is_server_id(model_id: str) -> bool:
    """Tell whether ``model_id`` has the form of Bokeh's server ids, which clients may not take.

    Bokeh's simple ids (its default) are ``p`` and a process-wide counter that every pull
    shows: a client defining a model under a number the counter has not reached made the
    application's next model share its id (the browsers then resolve the application's
    model to the client's), and one under a number missing from the ids it sees, a model
    the application made but shows later. BokehJS names its own models otherwise (uuids;
    ``j`` and a number in its dev mode). With ``BOKEH_SIMPLE_IDS=no`` ids are uuids.
    """
    if not bokeh_settings.simple_ids() or not model_id.startswith("p"):
        return False
    number = model_id[1:]
    return len(number) > 0 and number.isascii() and number.isdigit()


#: The dtypes of the ndarrays Bokeh and BokehJS write (``NDDataType``, and the 64-bit
#: integers BokehJS may send): the only ones a client's ndarray may name.
CLIENT_NDARRAY_DTYPES = frozenset(
    {"bool", "uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64", "float32", "float64", "object"}
)


class BoundedDeserializer(Deserializer):
    """Bokeh's ``Deserializer`` for a client's message, bounded in what that message makes it allocate.

    Bokeh's reads ``{"type": "bytes", "data": <str>}`` as ``gzip.decompress`` of its
    base64, without bound: a 1 MiB frame inflated to 1 GiB in the server process. It
    takes an ndarray's ``dtype`` as numpy does: ``"(25000000,)f8"`` filled 200 MB per
    item of a list. And it makes every model a message defines before anything counts them:
    a 16 MiB frame defines some 400,000. Here a message inflates at most ``max_inflated``
    bytes, an ndarray's dtype is one Bokeh writes, and ``check_models(n)`` is asked before
    the message's ``n``-th new model is made; past any bound the message is refused
    (PatchError) with nothing applied. Overrides Bokeh's private ``_decode_bytes``,
    ``_decode_ndarray`` and ``_decode_object_ref`` (tests/hardening/test_hostile_bokeh_bombs.py).

    Nor may its values nest deeper than ``MAX_VALUE_DEPTH`` as a pull writes them
    (value_depth.py counts them): a plain JSON object is one level on the wire and three
    in the pull (Bokeh writes every dict as a map), so 85 of them nested, well within a
    frame's 128 levels, left a document no pull could encode (orjson's 255 levels), and
    every tab opening the session was closed with 1011. A ``number``'s value is a string or a number: Bokeh
    passed anything else on undecoded (``_decode`` and ``_decode_number`` overridden;
    tests/hardening/test_hostile_bokeh_values.py).
    """

    def __init__(
        self,
        references: Any,
        *,
        setter: Any,
        max_inflated: int,
        check_models: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__(references, setter=setter)
        self.max_inflated = max_inflated
        self._inflate_left = max_inflated
        self._check_models = check_models
        self._new_models = 0
        self._depth = 0  # JSON levels, as a pull writes them, of the value being decoded

    def _decode(self, obj: Any) -> Any:
        if isinstance(obj, list):
            levels = 1
        elif isinstance(obj, dict):
            kind = obj.get("type")
            if kind is None and "type" not in obj:
                levels = 0 if "id" in obj else 3  # a reference; a plain object, written as a map
            else:
                levels = TYPED_LEVELS.get(kind, 0) if isinstance(kind, str) else 0
        else:
            return obj
        self._depth += levels
        try:
            if self._depth > MAX_VALUE_DEPTH:
                raise PatchError(f"value nested deeper than {MAX_VALUE_DEPTH} JSON levels (as Bokeh writes it)")
            return super()._decode(obj)
        except KeyError as exc:
            # Bokeh reads a typed value's fields by key: the KeyError's text was the field alone.
            missing = exc.args[0] if exc.args else None
            if isinstance(obj, dict) and isinstance(missing, str) and missing not in obj:
                kind = str(obj.get("type"))[:40]
                raise PatchError(f'missing field {missing!r:.40} in a {{"type": "{kind}"}} value') from exc
            raise
        finally:
            self._depth -= levels

    def _decode_number(self, obj: Any) -> Any:
        value = obj.get("value") if isinstance(obj, dict) else None
        if not isinstance(value, str | int | float):
            raise PatchError(f"invalid number {value!r:.40}")
        return super()._decode_number(obj)

    def _decode_bytes(self, obj: Any) -> Any:
        data = obj.get("data") if isinstance(obj, dict) else None
        if not isinstance(data, str):
            return super()._decode_bytes(obj)
        packed = base64.b64decode(data)  # as Bokeh's (no larger than its frame)
        # Read one byte past what is left, never more: a gzip bomb stops there.
        with gzip.GzipFile(fileobj=io.BytesIO(packed)) as file:
            inflated = file.read(self._inflate_left + 1)
        if len(inflated) > self._inflate_left:
            raise PatchError(f"compressed bytes inflate past {self.max_inflated} bytes in one patch")
        self._inflate_left -= len(inflated)
        return inflated

    def _decode_ndarray(self, obj: Any) -> Any:
        dtype = obj.get("dtype") if isinstance(obj, dict) else None
        if not isinstance(dtype, str) or dtype not in CLIENT_NDARRAY_DTYPES:
            raise PatchError(f"ndarray dtype not allowed: {dtype!r:.40}")
        return super()._decode_ndarray(obj)

    def _decode_object(self, obj: Any) -> Any:
        # Bokeh decodes no object but a model (one with an id): its NotImplementedError had no text.
        name = obj.get("name") if isinstance(obj, dict) else None
        raise PatchError(f"an object without an id is not a model: {name!r:.40}")

    def _decode_object_ref(self, obj: Any) -> Any:
        model_id = obj.get("id") if isinstance(obj, dict) else None
        if not isinstance(model_id, str):
            # Bokeh made a model of any id (a number, None: a new id); a number then
            # failed docsync's checks as an AttributeError, logged as the app's.
            raise PatchError(f"a model's id is a string, got {model_id!r:.40}")
        if model_id not in self._references:  # Bokeh makes it
            if is_server_id(model_id):  # refused anyway: said first, as before
                raise PatchError(f"model id {model_id!r:.40} is reserved for the server's own models")
            self._new_models += 1
            if self._check_models is not None:
                self._check_models(self._new_models)
        depth, self._depth = self._depth, 2  # its object and attributes, wherever the pull writes it
        try:
            return super()._decode_object_ref(obj)
        finally:
            self._depth = depth


def check_complete(model: Any) -> None:
    """Refuse (PatchError) a model a client defined without a value for a property that has no default.

    Bokeh makes it so (a ``Slider`` with no ``start``), and every serialization of it
    then fails: docsync's checks raised UnsetValueError (answered ``callback error``,
    a traceback logged as the app's), and where none reads it first, every pull would.
    """
    try:
        model.properties_with_values(include_defaults=False)  # what a pull reads
    except UnsetValueError as exc:
        raise PatchError(f"incomplete model: {str(exc)[:160]}") from exc


def decoded_models(deserializer: Any, document: Any) -> list[Any]:
    """The models a Bokeh ``Deserializer`` made from a message's definitions (not ``document``'s own)."""
    models = document.models
    return [model for model in deserializer._references.values() if model.id not in models]


def model_table(document: Any) -> dict[str, Any]:
    """The document's models by id: Bokeh's own table, made anew whenever its set of models changes."""
    return document.models._models  # type: ignore[no-any-return]


def patch_calls_python(document: Any, events: Any, receiver: Any) -> bool:
    """Tell whether applying a client's patch ``events`` (its JSON) may call the app's Python code.

    False only when it surely calls none: every event a property change to a plain value
    (no model, list or dict in it) of a model of ``document`` with no Python ``on_change``
    callback for that property, and the document has no ``on_change`` callback but
    ``receiver``'s (the session's own). Anything else may: a thread applies it.
    """
    if not isinstance(events, list) or any(key is not receiver for key in document.callbacks._change_callbacks):
        return True
    models = document.models
    for event in events:
        if not isinstance(event, dict) or event.get("kind") != "ModelChanged":
            return True
        target, attr = event.get("model"), event.get("attr")
        model_id = target.get("id") if isinstance(target, dict) else None
        model = models.get_by_id(model_id) if isinstance(model_id, str) else None
        if model is None or not isinstance(event.get("new"), str | int | float | bool | None):
            return True
        if not isinstance(attr, str) or model._callbacks.get(attr):
            return True
    return False


@contextlib.contextmanager
def no_python_callbacks(document: Any, models: list[Any]) -> Iterator[None]:
    """Run the body with no ``on_change`` callback of ``models`` or of ``document`` called (a restore)."""
    kept = [(model, model._callbacks) for model in models]
    kept_document = document.callbacks._change_callbacks
    for model in models:
        model._callbacks = {}
    document.callbacks._change_callbacks = {}
    try:
        yield
    finally:
        for model, callbacks in kept:
            model._callbacks = callbacks
        document.callbacks._change_callbacks = kept_document


def lifecycle_hook(app: Any, name: str) -> Callable[..., Any] | None:
    """Function ``name`` of a directory app's ``app_hooks.py`` (Bokeh keeps its module on the lifecycle handler)."""
    for handler in app.handlers if app is not None else ():
        module = getattr(getattr(handler, "_lifecycle_handler", None), "_module", None)
        hook = getattr(module, name, None)
        if callable(hook):
            return hook  # type: ignore[no-any-return]
    return None


def message_callbacks(document: Any, msg_type: str) -> tuple[Callable[[Any], Any], ...]:
    """The ``on_message`` callbacks ``document`` holds for ``msg_type`` (Bokeh keeps no public accessor)."""
    return tuple(document.callbacks._message_callbacks.get(msg_type, ()))


_original_query = HasProps.query_properties_with_values


def _query_properties_with_values(
    self: HasProps,
    query: Callable[[Any], bool],
    *,
    include_defaults: bool = True,
    include_undefined: bool = False,
) -> dict[str, Any]:
    """``HasProps.query_properties_with_values`` without computing defaults it then leaves out.

    Bokeh's computes the value of every property, its default included, before it checks
    whether the property was set (its own TODO says so): serializing a model built every
    default of every property. This returns the same dict, computing values only for
    the properties it returns, and for those without a default (so that an unset
    required property still raises). A session's first pull is 2-5 times faster.
    """
    if include_defaults:
        return _original_query(self, query, include_defaults=True, include_undefined=include_undefined)
    selected = set(self._property_values) | set(self._unstable_default_values)
    themed = self.themed_values()
    themed_keys = set(themed) if themed is not None else set()
    selected |= themed_keys
    result: dict[str, Any] = {}
    for key in self.properties(_with_props=True):
        descriptor = self.lookup(key)
        if not query(descriptor):
            continue
        if key not in selected and descriptor.property._default is not Undefined:
            continue
        try:
            value = descriptor.get_value(self)
        except UnsetValueError:
            if not include_undefined:
                raise
            value = Undefined
        else:
            if key not in selected:
                continue
            unchanged_container = isinstance(value, PropertyValueContainer) and key in self._unstable_default_values
            if unchanged_container and key not in themed_keys:
                continue
        result[key] = value
    return result


def install_lean_serialization() -> None:
    """Serialize Bokeh models without building the defaults of properties left out (see above)."""
    if HasProps.query_properties_with_values is _original_query:
        HasProps.query_properties_with_values = _query_properties_with_values  # type: ignore[method-assign]


# -- lean models: empty default containers made on first use ------------------------------

_original_init = HasProps.__init__
_original_visit = bokeh.model.util.visit_immediate_value_references
_LITERAL_CONTAINERS = (list, dict, set, tuple)
_lazy_by_class: dict[type, frozenset[str]] = {}


def _lazy_defaults(cls: type[HasProps]) -> frozenset[str]:
    """Properties of ``cls`` whose default is a container a model need not make until used.

    Bokeh copies such a default for every instance (``has_unstable_default``) and makes
    every copy when the model is built. Made on first use instead, each one reads and
    behaves the same, and serializes the same (an unchanged container is left out of
    the JSON either way); what is never used costs nothing. Only literal defaults that
    become Bokeh's watched containers qualify (a default made by a function, such as a
    ``Selection``, still runs at once), and of those holding references only empty ones
    (an empty container refers to no model).
    """
    lazy = _lazy_by_class.get(cls)
    if lazy is None:
        names = set()
        overridden = cls._overridden_defaults()
        for name in cls.properties(_with_props=True):
            descriptor = cls.lookup(name)
            prop = getattr(descriptor, "property", None)
            if prop is None or not prop._may_have_unstable_default():
                continue
            if not isinstance(overridden.get(name, prop._default), _LITERAL_CONTAINERS):
                continue
            made = descriptor.class_default(cls)
            if not isinstance(made, PropertyValueContainer) or (prop.has_ref and len(made) > 0):  # type: ignore[arg-type]
                continue
            names.add(name)
        lazy = _lazy_by_class[cls] = frozenset(names)
    return lazy


def _lean_init(self: HasProps, **properties: Any) -> None:
    """``HasProps.__init__`` leaving the defaults named by ``_lazy_defaults`` to be made on first use."""
    super(HasProps, self).__init__()
    self._property_values = {}
    self._unstable_default_values = {}
    self._unstable_themed_values = {}
    for name, value in properties.items():
        if value is Undefined or value is Intrinsic:
            continue
        setattr(self, name, value)
    lazy = _lazy_defaults(type(self))
    for name in self.properties(_with_props=True):
        if name in properties or name in lazy:
            continue
        descriptor = self.lookup(name)
        if descriptor.has_unstable_default(self):
            descriptor._get(self)  # made now, as Bokeh does: a default model gets its id in order
    self._initialized = True


def _unmade(model: HasProps, name: str) -> bool:
    """Whether ``name`` of ``model`` is a lazy default not made yet (so it refers to no model)."""
    if name in model._property_values or name in model._unstable_default_values:
        return False
    if name in model._unstable_themed_values:
        return False
    themed = model.themed_values()
    return (themed is None or name not in themed) and name in _lazy_defaults(type(model))


def _lean_visit(value: Any, visitor: Callable[[Any], None]) -> None:
    """Bokeh's reference walk, without making the lazy defaults it would only find empty."""
    if not isinstance(value, HasProps):
        _original_visit(value, visitor)
        return
    for name in value.properties_with_refs():
        if _unmade(value, name):
            continue
        bokeh.model.util.visit_value_and_its_immediate_references(getattr(value, name), visitor)


def install_lean_models() -> None:
    """Build Bokeh models without their empty default containers until they are used (see above)."""
    if HasProps.__init__ is _original_init:
        HasProps.__init__ = _lean_init  # type: ignore[method-assign,assignment]
        bokeh.model.util.visit_immediate_value_references = _lean_visit


# -- the application's values: no deeper than a pull can write ------------------------------

_original_prepare = Property.prepare_value
_original_notify_mutated = PropertyDescriptor._notify_mutated
_original_stream = PropertyValueColumnData._stream
_original_patch = PropertyValueColumnData._patch
_SCALARS = frozenset({str, int, float, bool, type(None)})
#: Hints of changes whose new rows or cells were measured before they were written.
_MEASURED = frozenset({ColumnsStreamedEvent, ColumnsPatchedEvent})
#: JSON levels between column data, as Bokeh writes it (a map), and a column's items.
_DATA, _IN_LIST, _IN_ARRAY = 3, 1, 2


def _too_deep(owner: Any, name: str) -> ValueTooDeepError:
    shown = owner if isinstance(owner, HasProps) else getattr(owner, "__name__", owner)
    why = f"value nested deeper than {MAX_VALUE_DEPTH} JSON levels (as Bokeh writes it)"
    return ValueTooDeepError(f"failed to validate {shown}.{name}: {why}")  # (Bokeh's own words around it)


def _prepare_value(self: Any, owner: Any, name: str, value: Any, *, hint: Any = None) -> Any:
    """``Property.prepare_value``, refusing (ValueTooDeepError) a value deeper than ``MAX_VALUE_DEPTH``."""
    value = _original_prepare(self, owner, name, value, hint=hint)
    if type(value) in _SCALARS or type(hint) in _MEASURED or not nests_deeper(value):
        return value
    raise _too_deep(owner, name)


def _notify_mutated(self: Any, obj: Any, old: Any, hint: Any = None) -> None:
    """``PropertyDescriptor._notify_mutated``; a container changed in place past the bound is put back first."""
    try:
        _original_notify_mutated(self, obj, old, hint=hint)
    except ValueTooDeepError:
        # Bokeh changed it, then asked: as it was (``old``, its copy), nothing reported.
        container = self.__get__(obj, type(obj))
        if isinstance(container, list):
            list.__setitem__(container, slice(None), old)
        elif isinstance(container, dict):
            dict.clear(container)
            dict.update(container, old)
        elif isinstance(container, set):
            set.clear(container)
            set.update(container, old)
        raise


def _stream(self: Any, doc: Any, source: Any, new_data: Any, rollover: Any = None, setter: Any = None) -> None:
    """``PropertyValueColumnData._stream``, its rows measured first (its columns are extended in place)."""
    for name, rows in new_data.items():
        # List rows joining an array: written as the array's items.
        into_array = isinstance(self.get(name), np.ndarray) and not isinstance(rows, np.ndarray)
        if nests_deeper(rows, at=_DATA + into_array):
            raise _too_deep(source, "data")
    _original_stream(self, doc, source, new_data, rollover, setter)


def _patch(self: Any, doc: Any, source: Any, patches: Any, setter: Any = None) -> None:
    """``PropertyValueColumnData._patch``, its cells measured first (its columns are written in place)."""
    for name, entries in patches.items():
        at = _DATA + (_IN_ARRAY if isinstance(self.get(name), np.ndarray) else _IN_LIST)
        for index, value in entries:
            if isinstance(index, slice):
                cells = value.tolist() if isinstance(value, np.ndarray) else list(value)
                deeper = nests_deeper(cells, at=at - _IN_LIST)
            else:  # a cell (or, of an array of arrays, a part of one: numbers)
                deeper = nests_deeper(value, at=at)
            if deeper:
                raise _too_deep(source, "data")
    _original_patch(self, doc, source, patches, setter)


def install_value_depth_bound() -> None:
    """Refuse an application's value deeper than a pull can write, before it changes anything (see above).

    Set whole, changed in place, streamed or patched: each reaches ``prepare_value``
    (after an in-place change, which is put back) or is measured before it is written.
    Without it a value ~85 dicts deep was stored, the change's own encoding raised in the
    application's callback, and every pull of the session failed (1011).
    """
    if Property.prepare_value is _original_prepare:
        Property.prepare_value = _prepare_value  # type: ignore[method-assign]
        PropertyDescriptor._notify_mutated = _notify_mutated  # type: ignore[method-assign]
        PropertyValueColumnData._stream = _stream  # type: ignore[method-assign]
        PropertyValueColumnData._patch = _patch  # type: ignore[method-assign]
