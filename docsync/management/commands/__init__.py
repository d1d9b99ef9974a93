"""``manage.py docsync_drain``."""

__all__: list[str] = []
