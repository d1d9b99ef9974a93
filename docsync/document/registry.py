"""Model classes by type name, so that received JSON can name the class to build."""

from __future__ import annotations

from typing import Any

from ..exceptions import DeserializationError

__all__ = ["model_class", "register_model_class", "registered_names"]

# One module-level table, filled as model classes are defined (like Django's app
# registry): the wire names a type, and only registered types can be built from it.
_classes: dict[str, type] = {}


def register_model_class(name: str, cls: type) -> None:
    """Register ``cls`` under ``name``; a different class may not take a used name."""
    existing = _classes.get(name)
    if existing is not None and existing is not cls:
        same = (existing.__module__, existing.__qualname__) == (cls.__module__, cls.__qualname__)
        if not same:
            raise TypeError(
                f"model type name {name!r} is taken by {existing.__module__}."
                f"{existing.__qualname__}; set __type_name__ on {cls.__qualname__}"
            )
    _classes[name] = cls


def model_class(name: str) -> Any:
    """Return the model class registered under ``name``."""
    try:
        return _classes[name]
    except KeyError:
        raise DeserializationError(f"unknown model type {name!r:.60}") from None


def registered_names() -> list[str]:
    """Return every registered type name, sorted."""
    return sorted(_classes)
