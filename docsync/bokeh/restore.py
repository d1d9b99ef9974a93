"""A saved Bokeh document laid over the one the application just built again (a restore).

The application is run again, which builds new models with their callbacks wired, and
each saved model is matched to one of them:

- by ``name``, when exactly one model the application made has it and its type: the
  saved model of that type the application built under that name (``app_names``, the
  build's names by id: a callback may have renamed it since), else, when the build named
  none that the saved document still holds, the one saved model of that type and name
  the application did not build (a callback's, e.g. a plot drawn again); without
  ``app_names`` (an earlier release's snapshot), the one saved model of that type and
  name, as then;
- otherwise by position in the application's build order: the models reachable from
  the document's roots, breadth-first, in Bokeh's own order (``collect_models``: roots
  in order, then each model's reference properties in class order, lists in order).
  The n-th model of the new build takes the values of the n-th of the first build
  (recorded when the session was made, ``app_ids``), if their types agree.

Matched models keep their objects and their callbacks, and take the saved ids and
values; saved models without a match (made later, by callbacks or clients) are adopted
as they are, ids included; the application's models that the saved document no longer
holds drop out. So the restored document is the saved one, model for model and id for
id: the journal's later records, which name models by id, apply to it as they did to
the document they were written from, and nothing needs saving again. Bokeh's simple-id
counter is moved past the saved ids, so that no model this process makes later takes
one. No callback runs and nothing is reported as a change.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from bokeh.model import Model
from bokeh.model.util import collect_models

from ..exceptions import SnapshotError
from .compat import advance_simple_ids, give_new_id, no_python_callbacks, set_model_id

__all__ = ["build_names", "build_order", "match_models", "restore_document"]


def build_order(document: Any) -> list[Model]:
    """The document's models in the order restore matches them by (call right after the app built it)."""
    return collect_models(*document.roots)


def build_names(models: list[Model], names: list[str | None]) -> dict[str, str]:
    """``models``' ids (read now: a restore gave the matched ones their saved ids) with ``names``, the named ones.

    ``names``: those the application built them with, read right after it built them.
    """
    return {str(model.id): name for model, name in zip(models, names, strict=True) if name is not None}


def _type_of(model: Model) -> str:
    # The qualified name, not the class: a script app's own model classes are defined
    # anew by each run of the script.
    return str(model.__qualified_model__)


def match_models(
    app_models: list[Model], saved: Any, app_ids: list[str], app_names: dict[str, str] | None = None
) -> dict[str, Model]:
    """Map saved model ids to the application's models (by name, then build order).

    ``app_names``: the names the application built its models with, by saved id (None:
    not recorded). Raises SnapshotError when a saved model stands where the application
    now makes a model of another type (the application changed).
    """
    saved_by_id: dict[str, Model] = {m.id: m for m in saved.models}
    matches: dict[str, Model] = {}

    def named(models: Any) -> dict[tuple[str, str], list[Model]]:
        groups: dict[tuple[str, str], list[Model]] = {}
        for model in models:
            if model.name is not None:
                groups.setdefault((_type_of(model), model.name), []).append(model)
        return groups

    # The names the models hold now: the application's own are left out when its build's
    # names are known (a callback that renamed one and gave its name to another would
    # otherwise hand that name's callbacks to the other one).
    built = set(app_ids) if app_names is not None else set()
    saved_named = named(m for m in saved.models if m.id not in built)
    recorded: dict[tuple[str, str], list[Model]] = {}
    for saved_id, name in (app_names or {}).items():
        if saved_id in saved_by_id:
            recorded.setdefault((_type_of(saved_by_id[saved_id]), name), []).append(saved_by_id[saved_id])
    for key, mine in named(app_models).items():
        theirs = recorded.get(key) or saved_named.get(key, [])
        if len(mine) == 1 and len(theirs) == 1:
            matches[theirs[0].id] = mine[0]
    taken = {id(model) for model in matches.values()}
    for model, saved_id in zip(app_models, app_ids, strict=False):
        if id(model) in taken or saved_id in matches:
            continue
        saved_model = saved_by_id.get(saved_id)
        if saved_model is None:
            continue  # the saved session no longer held it: this one drops out too
        if _type_of(saved_model) != _type_of(model):
            raise SnapshotError(
                f"snapshot does not fit the application: the application changed: it now makes a "
                f"{_type_of(model)} where the snapshot holds a {_type_of(saved_model)!r}"
            )
        matches[saved_id] = model
        taken.add(id(model))
    return matches


def _translate(value: Any, target: dict[str, Model]) -> tuple[Any, bool]:
    """``value`` with each saved model replaced by its target; and whether anything was replaced."""
    if isinstance(value, Model):
        new = target.get(value.id, value)
        return new, new is not value
    if isinstance(value, list | tuple):
        items = [_translate(item, target) for item in value]
        if not any(changed for _, changed in items):
            return value, False
        seq = [item for item, _ in items]
        return (tuple(seq) if isinstance(value, tuple) else seq), True
    if isinstance(value, dict):
        pairs = [(_translate(k, target), _translate(v, target)) for k, v in value.items()]
        if not any(kc or vc for (_, kc), (_, vc) in pairs):
            return value, False
        return {k: v for (k, _), (v, _) in pairs}, True
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # Bokeh's Field/Value/Expr specs may hold a transform model.
        fields = {f.name: _translate(getattr(value, f.name), target) for f in dataclasses.fields(value)}
        if not any(changed for _, changed in fields.values()):
            return value, False
        return dataclasses.replace(value, **{name: v for name, (v, _) in fields.items()}), True
    return value, False


def restore_document(
    document: Any, saved: Any, app_ids: list[str], app_names: dict[str, str] | None = None
) -> tuple[dict[str, Model], bool]:
    """Lay ``saved`` (a Document read from a snapshot) over ``document``, just built by the app.

    ``app_ids``: the saved ids of the first build's models, in build order; ``app_names``:
    the names it built them with, by saved id (None: not recorded). Returns the
    matches (saved id to the application's model, which now carries that id) and
    whether the result holds exactly the saved models (True but where an application's
    model the saved document does not hold stayed referenced: it is given a new id, and
    the document must then be saved again before its journal can build on it).
    ``saved`` is emptied: its models that had no match now belong to ``document``.
    Raises SnapshotError before anything is changed if the snapshot does not fit.
    """
    app_models = build_order(document)
    matches = match_models(app_models, saved, app_ids, app_names)
    # Read before ``saved`` lets them go: saved id -> (saved model, its values).
    saved_models = {m.id: (m, m.properties_with_values(include_defaults=False)) for m in saved.models}
    roots = [matches.get(r.id, r) for r in saved.roots]
    title = saved.title
    saved.clear()  # its models are free to join ``document``
    # Past every saved id (those of the first build too: a later model taking the id of
    # one the application built, since dropped, would be matched to its position).
    advance_simple_ids([*saved_models, *app_ids])
    with no_python_callbacks(document, app_models), document.models.freeze():
        for saved_id, app_model in matches.items():
            set_model_id(app_model, saved_id)  # nobody has seen the build's ids yet
        for saved_id, (saved_model, saved_values) in saved_models.items():
            model = matches.get(saved_id)
            for name, value in saved_values.items():
                new, changed = _translate(value, matches)
                if model is None and not changed:
                    continue  # an adopted model already holds its value
                (model or saved_model).set_from_json(name, new)
            if model is not None:
                _reset_unsaved(model, saved_values)
        if list(document.roots) != roots:
            for root in list(document.roots):
                document.remove_root(root)
            for root in roots:
                document.add_root(root)
        document.title = title
    restored = {id(model) for model in matches.values()} | {id(model) for model, _ in saved_models.values()}
    stayed = [model for model in document.models if id(model) not in restored]
    if stayed:
        # Its id is the build's, from before the counter moved: it may be a saved model's.
        with document.models.freeze():
            for model in stayed:
                give_new_id(model)
    return matches, not stayed


def _reset_unsaved(model: Model, saved_values: dict[str, Any]) -> None:
    """Set back to their defaults the values the application set that the saved model did not have."""
    for name in model.properties_with_values(include_defaults=False).keys() - saved_values.keys():
        descriptor = model.lookup(name)
        if descriptor.property.has_ref:
            continue  # a default model would be a new one: left as the application made it
        model.set_from_json(name, descriptor.instance_default(model))
