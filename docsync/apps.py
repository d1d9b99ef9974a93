"""Django app config for docsync."""

from __future__ import annotations

from django.apps import AppConfig

__all__ = ["DocsyncConfig"]


class DocsyncConfig(AppConfig):
    """Registers docsync's system checks, its clean-shutdown hook, and the reloading of app files."""

    name = "docsync"
    verbose_name = "docsync live sessions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.utils.autoreload import autoreload_started

        from . import checks, lifespan  # noqa: F401  (registers checks and atexit)
        from .autoreload import watch_app_files

        autoreload_started.connect(watch_app_files, dispatch_uid="docsync.watch_app_files")
