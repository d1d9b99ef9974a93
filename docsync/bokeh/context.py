"""BokehApplicationContext: a Bokeh application, its sessions, and its server-level callbacks."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from bokeh.document import Document
from bokeh.document.events import MessageSentEvent
from bokeh.io.doc import patch_curdoc
from bokeh.server.callbacks import NextTickCallback, PeriodicCallback, SessionCallback, TimeoutCallback
from bokeh.util.serialization import make_id

from ..exceptions import ApplicationLoadError, SnapshotError, StoreUnavailableError
from ..limits import document_limits
from ..server.admission import shareable
from ..server.application_context import ApplicationContext
from ..server.heap import freeze_startup_heap
from ..server.persistence import restoring_request
from .application import BokehApplication
from .compat import message_callbacks, set_session_context
from .contexts import BokehServerContext, BokehSessionContext
from .persistence import BokehRestore, bokeh_keeper
from .restore import build_names, build_order
from .runner import UserCodeRunner
from .session import BokehSession

__all__ = ["BokehApplicationContext"]

logger = logging.getLogger("docsync.bokeh")


class BokehApplicationContext(ApplicationContext):
    """One Bokeh application served at one path; its sessions are BokehSessions."""

    kind = "bokeh"
    application: BokehApplication  # type: ignore[assignment]

    def __init__(self, application: BokehApplication, path: str, *, options: dict[str, Any]) -> None:
        super().__init__(application, path, options=options)  # type: ignore[arg-type]
        self.server_context = BokehServerContext(self)  # type: ignore[assignment]
        self._app_callbacks: dict[str, asyncio.Task[None]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self.runner = UserCodeRunner(options.get("callbacks"))

    async def _hook(self, name: str, context: Any) -> None:
        try:
            if name in ("on_server_loaded", "on_server_unloaded"):
                # Sync user code (it may use the ORM): in a worker thread, like every hook.
                await self.runner.call(getattr(self.application.app, name), context)
            else:
                await getattr(self.application.app, name)(context)
        except Exception:
            logger.exception("error in %s of Bokeh application %s", name, self.path)

    async def load(self) -> None:
        """Run ``on_server_loaded`` once (server-level callbacks it adds go to this loop)."""
        self._loop = asyncio.get_running_loop()
        first = not self.loaded
        await super().load()
        if first:
            # Bokeh, the app's code and its hook are loaded now, before its first document.
            freeze_startup_heap()

    async def unload(self) -> None:
        """Destroy every session, stop the app's callbacks, run ``on_server_unloaded``."""
        for task in self._app_callbacks.values():
            task.cancel()
        self._app_callbacks.clear()
        await super().unload()

    # -- sessions -------------------------------------------------------------------

    async def _create(  # type: ignore[override]
        self, session_id: str, request: dict[str, Any], settings: Any, admit: Callable[[], None] | None = None
    ) -> BokehSession:
        if self.application.failed:
            raise ApplicationLoadError(f"application failed to load: {self.application.error}")
        await self.load()
        saver = bokeh_keeper(self.registry, self)
        # Read before anything is built (the store is I/O): a session whose process died.
        snapshot = await saver.load(self, session_id) if saver is not None else None
        if snapshot is None and admit is not None:
            admit()  # a new session (a restore is not one): the client's bucket, before any app code
        if snapshot is not None:
            # The app runs with the arguments it was made with, not the restoring page's.
            request = restoring_request(request, snapshot.request)
        document = Document()
        session_context = BokehSessionContext(session_id, self.server_context, document, request)  # type: ignore[arg-type]
        set_session_context(document, session_context)
        await self._hook("on_session_created", session_context)
        # modify_doc / the script is sync user code, run off the loop with curdoc() set:
        # a script's or directory app's in the app-code thread (app_thread.py).
        await self.runner.initialize(self.application.app, self._initialize, document)
        for modify_doc in self.application.awaited_functions():
            await modify_doc(document)  # an ``async def`` handler, on the loop (as bokeh-django awaits it)
        built = build_order(document) if saver is not None else []
        app_ids = [str(model.id) for model in built]
        names = [model.name for model in built]  # as built: a restore sets the saved ones
        # The type built at each place: a client may not define another under its id (wire.py).
        app_types = [str(model.__qualified_model__) for model in built]
        restored: BokehRestore | None = None
        if saver is not None and snapshot is not None:
            # Nobody sees the document yet: the saved state is laid over it before the
            # session exists, so no callback or client hears of it as a change (off the
            # loop, as the build: reading a big document takes a while).
            restored = await self.runner.run(saver.restore, document, snapshot, request, shareable(self))
        limits = document_limits(settings)
        session = BokehSession(
            session_id,
            document,
            app_path=self.path,
            request=request,
            runner=self.runner,
            # A reconnecting tab's pull carries the whole document in one JSON frame (session.py).
            max_document_bytes=min(limits.max_document_bytes, limits.max_json_bytes),
            max_client_models=int(settings.MAX_CLIENT_MODELS),
            client_html=self.client_html(),
            client_offers=self.options.get("client_offers"),
            encodings=getattr(self.registry, "encoded_documents", None),
        )
        session.context = session_context
        session_context._set_session(session)
        if saver is not None:
            async with session.lock:
                must_save = saver.made(session, app_ids, build_names(built, names), snapshot, restored)
                # By the ids the store knows them by: the first build's, for a restored one.
                saved_ids = snapshot.app_ids if snapshot is not None else app_ids
                session.app_types = dict(zip(saved_ids, app_types, strict=False))
            hook = self.application.restored_hook() if snapshot is not None else None
            if hook is not None:
                # As Bokeh's hooks: no lock held (it may take it: with_locked_document).
                try:
                    await self.runner.call(hook, session_context)
                except Exception:
                    logger.exception("error in on_session_restored of Bokeh application %s", self.path)
            # A new session's first snapshot, before anyone sees it: its records build on
            # it. A restored session's snapshot and records still describe its document
            # (its models kept their ids): not saved again, so one grown past
            # MAX_SNAPSHOT_BYTES is restored too.
            try:
                if must_save:
                    await saver.save(session, first=True)
            except (StoreUnavailableError, SnapshotError):
                # Not in the store, so not made: its changes could be acknowledged and
                # then lost with the process (a restored one lives on in the store).
                saver.keeper.dropped(session)
                await session.destroy_callbacks()
                if snapshot is None:
                    await self._hook("on_session_destroyed", session_context)
                await session.destroy()
                raise
        self.sessions[session_id] = session  # type: ignore[assignment]
        self.sessions_created += 1
        return session

    def client_html(self) -> bool:
        """Whether browsers may write HTML and code into its sessions: as in Bokeh, unless other users see them.

        ``"client_html"`` in the app's entry decides; by default a shareable (or shared)
        app's sessions refuse it (client_html.py).
        """
        setting = self.options.get("client_html")
        return not shareable(self) if setting is None else bool(setting)

    def _initialize(self, document: Document) -> None:
        if self.application.title:
            document.title = self.application.title
        with patch_curdoc(document):
            self.application.app.initialize_document(document)  # type: ignore[union-attr]

    # -- broadcast (docsync's addition to Bokeh's ServerContext) ----------------------

    def _broadcast_delivery(self, msg_type: str, msg_data: Any) -> Callable[[Any], None]:
        """A broadcast reaches each session's ``on_message`` callbacks and its browsers."""

        def deliver(doc: Document) -> None:
            for callback in message_callbacks(doc, msg_type):
                callback(msg_data)
            doc.callbacks.trigger_on_change(MessageSentEvent(doc, msg_type, msg_data))

        return deliver

    # -- server-level callbacks (Bokeh's ServerContext.add_*_callback) ----------------

    def add_app_callback(self, callback: Callable[[], Any], kind: str, delay: float) -> SessionCallback:
        """Schedule an application-level callback (no session lock); callable from any thread."""
        handle: SessionCallback
        if kind == "periodic":
            handle = PeriodicCallback(callback, int(delay * 1000), callback_id=make_id())
        elif kind == "timeout":
            handle = TimeoutCallback(callback, int(delay * 1000), callback_id=make_id())
        else:
            handle = NextTickCallback(callback, callback_id=make_id())
        self._call_on_loop(self._start_app_callback, handle, kind, delay)
        return handle

    def remove_app_callback(self, handle: SessionCallback) -> None:
        """Cancel an application-level callback."""
        self._call_on_loop(self._stop_app_callback, handle)

    def _call_on_loop(self, func: Callable[..., None], *args: Any) -> None:
        loop = self._loop
        if loop is None:
            raise RuntimeError("server callbacks can be added once the application has loaded")
        if _running_loop() is loop:
            func(*args)
        else:
            loop.call_soon_threadsafe(func, *args)

    def _start_app_callback(self, handle: SessionCallback, kind: str, delay: float) -> None:
        assert self._loop is not None
        self._app_callbacks[handle.id] = self._loop.create_task(self._run_app_callback(handle, kind, delay))

    def _stop_app_callback(self, handle: SessionCallback) -> None:
        task = self._app_callbacks.pop(handle.id, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def _run_app_callback(self, handle: SessionCallback, kind: str, delay: float) -> None:
        while True:
            await asyncio.sleep(delay)
            try:
                await self.runner.call(handle.callback)
            except Exception:
                logger.exception("error in server callback %r of %s", handle.callback, self.path)
            if kind != "periodic":
                self._app_callbacks.pop(handle.id, None)
                return


def _running_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop running in this thread, if any."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
