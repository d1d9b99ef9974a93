"""One behavioural contract, run against every handler kind.

Each kind builds a document whose one root is a Div named ``root``; the kinds that carry
lifecycle hooks record them in ``apps_for_tests.contract_calls``.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio

from docsync.conf import docsync_settings
from docsync.document import Document
from docsync.document.models import Div
from docsync.handlers import Application, DirectoryHandler, FunctionHandler, JSONHandler, ScriptHandler
from docsync.server.admission.tokens import generate_session_id
from docsync.server.application_context import ApplicationContext

from .apps_for_tests import contract_calls
from .settings import APP_FILES

PATH = "contract"


def _record(name: str) -> Callable[[Any], None]:
    def hook(context: Any) -> None:
        contract_calls.append((name, context.id if name.startswith("on_session") else context.app_path))

    return hook


def _record_async(name: str) -> Callable[[Any], Any]:
    sync_hook = _record(name)

    async def hook(context: Any) -> None:
        sync_hook(context)

    return hook


def _hooks(make: Callable[[str], Callable[[Any], Any]]) -> dict[str, Any]:
    names = ("on_server_loaded", "on_server_unloaded", "on_session_created", "on_session_destroyed")
    return {name: make(name) for name in names}


def _build_sync(doc: Document) -> None:
    doc.add_root(Div(text="function", name="root"))


async def _build_async(doc: Document) -> None:
    doc.add_root(Div(text="async function", name="root"))


def _fail_sync(doc: Document) -> None:
    raise ValueError("sync function fails")


async def _fail_async(doc: Document) -> None:
    raise ValueError("async function fails")


@dataclass
class HandlerCase:
    """A handler kind: a working application, and a broken one."""

    make: Callable[[], Application]
    text: str
    has_hooks: bool
    make_broken: Callable[[], Application]
    broken_at_load: bool
    error: str


CASES = {
    "function": HandlerCase(
        lambda: Application(FunctionHandler(_build_sync, **_hooks(_record))),
        "function",
        True,
        lambda: Application(FunctionHandler(_fail_sync)),
        False,
        "ValueError: sync function fails",
    ),
    "async function": HandlerCase(
        lambda: Application(FunctionHandler(_build_async, **_hooks(_record_async))),
        "async function",
        True,
        lambda: Application(FunctionHandler(_fail_async)),
        False,
        "ValueError: async function fails",
    ),
    "script": HandlerCase(
        lambda: Application(ScriptHandler(APP_FILES / "script_app.py")),
        "script",
        False,
        lambda: Application(ScriptHandler(APP_FILES / "syntax_error.py")),
        True,
        "SyntaxError",
    ),
    "directory": HandlerCase(
        lambda: Application(DirectoryHandler(APP_FILES / "dir_app")),
        "directory",
        True,
        lambda: Application(DirectoryHandler(APP_FILES / "dir_broken")),
        True,
        "RuntimeError: the hooks file fails on purpose",
    ),
    "json": HandlerCase(
        lambda: Application(JSONHandler(APP_FILES / "doc.json")),
        "json",
        False,
        lambda: Application(JSONHandler(APP_FILES / "bad_doc.json")),
        True,
        "JSONDecodeError",
    ),
}


@pytest.fixture(params=list(CASES))
def case(request: pytest.FixtureRequest) -> HandlerCase:
    contract_calls.clear()
    return CASES[request.param]


@pytest_asyncio.fixture
async def context(case: HandlerCase) -> AsyncIterator[ApplicationContext]:
    context = ApplicationContext(case.make(), PATH, options={})
    yield context
    await context.unload()


async def _open(context: ApplicationContext, session_id: str | None = None) -> Any:
    return await context.create_session_if_needed(
        session_id or generate_session_id(), {"arguments": {}}, docsync_settings(), 0
    )


@pytest.mark.asyncio
async def test_builds_a_document_with_the_expected_roots(case: HandlerCase, context: ApplicationContext) -> None:
    assert not context.application.failed and context.application.error is None
    first, second = await _open(context), await _open(context)
    for session in (first, second):
        async with session.lock:
            roots = session.document.roots
            assert [(type(r).__name__, r.name, r.text) for r in roots] == [("Div", "root", case.text)]
    # Each session has a document of its own.
    async with first.lock:
        first.document.get_model_by_name("root").text = "changed"
    async with second.lock:
        assert second.document.get_model_by_name("root").text == case.text


@pytest.mark.asyncio
async def test_hooks_are_called_once_in_order(case: HandlerCase, context: ApplicationContext) -> None:
    session = await _open(context)
    same = await context.create_session_if_needed(session.id, {}, docsync_settings(), 1)
    assert same is session
    await context.discard_session(session)
    await context.discard_session(session)  # a second discard does nothing
    await context.unload()
    expected = [
        ("on_server_loaded", PATH),
        ("on_session_created", session.id),
        ("on_session_destroyed", session.id),
        ("on_server_unloaded", PATH),
    ]
    assert contract_calls == (expected if case.has_hooks else [])
    assert session.destroyed and context.sessions == {}


@pytest.mark.asyncio
async def test_sessions_leak_no_modules(case: HandlerCase, context: ApplicationContext) -> None:
    await _open(context)  # the first session may import what the app needs
    before = set(sys.modules)
    sessions = [await _open(context) for _ in range(3)]
    assert set(sys.modules) == before
    assert not [name for name in sys.modules if name.startswith("docsync_app_")]
    for session in sessions:
        await context.discard_session(session)
    assert set(sys.modules) == before


@pytest.mark.asyncio
async def test_a_failing_handler_reports_its_error(case: HandlerCase) -> None:
    application = case.make_broken()
    assert application.failed is case.broken_at_load
    if case.broken_at_load:
        assert case.error in (application.error or "")
        assert "Traceback" in (application.error_detail or "")
    context = ApplicationContext(application, PATH, options={})
    session_id = generate_session_id()
    for _ in range(2):  # a failed creation leaves nothing behind, so it fails again
        with pytest.raises(Exception) as raised:
            await _open(context, session_id)
        assert case.error.split(":")[0] in f"{type(raised.value).__name__}: {raised.value}"
        assert context.sessions == {} and context.get_session(session_id) is None
    await context.unload()


@pytest.mark.asyncio
@pytest.mark.parametrize("hooks", [False, True])
async def test_only_defined_hooks_are_run_and_only_sync_ones_take_a_thread(hooks: bool) -> None:
    # A hook the app does not define is skipped, so a session costs no worker thread
    # for it (it used to cost one when made and one when destroyed).
    handler = FunctionHandler(_build_sync, **(_hooks(_record) if hooks else {}))
    hopped: list[str] = []

    async def run_sync(func: Callable[[Any], Any], arg: Any) -> Any:
        hopped.append(getattr(func, "__name__", "?"))
        return func(arg)

    application = Application(handler)
    context = type("Context", (), {"id": "s", "app_path": PATH})()
    for name in ("on_session_created", "on_session_destroyed", "on_session_restored"):
        assert handler.has_hook(name) is (hooks and name != "on_session_restored")
        await application.call_hook(name, context, run_sync)
    assert hopped == (["on_session_created", "on_session_destroyed"] if hooks else [])
    assert [c[0] for c in contract_calls if c[1] == "s"] == (hopped if hooks else [])
    contract_calls.clear()
