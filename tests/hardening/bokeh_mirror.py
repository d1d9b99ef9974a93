"""A sender's document as BokehJS keeps it, followed in Bokeh's Python ``Document``, to compare with the server's."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np


def _canonical(value: Any) -> Any:
    from bokeh.model import Model

    if isinstance(value, Model):
        return ("model", value.id)
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _canonical(item) for key, item in value.items()}
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def state(document: Any) -> dict[str, Any]:
    """A Bokeh document's roots, title and every model's every property, comparable with ``==``."""
    models = {}
    for model in document.models:
        values = model.properties_with_values(include_defaults=True)
        models[model.id] = {attr: _canonical(value) for attr, value in values.items()}
    return {"roots": sorted(root.id for root in document.roots), "title": document.title, "models": models}


def apply(document: Any, events: Any, buffers: list[tuple[str, Any]] = (), *, validate: bool = True) -> None:  # type: ignore[assignment]
    """Apply a PATCH-DOC's ``events`` as BokehJS does (``validate=False``: values of any type, as BokehJS)."""
    from bokeh.core.property.validation import validate as validation
    from bokeh.core.serialization import Buffer, Serialized
    from bokeh.core.types import ID

    with warnings.catch_warnings(), validation(validate):
        # Bokeh's reader warns of a definition of a model it holds (BokehJS sets its values).
        warnings.simplefilter("ignore")
        document.apply_json_patch(Serialized({"events": events}, [Buffer(ID(i), bytes(b)) for i, b in buffers]))
