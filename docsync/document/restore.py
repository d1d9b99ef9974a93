"""Restore: lay a saved document over the one an application just made, keeping its models.

The application is run again so that its callbacks are wired to its models; the saved
state is then applied over them. Each model the application made is matched to its
saved counterpart, so the callbacks stay on objects that now carry the saved ids and
values:

- by ``name``, when one live model has it: the saved model the application built under
  that name (``app_names``, its build's names by id: a callback may have renamed it
  since), else, when the build named none that the saved document still holds, the one
  saved model of its type that now has it and that the application did not build (a
  callback's, e.g. a plot drawn again);
- otherwise by creation order: the n-th model the application made now is the n-th it
  made when the session was first created (``app_ids``), if the types agree.

Without ``app_names`` (a snapshot of an earlier release) every saved model is found by
the name it has now, as then.

Saved models without a match (made by clients or callbacks) are made anew. Nothing is
reported as a change and no callback runs: the saved state is already the result of
every callback. All or nothing: everything is decoded and checked before the document
is touched.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ..exceptions import DeserializationError
from ..serialization import Buffer, Decoder
from .document import Document
from .model import Model
from .wire import instantiate_models, resolver

__all__ = ["match_models", "restore_document"]


def _definitions(data: Any) -> list[dict[str, Any]]:
    if type(data) is not dict or type(data.get("roots")) is not list or type(data.get("models", [])) is not list:
        raise DeserializationError("document JSON must be an object with 'roots' and 'models' lists")
    definitions: list[dict[str, Any]] = data.get("models", [])
    for definition in definitions:
        if type(definition) is not dict or type(definition.get("id")) is not str:
            raise DeserializationError(f"invalid model definition {definition!r:.80}")
    return definitions


def _name(definition: dict[str, Any]) -> Any:
    attributes = definition.get("attributes")
    return attributes.get("name") if type(attributes) is dict else None


def match_models(
    document: Document, data: Any, app_ids: Sequence[str], app_names: Mapping[str, str] | None = None
) -> dict[str, Model]:
    """Pair the models of ``document`` (just made) with those of saved ``data``: saved id -> live model.

    ``app_ids``: the saved ids of the models the application made, in creation order;
    ``app_names``: the names they were made with, by saved id (None: not recorded).
    Raises DeserializationError when the application now makes a model of another type
    where the saved one stood (it changed since the snapshot).
    """
    saved = {d["id"]: d for d in _definitions(data)}
    live = list(document.models.values())
    matches = {saved_id: model for saved_id, model in _by_name(live, saved, app_ids, app_names)}
    matched = {id(m) for m in matches.values()}
    # The n-th model made now with the n-th id of the first build, each list whole: a name
    # match leaves its place empty in both. (Each without its matched ones, a saved model
    # matched by name that is not the one first built there, e.g. a named plot a callback
    # drew again, shifted every later pair by one: a type then differed, and the session
    # was refused at every restore as "the application changed".)
    for model, saved_id in zip(live, app_ids, strict=False):
        if id(model) in matched or saved_id in matches:
            continue
        kept = saved.get(saved_id)
        if kept is None:
            continue  # a model the session dropped since: the application's stays unmatched
        if kept.get("name") != model.__type_name__:
            raise DeserializationError(
                f"the application changed: it now makes a {model.__type_name__} where the snapshot "
                f"holds a {kept.get('name')!r:.40}"
            )
        matches[saved_id] = model
    return matches


def _by_name(
    live: list[Model], saved: dict[str, dict[str, Any]], app_ids: Sequence[str], app_names: Mapping[str, str] | None
) -> Iterator[tuple[str, Model]]:
    """The saved id of each live model whose name no other live model has, where its name finds one."""
    built = set(app_ids) if app_names is not None else set()
    # The names the models hold now: the application's own are left out when its build's
    # names are known (a callback that renamed one and gave its name to another would
    # otherwise hand that name's callbacks to the other one).
    by_name: dict[Any, list[dict[str, Any]]] = {}
    for definition in saved.values():
        if _name(definition) is not None and definition["id"] not in built:
            by_name.setdefault(_name(definition), []).append(definition)
    recorded: dict[str, list[dict[str, Any]]] = {}
    for saved_id, built_name in (app_names or {}).items():
        if saved_id in saved:
            recorded.setdefault(built_name, []).append(saved[saved_id])
    live_names = Counter(model._values.get("name") for model in live)
    for model in live:
        name = model._values.get("name")
        if name is None or live_names[name] != 1:
            continue
        candidates = recorded.get(name) or by_name.get(name, [])
        if len(candidates) == 1 and candidates[0].get("name") == model.__type_name__:
            yield candidates[0]["id"], model


def restore_document(
    document: Document,
    data: Any,
    buffers: Mapping[str, Buffer],
    matches: Mapping[str, Model],
    *,
    max_array_elements: int,
) -> None:
    """Make ``document`` hold saved ``data``, its matched models renamed to their saved ids."""
    definitions = _definitions(data)
    title = data.get("title", "")
    if type(title) is not str:
        raise DeserializationError("document title must be a string")
    fresh = [d for d in definitions if d["id"] not in matches]
    created = instantiate_models(fresh, matches, buffers, max_array_elements=max_array_elements)

    decoder = Decoder(buffers, resolve_ref=resolver(created, matches), max_array_elements=max_array_elements)
    values: list[tuple[Model, str, dict[str, Any]]] = []
    for definition in definitions:
        model = matches.get(definition["id"])
        if model is None:
            continue
        attributes = definition.get("attributes", {})
        if type(attributes) is not dict:
            raise DeserializationError(f"attributes of {definition['id']!r:.40} must be an object")
        decoded: dict[str, Any] = {}
        for attr, raw in attributes.items():
            prop = model._properties.get(attr)
            if prop is None:
                raise DeserializationError(f"{model.__type_name__} has no property {attr!r:.40}")
            try:
                decoded[attr] = model._wrap(prop, model.validate_value(prop, decoder.decode(raw)))
            except ValueError as exc:
                raise DeserializationError(str(exc)) from None
        values.append((model, definition["id"], decoded))
    roots: list[Model] = []
    for ref in data["roots"]:
        root_id = ref.get("id") if type(ref) is dict else None
        root = created.get(root_id) or matches.get(root_id) if type(root_id) is str else None
        if root is None:
            raise DeserializationError(f"root is not a defined model: {ref!r:.60}")
        if root not in roots:
            roots.append(root)
    # Everything is decoded: from here on nothing can fail.
    for model in document._models.values():
        model._document = None
    for model, saved_id, decoded in values:
        model._id = saved_id
        model._values = decoded
    document._new_index({})
    document._ledger = None  # made again from the new index on first use
    document._title = title
    document._roots = roots
    document._attach(roots)
