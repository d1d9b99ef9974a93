"""Hooks that fail while loading: the application must report it, not crash the server."""

raise RuntimeError("the hooks file fails on purpose")
