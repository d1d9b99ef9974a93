"""Django app config for docsync."""

from __future__ import annotations

from django.apps import AppConfig


class DocsyncConfig(AppConfig):
    """Registers docsync's system checks and its clean-shutdown hook."""

    name = "docsync"
    verbose_name = "docsync live sessions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks, lifespan  # noqa: F401  (registers checks and atexit)
