"""The reference model's own document: plain dicts of model id -> property -> value.

The reference (``reference.py``) replays every accepted event in the server's order on
this, not on a docsync ``Document``: what it needs of a document is written here from
docs/convergence.md and the apps' models alone.

- It holds the models its roots reach; a patch's events name models by id.
- A patch's accepted events are applied all at once, or none: one the document would
  refuse (a splice or a cell out of range, a key not there, a stream missing a column,
  a root added twice, a model neither held nor defined by the patch) refuses the patch.
- An event reports a change unless it changes nothing: a new value equal to the one
  held (floats by value and sign, lists item by item; a new dict always reports), the
  title it already has. Only what reports takes a place in the log (§1).
- A model a patch defines joins when an accepted event attaches it (a root added, a
  value referring to it), with its class's defaults for what its definition leaves out.

Values come from the patches' JSON through docsync's wire decoder (the format, not the
rule), model references as ``Ref``s. Nothing is changed in place: a changed value is a
new list, dict or array and a changed model a new record, so a copy of the document (a
trial of the replay) is a shallow one.
"""

from __future__ import annotations

import functools
import math
from typing import Any, NamedTuple

import numpy as np

from docsync.document import Model
from docsync.document.registry import model_class
from docsync.serialization import Decoder

from .harness import _value, sorted_items

__all__ = ["Change", "PlainDocument", "Record", "Ref", "Refused", "decode_change"]

#: A model's record: its type name and its values (every property, defaults included).
Record = tuple[str, dict[str, Any]]


class Ref(NamedTuple):
    """A reference to a model, by id."""

    id: str


class Refused(Exception):
    """The document refuses the patch as a whole."""


class Change:
    """One event of a patch, decoded: its kind, the model and property it changes, and its fields."""

    __slots__ = ("attr", "fields", "kind", "model", "source")

    def __init__(self, kind: str, model: str | None, attr: str | None, fields: dict[str, Any]) -> None:
        self.kind, self.model, self.attr, self.fields = kind, model, attr, fields
        #: The event as its patch had it, for one moved (``moved``); else itself.
        self.source: Change = self

    def moved(self, index: int, delete: int) -> Change:
        """This splice at another place (where the server put it)."""
        change = Change(self.kind, self.model, self.attr, {**self.fields, "index": index, "delete": delete})
        change.source = self.source
        return change


def _index(raw: Any) -> Any:
    if type(raw) is dict and raw.get("type") == "slice":
        return slice(raw.get("start"), raw.get("stop"), raw.get("step"))
    return raw


def decode_change(raw: dict[str, Any], decoder: Decoder) -> Change:
    """Decode one event of a patch's JSON."""
    kind = raw["kind"]
    target = raw.get("model")
    model = target["id"] if type(target) is dict else None
    attr = raw.get("attr")
    decode = decoder.decode
    if kind == "ModelChanged":
        new = raw["new"]
        return Change(kind, model, attr, {"new": new if type(new) in (str, float, int) else decode(new)})
    if kind == "ListSpliced":
        fields = {"index": raw["index"], "delete": raw["delete"], "items": decode(raw["items"])}
        return Change(kind, model, attr, fields)
    if kind == "DictItemsSet":
        return Change(kind, model, attr, {"items": decode(raw["items"])})
    if kind == "DictItemsDeleted":
        return Change(kind, model, attr, {"keys": [decoder.decode_key(k) for k in raw["keys"]]})
    if kind == "ColumnDataChanged":
        return Change(kind, model, attr, {"columns": {n: decode(v) for n, v in raw["columns"].items()}})
    if kind == "ColumnsStreamed":
        data = {n: decode(v) for n, v in raw["data"].items()}
        return Change(kind, model, attr, {"data": data, "rollover": raw.get("rollover")})
    if kind == "ColumnsPatched":
        patches = {n: [(_index(i), decode(v)) for i, v in entries] for n, entries in raw["patches"].items()}
        return Change(kind, model, attr, {"patches": patches})
    if kind == "TitleChanged":
        return Change(kind, None, None, {"title": raw["title"]})
    if kind in ("RootAdded", "RootRemoved", "MessageSent"):
        return Change(kind, model, None, {})
    raise AssertionError(f"the reference knows no event {kind!r}")


# -- values ------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A docsync value as this document holds it: plain lists and dicts, models as ``Ref``s."""
    if isinstance(value, Model):
        return Ref(value.id)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


@functools.cache
def _defaults(type_name: str) -> dict[str, Any]:
    """Every property of a model class with its default (no model made: that would take an id)."""
    return {attr: _plain(prop.default()) for attr, prop in model_class(type_name).properties().items()}


#: Types of values that refer to no model (most values: asked first, and skipped inside lists and dicts).
_LEAVES = frozenset({str, int, float, bool, type(None), np.ndarray})


def _refs(value: Any) -> list[str]:
    kind = type(value)
    if kind in _LEAVES:
        return []
    if kind is Ref:
        return [value.id]
    if kind is list or kind is tuple:
        if _LEAVES.issuperset(map(type, value)):  # (a list of strings or numbers, looked at in C)
            return []
        return [i for v in value if type(v) not in _LEAVES for i in _refs(v)]
    if kind is dict:
        if _LEAVES.issuperset(map(type, value.values())):
            return []
        return [i for v in value.values() if type(v) not in _LEAVES for i in _refs(v)]
    return []


_SCALARS = (bool, int, str, type(None))


def _unchanged(old: Any, new: Any) -> bool:
    """Tell whether ``new`` over ``old`` changes nothing a receiver could see."""
    if type(old) is float and type(new) is float:
        if math.isnan(old) or math.isnan(new):
            return math.isnan(old) and math.isnan(new)
        return old == new and math.copysign(1.0, old) == math.copysign(1.0, new)
    if type(old) in _SCALARS:
        return type(new) is type(old) and old == new
    if type(old) is list and type(new) is list:
        return len(old) == len(new) and all(map(_same_item, old, new))
    return type(old) is Ref and old == new


def _same_item(old: Any, new: Any) -> bool:
    if type(old) in _SCALARS or type(new) in _SCALARS or type(old) is float:
        return _unchanged(old, new)
    try:
        return bool(old == new)
    except (ValueError, TypeError):  # arrays compare element-wise: different
        return False


def _canonical(value: Any) -> Any:
    """``value`` in the harness's canonical form (``harness.canonical_document``)."""
    if isinstance(value, Ref):
        return ("ref", value.id)
    if type(value) is list:
        return [_canonical(v) for v in value]
    if type(value) is dict:
        return sorted_items([(_canonical(k), _canonical(v)) for k, v in value.items()])
    return _value(value)


# -- what each event does to a value -----------------------------------------------------


def _spliced(old: Any, fields: dict[str, Any]) -> list[Any]:
    index, delete = fields["index"], fields["delete"]
    if type(old) is not list or not (0 <= index <= len(old) and 0 <= delete <= len(old) - index):
        raise Refused(f"splice at {index} deleting {delete} out of range")
    return old[:index] + list(fields["items"]) + old[index + delete :]


def _deleted(old: Any, keys: list[Any]) -> dict[Any, Any]:
    new = dict(old)
    for key in keys:
        if key not in new:
            raise Refused(f"no key {key!r}")
        del new[key]
    return new


def _streamed(old: dict[str, Any], data: dict[str, Any], rollover: int | None) -> dict[str, Any]:
    """The columns with rows appended; with ``rollover``, only the last that many rows kept."""
    if set(data) != set(old):
        raise Refused("a stream must supply every column")
    if len({len(rows) for rows in data.values()}) > 1:
        raise Refused("streamed columns of different lengths")
    new = {}
    for name, rows in data.items():
        column = old[name]
        if isinstance(column, np.ndarray):
            joined: Any = np.concatenate((column, np.asarray(rows, dtype=column.dtype)))
        else:
            joined = list(column) + (rows.tolist() if isinstance(rows, np.ndarray) else list(rows))
        if rollover is not None and len(joined) > rollover:
            joined = joined[len(joined) - rollover :]
        new[name] = joined
    return new


def _patched(old: dict[str, Any], patches: dict[str, list[tuple[Any, Any]]]) -> dict[str, Any]:
    new = dict(old)
    for name, entries in patches.items():
        if name not in old:
            raise Refused(f"no column {name!r}")
        column = old[name]
        length = len(column)
        column = column.copy() if isinstance(column, np.ndarray) else list(column)
        for index, value in entries:
            if isinstance(index, slice):
                start, stop = index.start or 0, length if index.stop is None else index.stop
                if not (0 <= start <= stop <= length) or len(value) != len(range(*index.indices(length))):
                    raise Refused(f"slice {index} out of range of {name!r}")
                column[index] = value if isinstance(column, np.ndarray) else list(value)
            elif type(index) is int and 0 <= index < length:
                column[index] = value
            else:
                raise Refused(f"cell {index!r} out of range of {name!r}")
        new[name] = column
    return new


def _after(kind: str, old: Any, fields: dict[str, Any]) -> tuple[Any, bool]:
    """The value ``old`` becomes, and whether that is a change."""
    if kind == "ModelChanged":
        new = fields["new"]
        return new, not _unchanged(old, new)
    if kind == "ListSpliced":
        return _spliced(old, fields), True
    if type(old) is not dict:
        raise Refused(f"{kind} of a value that is no dict")
    if kind == "DictItemsSet":
        return {**old, **fields["items"]}, True
    if kind == "ColumnDataChanged":
        return {**old, **fields["columns"]}, True
    if kind == "DictItemsDeleted":
        return _deleted(old, fields["keys"]), True
    if kind == "ColumnsStreamed":
        return _streamed(old, fields["data"], fields["rollover"]), True
    if kind == "ColumnsPatched":
        return _patched(old, fields["patches"]), True
    raise AssertionError(f"the reference cannot apply {kind!r}")


# -- the document ------------------------------------------------------------------------


class PlainDocument:
    """A document as plain values: its title, its roots' ids, and a record per model it holds."""

    __slots__ = ("departed", "models", "moves", "roots", "title")

    def __init__(self, title: str, roots: list[str], models: dict[str, Record]) -> None:
        self.title, self.roots, self.models = title, roots, models
        #: The models the last ``apply`` let go, as they were when they left.
        self.departed: dict[str, Record] = {}
        #: Per change the last ``apply`` reported, the models it took out of the document
        #: and those it brought in (empty when no change took any model out).
        self.moves: list[tuple[frozenset[str], frozenset[str]]] = []

    @classmethod
    def from_json(cls, doc_json: dict[str, Any], buffers: dict[str, Any]) -> PlainDocument:
        """The document a PULL-DOC-REPLY carries (a run's first, as its clients pulled it)."""
        decoder = Decoder(buffers, resolve_ref=Ref)
        models = {}
        for definition in doc_json["models"]:
            name, attributes = definition["name"], definition.get("attributes", {})
            values = {attr: decoder.decode(value) for attr, value in attributes.items()}
            models[definition["id"]] = (name, {**_defaults(name), **values})
        roots = [root["id"] for root in doc_json["roots"]]
        return cls(doc_json["title"], roots, _reachable(models, roots))

    def copy(self) -> PlainDocument:
        return PlainDocument(self.title, list(self.roots), dict(self.models))  # (``departed``: the next apply's)

    def canonical(self) -> dict[str, Any]:
        """The form ``harness.canonical_document`` gives the same document."""
        models = {
            model_id: (name, {attr: _canonical(values[attr]) for attr in sorted(values)})
            for model_id, (name, values) in self.models.items()
        }
        return {"title": self.title, "roots": list(self.roots), "models": models}

    def apply(
        self, changes: list[Change], definitions: list[Any], decoder: Decoder, named: dict[str, Record] | None = None
    ) -> list[Change]:
        """Apply ``changes`` all at once (the models ``definitions`` define may join); return those that report.

        ``named``: models out of the document the patch may put back by reference, as
        they left it. Raises ``Refused``, the document unchanged, if any of them cannot apply.
        """
        self.moves = []  # (a patch refused leaves none: not those of the patch before)
        models, roots, title = dict(self.models), list(self.roots), self.title
        # The models the patch defines (or names back), until an accepted event attaches them.
        pending: dict[str, Record] = dict(named) if named else {}
        for definition in definitions:
            name, attributes = definition["name"], definition.get("attributes", {})
            decoded = {attr: decoder.decode(value) for attr, value in attributes.items()}
            pending[definition["id"]] = (name, {**_defaults(name), **decoded})

        def attach(ids: list[str]) -> None:
            while ids:
                model_id = ids.pop()
                if model_id in models:
                    continue
                if model_id not in pending:
                    raise Refused(f"reference to unknown model {model_id!r}")
                record = models[model_id] = pending.pop(model_id)
                ids.extend(i for value in record[1].values() for i in _refs(value))

        reported = []
        detached = False  # a root or a reference let go: what the roots reach is found again
        # What each change took out and brought in, found again after each change that
        # let a reference go or made one (the server's events say so, one by one).
        moves: list[tuple[frozenset[str], frozenset[str]]] = []
        none: frozenset[str] = frozenset()
        # Only a patch that removes a root or changes a layout's children can take a model
        # out (the apps' other models refer to none): the others are not followed.
        follow = False
        for change in changes:  # (a loop: per patch applied)
            if change.kind == "RootRemoved" or change.attr == "children":
                follow = True
                break
        live = frozenset(models) if follow else none
        for change in changes:
            kind, target = change.kind, change.model
            if kind == "TitleChanged":
                if change.fields["title"] != title:
                    title = change.fields["title"]
                    reported.append(change)
                    if follow:
                        moves.append((none, none))
            elif kind == "RootAdded":
                assert target is not None
                if target in roots:
                    raise Refused(f"{target} is already a root")
                attach([target])
                roots.append(target)
                reported.append(change)
                if follow:
                    now = frozenset(_reachable(models, roots))
                    moves.append((live - now, now - live))
                    live = now
            elif kind == "RootRemoved":
                if target not in roots:
                    raise Refused(f"{target} is not a root")
                roots.remove(target)
                detached = True
                reported.append(change)
                if follow:
                    now = frozenset(_reachable(models, roots))
                    moves.append((live - now, now - live))
                    live = now
            elif kind == "MessageSent":
                continue
            else:
                assert target is not None and change.attr is not None
                held = target in models
                if not held and target not in pending:
                    raise Refused(f"unknown model {target!r}")
                name, values = models[target] if held else pending[target]
                if change.attr not in values:
                    raise Refused(f"{name} has no property {change.attr!r}")
                old = values[change.attr]
                new, changed = _after(kind, old, change.fields)
                record = (name, {**values, change.attr: new})
                if held:
                    models[target] = record
                    refers = False
                    if type(new) not in _LEAVES:  # (a leaf refers to nothing: no call)
                        refs = _refs(new)
                        refers = bool(refs)
                        attach(refs)
                    lets_go = type(old) not in _LEAVES and bool(_refs(old))
                    detached = detached or lets_go
                    if changed:
                        reported.append(change)
                        if follow and (refers or lets_go):
                            now = frozenset(_reachable(models, roots))
                            moves.append((live - now, now - live))
                            live = now
                        elif follow:
                            moves.append((none, none))
                else:
                    pending[target] = record
        departed: dict[str, Record] = {}
        if detached:
            reached = _reachable(models, roots)
            departed = {i: r for i, r in models.items() if i not in reached}
            models = reached
        self.models, self.roots, self.title, self.departed = models, roots, title, departed
        self.moves = moves if follow and any(taken for taken, _ in moves) else []
        return reported


def _reachable(models: dict[str, Record], roots: list[str]) -> dict[str, Record]:
    """The models the roots reach."""
    reached: dict[str, Record] = {}
    stack = list(roots)
    while stack:
        model_id = stack.pop()
        if model_id not in reached:
            record = reached[model_id] = models[model_id]
            stack.extend(i for value in record[1].values() for i in _refs(value))
    return reached
