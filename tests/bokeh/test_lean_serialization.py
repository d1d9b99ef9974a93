"""docsync's lean Bokeh models and serialization write the very JSON Bokeh's own do, for every gallery app.

``install_lean_serialization`` (no defaults built to be left out) and ``install_lean_models``
(empty default containers made on first use) are checked against the installed Bokeh:
the same documents, the same references, the same events when a lazy default is used.
"""

from __future__ import annotations

import contextlib
import re
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")

import bokeh.model.util
from bokeh.application import Application
from bokeh.application.application import ServerContext, SessionContext
from bokeh.application.handlers import DirectoryHandler, FunctionHandler, ScriptHandler
from bokeh.core.has_props import HasProps
from bokeh.document import Document
from bokeh.models import ColumnDataSource, Slider

from docsync.bokeh.compat import lean as lean_compat
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


@contextlib.contextmanager
def _bokeh(lean: bool) -> Iterator[None]:
    """Bokeh's own models and serialization, or docsync's lean ones, for the duration."""
    installed = (
        HasProps.query_properties_with_values,
        HasProps.__init__,
        bokeh.model.util.visit_immediate_value_references,
    )
    if lean:
        chosen = (lean_compat._query_properties_with_values, lean_compat._lean_init, lean_compat._lean_visit)
    else:
        chosen = (lean_compat._original_query, lean_compat._original_init, lean_compat._original_visit)
    HasProps.query_properties_with_values, HasProps.__init__, bokeh.model.util.visit_immediate_value_references = chosen  # type: ignore[method-assign]
    try:
        yield
    finally:
        HasProps.query_properties_with_values, HasProps.__init__, bokeh.model.util.visit_immediate_value_references = (
            installed  # type: ignore[method-assign]
        )


def _serialized(lean: bool, make: Callable[[], Application]) -> tuple[str, str, int]:
    """Build a document, serialize it twice; and how many models it holds."""
    with _bokeh(lean):
        document, _ = _build(make)
        return _json(document), _json(document), len(document.models)


def test_the_same_json_as_bokehs_own(tmp_path: Path) -> None:
    database = write_database(tmp_path / "movies.sqlite3", count=200)
    for name, make in _gallery(database):
        expected, _, models = _serialized(False, make)
        first, second, lean_models = _serialized(True, make)
        assert first == expected, name
        assert second == first, f"{name}: a second serialization differs"
        assert lean_models == models, f"{name}: the documents reference different models"


def test_lean_models_make_their_empty_defaults_on_first_use() -> None:
    with _bokeh(True):
        slider = Slider(start=0, end=10, value=1)
        assert "tags" not in slider._unstable_default_values  # not made while unused
        document = Document()
        document.add_root(slider)
        events: list[Any] = []
        document.on_change(events.append)
        assert slider.tags == []  # made when read, empty as Bokeh's
        slider.tags.append("moved")  # a change to the made container is a change of the model
        assert slider.tags == ["moved"]
        assert [(e.attr, e.new) for e in events] == [("tags", ["moved"])]
        other = ColumnDataSource(data={"x": [1]})
        slider.tags.append(other)  # a model put into a lazily made list joins the document
        document.models.recompute()
        assert other.document is document
        assert other.id in {model.id for model in document.models}


def test_lean_models_build_smaller_documents() -> None:
    import tracemalloc

    def size(lean: bool) -> int:
        with _bokeh(lean):
            _build(lambda: Application(ScriptHandler(filename=str(GALLERY / "sliders.py"))))  # imports, once
            tracemalloc.start()
            try:
                kept = _build(lambda: Application(ScriptHandler(filename=str(GALLERY / "sliders.py"))))
                return tracemalloc.get_traced_memory()[0]
            finally:
                tracemalloc.stop()
                del kept

    assert size(True) < 0.9 * size(False)
