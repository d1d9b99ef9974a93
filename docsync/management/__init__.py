"""Django management commands of docsync."""

__all__: list[str] = []
