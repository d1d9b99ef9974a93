"""The pure layers stay pure: no web framework, no networking, no event loop."""

from __future__ import annotations

import ast
import functools
import json
import subprocess
import sys
from pathlib import Path

import pytest

import docsync

PURE_PACKAGES = ("document", "protocol", "serialization", "sync")
#: What each pure package may import of docsync besides itself and ``exceptions``.
LOWER_LAYERS = {"document": {"serialization"}, "sync": {"document", "protocol", "serialization"}}
PACKAGE_DIR = Path(docsync.__file__).parent

# Top-level packages, and dotted modules, that must not be loaded by the pure layers.
FORBIDDEN = (
    "django",
    "channels",
    "channels_redis",
    "daphne",
    "twisted",
    "uvicorn",
    "websockets",
    "redis",
    "asyncio",
    "socket",
    "ssl",
    "selectors",
    "http.client",
    "http.server",
    "urllib.request",
    "requests",
    "httpx",
    "aiohttp",
    "tornado",
)

PROBE = """
import json, sys
import docsync.document, docsync.document.models, docsync.protocol, docsync.serialization, docsync.sync
print(json.dumps(sorted(sys.modules)))
"""


def forbidden(modules: list[str]) -> list[str]:
    return sorted(m for m in modules if any(m == f or m.startswith(f + ".") for f in FORBIDDEN))


def test_importing_the_pure_layers_loads_no_web_or_network_module() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, cwd=PACKAGE_DIR.parent
    )
    loaded = json.loads(result.stdout)
    assert "docsync.document" in loaded and "docsync.protocol" in loaded and "docsync.sync" in loaded
    assert forbidden(loaded) == []


def test_the_probe_would_notice_a_forbidden_import() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import json, sys, asyncio, http.client; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert {"asyncio", "http.client"} <= set(forbidden(json.loads(result.stdout)))


def pure_sources() -> list[Path]:
    return sorted(path for name in PURE_PACKAGES for path in (PACKAGE_DIR / name).rglob("*.py"))


def test_there_are_sources_to_check() -> None:
    names = {path.parent.name for path in pure_sources()}
    assert set(PURE_PACKAGES) <= names


@pytest.mark.parametrize("path", pure_sources(), ids=lambda p: str(p.relative_to(PACKAGE_DIR)))
def test_no_async_code(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    async_nodes = [
        f"line {node.lineno}: {type(node).__name__}"
        for node in ast.walk(tree)
        if isinstance(node, ast.AsyncFunctionDef | ast.AsyncFor | ast.AsyncWith | ast.Await)
    ]
    assert async_nodes == []


def imported_modules(path: Path) -> list[str]:
    """Return the absolute names of the modules ``path`` imports."""
    module = ["docsync", *path.relative_to(PACKAGE_DIR).with_suffix("").parts]
    package = module[:-1]  # for __init__.py too: its package is the directory
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            names.append(".".join([*base, node.module] if node.module else base))
    return names


@pytest.mark.parametrize("path", pure_sources(), ids=lambda p: str(p.relative_to(PACKAGE_DIR)))
def test_imports_stay_in_the_lower_layers(path: Path) -> None:
    """Pure layers import downward only (document may use serialization, sync the three below it)."""
    layer = path.relative_to(PACKAGE_DIR).parts[0]
    allowed = {layer, "exceptions", *LOWER_LAYERS.get(layer, set())}
    names = imported_modules(path)
    assert forbidden(names) == []
    outside = [n for n in names if n.startswith("docsync") and n.split(".")[1:2] and n.split(".")[1] not in allowed]
    assert outside == []


def test_import_resolution_sees_real_imports() -> None:
    names = imported_modules(PACKAGE_DIR / "document" / "document.py")
    assert "docsync.serialization" in names and "docsync.exceptions" in names
    assert "docsync.document.model" in names
    assert "docsync.document.model" in imported_modules(PACKAGE_DIR / "document" / "models" / "layouts.py")


# -- private names stay in their module (imports) and their package (attributes) ------------

#: Modules whose job is to reach into dependencies' internals (and nothing else does).
COMPAT_MODULES = ("server/compat/", "bokeh/compat/")
#: ``_``-prefixed names that are public API of a dependency (Django's ``Model._meta``, ``os._exit``).
PUBLIC_UNDERSCORE_NAMES = frozenset({"_meta", "_exit"})


def docsync_sources() -> list[Path]:
    return sorted(path for path in PACKAGE_DIR.rglob("*.py") if "migrations" not in path.parts)


def module_name(path: Path) -> str:
    return ".".join(["docsync", *path.relative_to(PACKAGE_DIR).with_suffix("").parts])


def package_of(path: Path) -> str:
    """The unit private attributes are shared within: a top-level package, or a sub-package of server/."""
    parts = path.relative_to(PACKAGE_DIR).with_suffix("").parts
    return "/".join(parts[:2]) if parts[0] == "server" and len(parts) > 2 else parts[0]


def is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_imports(source: str, module: str) -> list[str]:
    """``from docsync.x import _name``, and imports of ``_``-prefixed docsync modules, in ``module``."""
    package = module.split(".")[:-1]  # for __init__.py too: its package is the directory
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            names = [".".join([*base, node.module] if node.module else base)]
            found += [f"line {node.lineno}: {names[0]} {a.name}" for a in node.names if is_private(a.name)]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            if name.split(".")[0] == "docsync" and any(is_private(part) for part in name.split(".")):
                found.append(f"line {node.lineno}: {name}")
    return found


@functools.cache
def package_private_names(package: str) -> frozenset[str]:
    return frozenset(private_names_defined([read(p) for p in PACKAGES[package]]))


def private_names_defined(sources: list[str]) -> set[str]:
    """The ``_``-prefixed names these sources define: functions, classes, names, ``self.`` attributes, slots."""
    names: set[str] = set()
    for source in sources:
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and is_self(node.value):
                names.add(node.attr)  # set on another object, a name defines nothing
            elif isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__slots__" for t in node.targets
            ):
                names.update(c.value for c in ast.walk(node.value) if isinstance(c, ast.Constant))
    return {name for name in names if isinstance(name, str) and is_private(name)}


def is_self(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id in ("self", "cls")


def foreign_private_attributes(source: str, own: set[str]) -> list[str]:
    """``x._name`` where ``x`` is not ``self``, ``cls`` or ``super()`` and ``_name`` is not in ``own``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Attribute) or not is_private(node.attr):
            continue
        if node.attr in own or node.attr in PUBLIC_UNDERSCORE_NAMES:
            continue
        owner = node.value
        if is_self(owner):
            continue
        if isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name) and owner.func.id == "super":
            continue
        found.append(f"line {node.lineno}: .{node.attr}")
    return found


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


PACKAGES: dict[str, list[Path]] = {}
for _path in docsync_sources():
    PACKAGES.setdefault(package_of(_path), []).append(_path)


@pytest.mark.parametrize("path", docsync_sources(), ids=lambda p: str(p.relative_to(PACKAGE_DIR)))
def test_no_module_imports_another_modules_private_names(path: Path) -> None:
    assert private_imports(read(path), module_name(path)) == []


def test_private_import_check_sees_them() -> None:
    source = "from .model import Model, _base\nfrom ..server import _x\nimport docsync.server._y\nfrom . import ok\n"
    assert private_imports(source, "docsync.document.probe") == [
        "line 1: docsync.document.model _base",
        "line 2: docsync.server _x",
        "line 3: docsync.server._y",
    ]


@pytest.mark.parametrize("path", docsync_sources(), ids=lambda p: str(p.relative_to(PACKAGE_DIR)))
def test_no_private_attributes_of_another_package(path: Path) -> None:
    """A package reads only its own ``_`` attributes; a dependency's internals only in a compat module."""
    if str(path.relative_to(PACKAGE_DIR)).startswith(COMPAT_MODULES):
        return
    own = package_private_names(package_of(path))
    assert foreign_private_attributes(read(path), own) == []


def test_private_attribute_check_sees_one() -> None:
    own = private_names_defined([read(p) for p in PACKAGES["server/session"]])
    assert "_finish" in own and "_callbacks" not in own
    assert "_callbacks" in private_names_defined([read(p) for p in PACKAGES["document"]])
    source = "def f(model, session):\n    return model._callbacks, session._finish, self._x, super()._y\n"
    assert "_loop" not in private_names_defined(["def f(task):\n    task._loop = None\n"])
    assert foreign_private_attributes(source, own) == ["line 2: ._callbacks"]
