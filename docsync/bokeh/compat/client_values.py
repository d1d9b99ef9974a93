"""Bokeh's ``Deserializer`` bounded for a client's message, and the checks on the models a message defines."""

from __future__ import annotations

import base64
import gzip
import io
from collections.abc import Callable
from typing import Any

from bokeh.core.property.descriptors import UnsetValueError
from bokeh.core.serialization import Deserializer
from bokeh.settings import settings as bokeh_settings

from ...document.model import MAX_CLIENT_MODEL_ID_LENGTH
from ...exceptions import PatchError
from ..value_depth import MAX_VALUE_DEPTH, TYPED_LEVELS

__all__ = ["CLIENT_NDARRAY_DTYPES", "BoundedDeserializer", "check_complete", "decoded_models", "is_server_id"]


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
        order = obj.get("order")
        if order not in ("little", "big"):
            # Bokeh swaps the bytes of any order but its machine's: a typo read as "big".
            raise PatchError(f"ndarray order must be 'little' or 'big', got {order!r:.40}")
        array = super()._decode_ndarray(obj)
        shape = obj.get("shape")
        if not isinstance(shape, list) or tuple(shape) != array.shape:
            # Bokeh reshapes only to two or more dimensions: [[]] of shape [1] was a (1, 0)
            # array (its encoding failed), 3 items of shape [5] an array of 3.
            raise PatchError(f"ndarray of shape {shape!r:.40} holds {array.size} items as {array.shape}")
        return array

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
            if len(model_id) > MAX_CLIENT_MODEL_ID_LENGTH:  # a pull writes it at every reference
                raise PatchError(f"model id too long: {len(model_id)} > {MAX_CLIENT_MODEL_ID_LENGTH} characters")
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
