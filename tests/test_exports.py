"""Every module of the pure layers declares ``__all__``, and every name in it exists."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

import pytest

PURE_PACKAGES = ("docsync.document", "docsync.protocol", "docsync.serialization", "docsync.sync")


def modules() -> list[str]:
    names = []
    for package_name in PURE_PACKAGES:
        package = importlib.import_module(package_name)
        names.append(package_name)
        names.extend(info.name for info in pkgutil.walk_packages(package.__path__, package_name + "."))
    return sorted(names)


def test_every_pure_package_is_walked() -> None:
    found = modules()
    assert "docsync.document.models.widgets" in found
    assert "docsync.serialization.decoder" in found
    assert "docsync.protocol.receiver" in found


@pytest.mark.parametrize("name", modules())
def test_module_declares_all(name: str) -> None:
    module: ModuleType = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert isinstance(exported, list | tuple), f"{name} has no __all__"
    assert all(isinstance(item, str) for item in exported)
    assert len(set(exported)) == len(exported), f"{name}.__all__ repeats a name"
    missing = [item for item in exported if not hasattr(module, item)]
    assert missing == [], f"{name}.__all__ names what it lacks: {missing}"


@pytest.mark.parametrize("name", PURE_PACKAGES)
def test_package_exports_are_importable_with_star(name: str) -> None:
    namespace: dict[str, object] = {}
    exec(f"from {name} import *", namespace)
    module = importlib.import_module(name)
    assert set(module.__all__) <= set(namespace)
