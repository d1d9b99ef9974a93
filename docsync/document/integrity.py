"""What a client's change may make of a document, checked before anything is applied.

After the change every model it references is one the document holds, no model it
touched is among its own descendants, and the document still fits in the messages a
receiver accepts. The rules read property types only, so models added later obey them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from ..exceptions import PatchError
from .footprint import Footprint, FootprintLedger, id_json, measure, model_footprint
from .graph import models_in_cycles
from .model import Model
from .properties import ColumnData, base_property, holds_models
from .shares import DocumentShare

__all__ = ["ChangeOutcome", "DocumentLimits", "check_outcome"]

MiB = 1024 * 1024
#: A pull's header frame and the content's own keys, besides the document's JSON.
_PULL_OVERHEAD = 512
#: A buffer's header frame, ``{"id": "..."}``.
_BUFFER_HEADER = 32
#: A root's entry in the roots list besides its id's string: ``{"id":...},``.
_ROOT_REFERENCE = 8


@dataclass(frozen=True, slots=True)
class DocumentLimits:
    """How large a client may make a document: what a pull of it must still fit in.

    ``max_column_bytes``: one column (an array travels in a frame of its own);
    ``max_json_bytes``: the document's JSON (one content frame);
    ``max_document_bytes``: everything (one message); ``max_buffers``: its arrays;
    ``share``: the document's part of what the client that made its session may hold
    in documents (one session's own limits, shares.py; None: not counted).
    """

    max_column_bytes: int = 16 * MiB
    max_json_bytes: int = 16 * MiB
    max_document_bytes: int = 48 * MiB
    max_buffers: int = 1024
    share: DocumentShare | None = None

    def shared(self, share: DocumentShare) -> DocumentLimits:
        """These limits, counted against ``share``: what ``dataclasses.replace`` gives, in one call per session."""
        return DocumentLimits(
            self.max_column_bytes, self.max_json_bytes, self.max_document_bytes, self.max_buffers, share
        )


@dataclass(slots=True)
class ChangeOutcome:
    """A checked change, as the document will be after it: what :func:`check_outcome` reads."""

    document: Any
    #: Models the change defines (its references), by id.
    new_models: Mapping[str, Model]
    #: Models whose properties the change sets, with the properties.
    touched: dict[str, tuple[Model, set[str]]]
    #: The value of a property after the change.
    value_after: Callable[[Model, str], Any]
    roots_after: list[Model]
    title_after: str
    #: List columns the checks made from another column by patching or streaming it, by
    #: id: (the column made, the column it was made from, the values it added).
    made_columns: Mapping[int, tuple[Any, Any, list[Any]]] = field(default_factory=dict)
    #: List columns a column data property's own check found free of models, by id.
    vetted_columns: Mapping[int, Any] = field(default_factory=dict)


def _values_after(outcome: ChangeOutcome, model: Model) -> dict[str, Any]:
    values = dict(model._values)
    entry = outcome.touched.get(model._id)
    if entry is not None and entry[0] is model:
        for attr in entry[1]:
            values[attr] = outcome.value_after(model, attr)
    return values


def _references_after(outcome: ChangeOutcome) -> Callable[[Model], Iterator[Model]]:
    def references(model: Model) -> Iterator[Model]:
        values = _values_after(outcome, model)
        for prop in model._model_properties:
            value = values.get(prop.name)
            if value is not None:
                yield from prop.iter_models(value)

    return references


def _changed_models(outcome: ChangeOutcome) -> Iterator[tuple[Model, Iterable[str]]]:
    """Each model whose values the change makes, with the properties it sets."""
    for model in outcome.new_models.values():
        yield model, list(_values_after(outcome, model))
    for model, attrs in outcome.touched.values():
        if model._id not in outcome.new_models:
            yield model, attrs


def _value_after(outcome: ChangeOutcome, model: Model, attr: str) -> Any:
    """One entry of ``_values_after`` (without copying every value of the model)."""
    entry = outcome.touched.get(model._id)
    if entry is not None and entry[0] is model and attr in entry[1]:
        return outcome.value_after(model, attr)
    return model._values.get(attr)


def _check_references(outcome: ChangeOutcome) -> None:
    # A property whose type holds no models must not smuggle one in (a list column,
    # say): the document would not index it, and its receivers could not resolve it.
    # (``_changed_models``, inline: a touched model's attrs are all touched, so their values
    # after are ``outcome.value_after``'s, read without a lookup in ``touched`` per attr.)
    for model in outcome.new_models.values():
        for attr in list(_values_after(outcome, model)):
            prop = model._properties[attr]
            if not prop.may_hold_models and holds_models(_value_after(outcome, model, attr)):
                raise PatchError(f"{model.__type_name__}.{attr} cannot hold models")
    new_models, value_after = outcome.new_models, outcome.value_after
    for model, attrs in outcome.touched.values():
        if model._id in new_models:
            continue
        properties = model._properties
        for attr in attrs:
            prop = properties[attr]
            if prop.may_hold_models:
                continue
            value = value_after(model, attr)
            if isinstance(base_property(prop), ColumnData):
                # Only the columns the change made: a column kept as it was holds no model
                # (no writer may put one there), and walking every row of a large one per
                # one-cell patch made a tiny patch cost as much as the whole column.
                value = _unchecked_columns(model._values.get(attr), value, outcome.made_columns, outcome.vetted_columns)
            if holds_models(value):
                raise PatchError(f"{model.__type_name__}.{attr} cannot hold models")


def _changed_columns(before: Any, after: Any) -> Any:
    """The columns of column data ``after`` that are not the objects ``before`` held (all, if either is no dict)."""
    if not isinstance(before, dict) or not isinstance(after, dict):
        return after
    return {name: column for name, column in after.items() if before.get(name) is not column}


def _unchecked_columns(
    before: Any,
    after: Any,
    made: Mapping[int, tuple[Any, Any, list[Any]]],
    vetted: Mapping[int, Any] | None = None,
) -> Any:
    """What of column data ``after`` may hold a model: the columns ``before`` did not hold (all, if either is no dict).

    A column made from the one ``before`` held by patches or streams (``made``, followed
    back) is that column, which holds no model, plus the values they added: only those
    are looked at. A one-cell patch of a 500,000-row list column walked every row. A
    column ColumnData's check passed (``vetted``), or one made from it, is as one held:
    a client's new 1,000,000-value column was scanned for models twice.
    """
    vetted = vetted or {}
    if not isinstance(before, dict) or not isinstance(after, dict):
        return after
    unchecked: dict[Any, Any] = {}
    for name, column in after.items():
        held = before.get(name)
        if held is column:
            continue
        added: list[Any] = []
        source = column
        while source is not held and vetted.get(id(source)) is not source:
            entry = made.get(id(source))
            if entry is None or entry[0] is not source:
                break
            added.append(entry[2])
            source = entry[1]
        unchecked[name] = added if source is held or vetted.get(id(source)) is source else column
    return unchecked


def _check_cycles(outcome: ChangeOutcome) -> None:
    # A new cycle runs through a reference the change made: from a model it defines,
    # or from a model-holding property it sets.
    sources = list(outcome.new_models.values())
    for model, attrs in outcome.touched.values():
        properties = model._properties
        for attr in attrs:  # (a loop, no generator: asked for every client patch)
            if properties[attr].may_hold_models:
                sources.append(model)
                break
    if not sources:
        return
    cyclic = models_in_cycles(sources, _references_after(outcome))
    if cyclic:
        model = cyclic[0]
        raise PatchError(f"cycle: {model.__type_name__} {model.id!r:.40} would be among its own descendants")


def _column_sizes(
    value: Any, ledger: FootprintLedger | None = None, model: Model | None = None, attr: str = ""
) -> Iterator[tuple[str, int]]:
    if isinstance(value, dict):
        for name, column in value.items():
            if isinstance(column, np.ndarray):
                yield str(name), column.nbytes
            elif ledger is not None and model is not None:
                # Known (a patch's column, FootprintLedger.derive), or measured once and
                # kept: the footprint check and the next total take it (what ``measure`` finds).
                yield str(name), ledger.measured(model, attr, str(name), column).own.json
            else:
                known = ledger.known_column(column) if ledger is not None else None
                if known is not None:
                    yield str(name), known.own.json
                    continue
                size = Footprint()
                measure(column, size)
                yield str(name), size.json


def _check_columns(outcome: ChangeOutcome, limits: DocumentLimits) -> None:
    ledger = outcome.document._footprint_ledger()
    for model, attrs in _changed_models(outcome):
        values = _values_after(outcome, model)
        for attr in attrs:
            value = values.get(attr)
            old: Any = None
            if isinstance(base_property(model._properties[attr]), ColumnData):
                # A column kept as it was (the very object) did not grow: only the changed
                # ones are measured, and what they were only when one is over the bound.
                old = model._values.get(attr)
                sizes = _column_sizes(_changed_columns(old, value), ledger, model, attr)
            else:
                size = Footprint()
                measure(value, size)
                sizes = iter([(attr, size.largest)])
            for name, nbytes in sizes:
                if nbytes > limits.max_column_bytes and nbytes > _column_size(old, name, ledger):
                    what = f"column {name!r:.40} of {model.__type_name__} {model.id!r:.40}"
                    raise PatchError(f"{what} too large: {nbytes} > {limits.max_column_bytes} bytes")


def _column_size(data: Any, name: str, ledger: FootprintLedger | None = None) -> int:
    """The size of column ``name`` of column data ``data`` (0 if it has none)."""
    if not isinstance(data, dict) or name not in data:
        return 0
    return next(_column_sizes({name: data[name]}, ledger))[1]


def _footprint_after(outcome: ChangeOutcome, ledger: FootprintLedger, before: Footprint) -> Footprint:
    old_roots = set(map(id, outcome.document.roots))
    if any(id(root) in old_roots for root in outcome.roots_after):
        # Whatever stays, at most everything stays: count the changed models anew.
        after = before.copy()
        for model, _ in _changed_models(outcome):
            if model._id not in outcome.new_models:
                after.remove(ledger.of(model))
            # (A copy of the ledger's column sizes: they stay those of the columns the model
            # holds, which the apply's columns are derived from.)
            columns = dict(ledger.columns_of(model))
            after.add(model_footprint(model, _values_after(outcome, model), columns, ledger.derived))
        return after
    # Every root is new (a whole document pushed): count what the new roots reach.
    after = Footprint()
    seen: set[int] = set()
    stack = list(outcome.roots_after)
    references = _references_after(outcome)
    while stack:
        model = stack.pop()
        if id(model) in seen:
            continue
        seen.add(id(model))
        changed = model._id in outcome.new_models or model._id in outcome.touched
        after.add(model_footprint(model, _values_after(outcome, model)) if changed else ledger.of(model))
        stack.extend(references(model))
    return after


def _with_framing(footprint: Footprint, title: str, roots: Iterable[Model]) -> Footprint:
    """The footprint of a pull of a document whose models' footprint is ``footprint``."""
    measure(title, footprint)
    # A root's id is written again in the roots list: a long one counts twice.
    footprint.json += _PULL_OVERHEAD + sum(_ROOT_REFERENCE + id_json(root.id) for root in roots)
    return footprint


def _check_footprint(outcome: ChangeOutcome, limits: DocumentLimits) -> None:
    ledger = outcome.document._footprint_ledger()
    models_before = ledger.total()
    after = _footprint_after(outcome, ledger, models_before)
    after = _with_framing(after, outcome.title_after, outcome.roots_after)
    before = _with_framing(models_before, outcome.document.title, outcome.document.roots)
    if after.json > limits.max_json_bytes and after.json > before.json:
        raise PatchError(f"document JSON too large: {after.json} > {limits.max_json_bytes} bytes")
    if after.buffers > limits.max_buffers and after.buffers > before.buffers:
        raise PatchError(f"too many arrays in the document: {after.buffers} > {limits.max_buffers}")
    total, total_before = (f.total + _BUFFER_HEADER * f.buffers for f in (after, before))
    if total > limits.max_document_bytes and total > total_before:
        raise PatchError(f"document too large: {total} > {limits.max_document_bytes} bytes")
    if limits.share is not None:  # the last check: from here the change applies
        limits.share.count(total_before, total)


_SCALARS = frozenset({int, float, bool, type(None)})


def _scalars_only(outcome: ChangeOutcome) -> bool:
    """Tell whether the change only sets numbers, bools or None (a slider, a checkbox).

    Such values hold no models, and a number is measured at its longest: they cannot
    make a reference, a cycle, or a document that grows. The common case stays cheap.
    """
    if outcome.new_models or outcome.title_after != outcome.document.title:
        return False
    value_after = outcome.value_after
    for model, attrs in outcome.touched.values():
        for attr in attrs:
            if type(value_after(model, attr)) not in _SCALARS:
                return False
    return True


def check_outcome(outcome: ChangeOutcome, limits: DocumentLimits | None) -> None:
    """Refuse (PatchError) a client's change whose outcome breaks a rule of the module."""
    if _scalars_only(outcome):
        return
    passed = False
    try:
        _check_references(outcome)
        _check_cycles(outcome)
        if limits is not None:
            _check_columns(outcome, limits)
            _check_footprint(outcome, limits)
        passed = True
    finally:
        ledger = getattr(outcome.document, "_ledger", None)
        if ledger is not None and ledger.derived:
            # The sizes of the check's own columns: kept only for those the change, about
            # to apply, leaves in the document (the ledger's next total takes them); after
            # a refusal those of the columns held (a refused column is not kept alive).
            ledger.prune(values=partial(_value_after, outcome) if passed else None)
