"""docsync: live, Python-driven documents served from Django over Channels."""

__version__ = "0.1.0"

__all__ = ["__version__"]
