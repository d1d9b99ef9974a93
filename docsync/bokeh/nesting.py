"""How deeply a Bokeh document's pull can nest its models, bounded against what clients build.

Bokeh's document JSON writes each model inline where it is first met, inside its
referrer's attributes: a chain of models nests as deep as it is long. Bokeh's own
serializer recurses once per level (Python's recursion limit) and orjson writes at most
255 levels, so a client that chained ~80 Columns over a few patches (each patch's frame
is within the 128-level JSON bound) left a document no pull could encode: every new or
reconnecting tab of the session was closed with 1011. A client patch that attaches
models is refused when the document's nesting bound would pass ``MAX_NESTING`` and grow.

Nor may a client make a model its own descendant: Bokeh's Python side encodes a cycle
(as references), but BokehJS, loading such a document, never finished: every tab that
opened the session after a client made two Columns each other's child hung.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any, NamedTuple

import numpy as np
from bokeh.core.has_props import HasProps
from bokeh.model import Model

from ..exceptions import PatchError

__all__ = ["MAX_NESTING", "Shape", "check_nesting", "shape_of"]

#: The deepest a client may make the document's models nest, in JSON levels from a root
#: to the deepest model. A value a client sets nests at most 128 levels (its frame's
#: bound), so a pull stays within 3 + 64 + ~131 levels: under orjson's 255 and
#: Bokeh's recursion. Layouts nest about 3 levels per container.
MAX_NESTING = 64

_SCALARS = frozenset({str, int, float, bool, type(None), bytes})

#: JSON levels Bokeh's encoding of a container adds before its items: a list is an
#: array; a dict {"type": "map", "entries": [[key, value], ...]}; a set {"type": "set",
#: "entries": [...]}; an object ndarray {"type": "ndarray", "array": [...]}.
_LIST, _MAP, _SET, _NDARRAY = 1, 3, 2, 2


def _references(value: Any, level: int, out: list[tuple[Any, int]]) -> None:
    """Append (model, JSON level of its object below its referrer's) for each model ``value`` holds."""
    stack = [(value, level)]
    while stack:
        item, at = stack.pop()
        kind = type(item)
        if kind in _SCALARS:
            continue
        if isinstance(item, Model):
            out.append((item, at))
        elif kind is list or kind is tuple:
            stack.extend((x, at + _LIST) for x in item if type(x) not in _SCALARS)
        elif isinstance(item, dict):
            for key, x in item.items():
                stack.append((x, at + _MAP))
                if type(key) not in _SCALARS:
                    stack.append((key, at + _MAP))
        elif isinstance(item, set | frozenset):
            stack.extend((x, at + _SET) for x in item)
        elif isinstance(item, np.ndarray):
            if item.dtype == object:
                stack.extend((x, at + _NDARRAY) for x in item.ravel().tolist())
        elif isinstance(item, HasProps):  # a non-model object: {"type": "object", "attributes": {...}}
            stack.extend((getattr(item, name), at + 2) for name in _ref_names(type(item)))
        elif dataclasses.is_dataclass(item) and not isinstance(item, type):
            stack.extend((getattr(item, f.name), at + 2) for f in dataclasses.fields(item))
        elif isinstance(item, Iterable) and not isinstance(item, str | bytes | np.generic):
            stack.extend((x, at + _LIST) for x in item)


_REF_NAMES: dict[type, tuple[str, ...]] = {}


def _ref_names(kind: type) -> tuple[str, ...]:
    """The names of ``kind``'s properties that may hold models (Bokeh builds its dict anew per call)."""
    names = _REF_NAMES.get(kind)
    if names is None:
        names = _REF_NAMES[kind] = tuple(kind.properties_with_refs())  # type: ignore[attr-defined]
    return names


def _holds_model(value: Any) -> bool:
    found: list[tuple[Any, int]] = []
    _references(value, 0, found)
    return bool(found)


def _value(model: Any, name: str, fresh: bool) -> Any:
    """``model.name``, without making its default (Bokeh's getattr builds it, slowly) for a model the document holds.

    The document made every default that holds models when it collected its models (by
    getattr): such defaults are in Bokeh's tables; an absent one holds none.
    """
    if fresh:
        return getattr(model, name, None)
    for table in (model._property_values, model._unstable_themed_values, model._unstable_default_values):
        if name in table:
            return table[name]
    return None


class Shape(NamedTuple):
    """What a pull of a graph of models would be like: how deep it could nest, which models are on cycles."""

    nesting: int
    cyclic: dict[str, Any]  # model id -> model, for every model among its own descendants


def shape_of(
    models: Iterable[Any], overrides: dict[tuple[str, str], Any] | None = None, fresh: list[Any] | None = None
) -> Shape:
    """``models``' references: an upper bound of how many JSON levels any chain of them nests, and their cycles.

    Each model costs the deepest level at which it holds another; the bound is the
    costliest path, a cycle's models counted once each (the pull writes each model once).
    ``overrides``: (model id, property) -> the value a patch would set there; ``fresh``:
    models not in a document yet (their defaults are read by getattr), and models met
    along the way.
    """
    overrides = overrides or {}
    index: dict[str, int] = {}
    nodes: list[Any] = []
    for model in models:
        if model.id not in index:
            index[model.id] = len(nodes)
            nodes.append(model)
    known = len(nodes)  # past these: models not in the document (the patch's, those met along the way)
    if fresh:
        for model in fresh:
            if model.id not in index:
                index[model.id] = len(nodes)
                nodes.append(model)
    edges: list[list[int]] = []
    cost: list[int] = []
    i = 0
    while i < len(nodes):  # models met along the way (a default one, say) join as nodes
        model = nodes[i]
        found: list[tuple[Any, int]] = []
        for name in _ref_names(type(model)):
            key = (model.id, name)
            value = overrides[key] if key in overrides else _value(model, name, i >= known)
            _references(value, 2, found)  # attributes: {"attributes": {name: value}}
        targets = []
        deepest = 0
        for child, level in found:
            j = index.get(child.id)
            if j is None:
                j = index[child.id] = len(nodes)
                nodes.append(child)
            targets.append(j)
            deepest = max(deepest, level)
        edges.append(targets)
        cost.append(deepest)
        i += 1
    nesting, cyclic = _costliest_path(edges, cost)
    return Shape(nesting, {nodes[j].id: nodes[j] for j in cyclic})


def _costliest_path(edges: list[list[int]], cost: list[int]) -> tuple[int, list[int]]:
    """The costliest path and the nodes on cycles, by Tarjan's strongly connected components (iterative).

    A component costs its nodes' sum (a simple path meets each at most once).
    """
    count = len(edges)
    order = [-1] * count
    low = [0] * count
    on_stack = [False] * count
    stack: list[int] = []
    component = [-1] * count
    bound: list[int] = []  # per component, in the order found: successors first
    cyclic: list[int] = []
    counter = 0
    for start in range(count):
        if order[start] != -1:
            continue
        work = [(start, 0)]
        order[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack[start] = True
        while work:
            node, k = work[-1]
            if k < len(edges[node]):
                work[-1] = (node, k + 1)
                child = edges[node][k]
                if order[child] == -1:
                    order[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack[child] = True
                    work.append((child, 0))
                elif on_stack[child]:
                    low[node] = min(low[node], order[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == order[node]:
                members = []
                while True:
                    member = stack.pop()
                    on_stack[member] = False
                    component[member] = len(bound)
                    members.append(member)
                    if member == node:
                        break
                here = len(bound)
                below = 0
                for member in members:
                    for child in edges[member]:
                        if component[child] != here:
                            below = max(below, bound[component[child]])
                if len(members) > 1 or node in edges[node]:
                    cyclic.extend(members)
                bound.append(sum(cost[m] for m in members) + below)
    return max(bound, default=0), cyclic


def check_nesting(document: Any, new_models: list[Any], events: list[dict[str, Any]]) -> None:
    """Refuse (PatchError) a client patch that makes a cycle, or nests the document past ``MAX_NESTING`` and deeper."""
    overrides: dict[tuple[str, str], Any] = {}
    attaches = bool(new_models)
    for event in events:
        kind = event.get("kind")
        model = event.get("model")
        if kind == "ModelChanged" and isinstance(model, Model) and isinstance(event.get("attr"), str):
            overrides[(model.id, event["attr"])] = event["new"]
            attaches = attaches or _holds_model(event["new"])
        elif kind in ("ColumnDataChanged", "ColumnsStreamed", "ColumnsPatched") and isinstance(model, Model):
            # Bokeh lets a column hold models (a pull writes them inline, at the column's
            # depth): judged as if the source held them among its references too.
            value = event.get("data", event.get("patches"))
            if _holds_model(value):
                attaches = True
                key = (model.id, "tags")
                overrides[key] = [overrides.get(key, getattr(model, "tags", None)), {"data": value}]
    if not attaches:
        return  # values without models (nearly every patch): nothing can nest deeper
    after = shape_of(document.models, overrides, new_models)
    if after.nesting <= MAX_NESTING and not after.cyclic:
        return
    # The application's own document may be deep, or hold cycles (a CustomJS whose args
    # name the widget it serves): what a client patch may not do is add to them.
    before = shape_of(document.models)
    made = [model for model_id, model in after.cyclic.items() if model_id not in before.cyclic]
    if made:
        model = made[0]
        raise PatchError(f"cycle: {type(model).__name__} {model.id!r:.60} would be among its own descendants")
    if after.nesting > MAX_NESTING and after.nesting > before.nesting:
        raise PatchError(f"models nested too deeply: {after.nesting} > {MAX_NESTING} levels")
