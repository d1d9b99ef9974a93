"""The pure layers stay pure: no web framework, no networking, no event loop."""

from __future__ import annotations

import ast
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
