"""Django app config for docsync."""

from __future__ import annotations

from django.apps import AppConfig

__all__ = ["DocsyncConfig"]


class DocsyncConfig(AppConfig):
    """Registers docsync's checks, clean-shutdown hook and app-file reloading; applies dependency workarounds."""

    name = "docsync"
    verbose_name = "docsync live sessions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.utils.autoreload import autoreload_started

        from . import checks, lifespan, site_checks  # noqa: F401  (registers checks and atexit)
        from .autoreload import watch_app_files
        from .server.compat import apply_process_workarounds

        autoreload_started.connect(watch_app_files, dispatch_uid="docsync.watch_app_files")
        # daphne's classes patched once here, not per websocket: daphne's CLI imports its
        # server before the application, runserver and uvicorn through INSTALLED_APPS.
        apply_process_workarounds()
