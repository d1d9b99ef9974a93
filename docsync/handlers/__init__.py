"""Applications and the handlers that fill their sessions' documents."""

from __future__ import annotations

from .application import Application
from .directory import DirectoryHandler
from .function import FunctionHandler
from .handler import Handler
from .json_file import JSONHandler
from .script import ScriptHandler

__all__ = [
    "Application",
    "DirectoryHandler",
    "FunctionHandler",
    "Handler",
    "JSONHandler",
    "ScriptHandler",
]
