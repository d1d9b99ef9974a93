"""Template tags: ``{% load docsync %}``."""

__all__: list[str] = []
