"""docsync's lean serialization of Bokeh models writes the very JSON Bokeh's own does, for every gallery app."""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")

from bokeh.application import Application
from bokeh.application.application import ServerContext, SessionContext
from bokeh.application.handlers import DirectoryHandler, FunctionHandler, ScriptHandler
from bokeh.core.has_props import HasProps
from bokeh.document import Document

from docsync.bokeh import compat
from tests.bokeh.gallery import functions
from tests.bokeh.gallery.movies.database import write_database

GALLERY = Path(__file__).resolve().parent / "gallery"
BENCH_APP = Path(__file__).resolve().parents[2] / "bench" / "bokeh_apps" / "bench.py"


class _Request:
    arguments = {"points": [b"5"]}
    cookies = {"flavour": "mint"}
    headers = {"X-Team": "blue"}


class _ServerContext(ServerContext):
    sessions: list[Any] = []
    sessions_made = 1
    sessions_ended = 0

    def add_next_tick_callback(self, callback: Any) -> Any: ...
    def add_timeout_callback(self, callback: Any, timeout_milliseconds: Any) -> Any: ...
    def add_periodic_callback(self, callback: Any, period_milliseconds: Any) -> Any: ...
    def remove_next_tick_callback(self, callback: Any) -> None: ...
    def remove_timeout_callback(self, callback: Any) -> None: ...
    def remove_periodic_callback(self, callback: Any) -> None: ...


class _SessionContext(SessionContext):
    request = _Request()
    user = None
    destroyed = False

    async def with_locked_document(self, func: Any) -> Any:
        raise NotImplementedError


def _gallery(database: Path) -> Iterator[tuple[str, Callable[[], Application]]]:
    for path in sorted(GALLERY.iterdir()):
        if path.name in ("functions.py", "__init__.py", "README.md", "__pycache__"):
            continue
        if path.is_dir():
            yield path.name, lambda path=path: Application(DirectoryHandler(filename=str(path), argv=[str(database)]))
        else:
            yield path.name, lambda path=path: Application(ScriptHandler(filename=str(path)))
    yield "functions", lambda: Application(FunctionHandler(functions.modify_doc))
    yield "bench", lambda: Application(ScriptHandler(filename=str(BENCH_APP)))


def _build(make: Callable[[], Application]) -> tuple[Document, SessionContext]:
    document = Document()
    context = _SessionContext(_ServerContext(), "s")  # type: ignore[abstract]
    document._session_context = weakref.ref(context)
    make().initialize_document(document)
    return document, context


def _json(document: Document) -> str:
    """The document's JSON, model ids numbered in order of appearance (two builds differ only there)."""
    text = orjson.dumps(
        document.to_json().content,
        default=lambda obj: {"buffer": str(obj.id)} if hasattr(obj, "id") else str(obj),
        option=orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_SERIALIZE_NUMPY,
    ).decode()
    ids: dict[str, str] = {}
    return re.sub(r'"p\d+"', lambda match: ids.setdefault(match.group(0), f'"model-{len(ids)}"'), text)


def _serialized_with(query: Any, make: Callable[[], Application]) -> tuple[str, str]:
    """Build a document and serialize it twice with ``query`` as Bokeh's query_properties_with_values."""
    installed = HasProps.query_properties_with_values
    HasProps.query_properties_with_values = query  # type: ignore[method-assign]
    try:
        document, _ = _build(make)
        return _json(document), _json(document)
    finally:
        HasProps.query_properties_with_values = installed  # type: ignore[method-assign]


def test_the_same_json_as_bokehs_own(tmp_path: Path) -> None:
    database = write_database(tmp_path / "movies.sqlite3", count=200)
    for name, make in _gallery(database):
        expected, _ = _serialized_with(compat._original_query, make)
        first, second = _serialized_with(compat._query_properties_with_values, make)
        assert first == expected, name
        assert second == first, f"{name}: a second serialization differs"
