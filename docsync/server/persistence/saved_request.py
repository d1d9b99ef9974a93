"""The request a session was made for, as its snapshot saves it: what a restore runs the app with.

An application reads its request (``session_context.request``: the query arguments,
and the headers and cookies the settings let through) while it builds the document, and
its callbacks may keep what it read. A restore runs the application again, so it runs it
with the request the session was made for, not the one of the page or websocket that
restores it. The user is not saved: a restore is the restoring connection's (checked
against the snapshot's, ``capture.apply_snapshot``), as is the anonymous visitor.

A client chooses these values, so they are bounded: saved whole when their JSON is at
most ``MAX_SAVED_REQUEST_BYTES``, else not at all (a restore then runs the app with the
restoring request, as for a snapshot written before requests were saved). A page or a
token never carries that much (``request_info.MAX_TOKEN_REQUEST_BYTES``); only a site's
own code can make a session with more (``docsync.bokeh.make_session(arguments=...)``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ...exceptions import SnapshotError

__all__ = ["MAX_SAVED_REQUEST_BYTES", "checked_request", "restoring_request", "saved_request"]

#: The most bytes of a session's arguments, headers and cookies a snapshot saves (their
#: compact JSON): above what a token carries (4900), so that a page's are always saved.
MAX_SAVED_REQUEST_BYTES = 8192

_PARTS = ("arguments", "headers", "cookies")


def _problem(value: Any) -> str | None:
    """Why ``value`` is not a saved request ({arguments: {name: [str]}, headers/cookies: {name: str}}), or None."""
    if type(value) is not dict or set(value) != set(_PARTS):
        return "not an object of arguments, headers and cookies"
    arguments = value["arguments"]
    if type(arguments) is not dict or not all(
        type(name) is str and type(values) is list and all(type(v) is str for v in values)
        for name, values in arguments.items()
    ):
        return "arguments are not names and lists of strings"
    for part in ("headers", "cookies"):
        entries = value[part]
        if type(entries) is not dict or not all(type(k) is str and type(v) is str for k, v in entries.items()):
            return f"{part} are not names and strings"
    return None


def saved_request(request: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """What a snapshot saves of ``request`` (a session's), and why nothing is saved (None when it is)."""
    parts = [request.get(part) or {} for part in _PARTS]
    if not all(isinstance(part, Mapping) for part in parts):
        return None, "arguments, headers or cookies are not mappings"
    # A site's own mapping (make_session's arguments) is saved as the plain dict it reads as.
    value = {name: dict(part) for name, part in zip(_PARTS, parts, strict=True)}
    problem = _problem(value)
    if problem is not None:
        return None, problem
    size = len(json.dumps(value, separators=(",", ":")).encode())
    if size > MAX_SAVED_REQUEST_BYTES:
        return None, f"{size} bytes of arguments, headers and cookies > {MAX_SAVED_REQUEST_BYTES}"
    return value, None


def checked_request(header: dict[str, Any]) -> dict[str, Any] | None:
    """The saved request of a snapshot's ``header`` (None: none saved, an earlier release's); SnapshotError if bad."""
    value: dict[str, Any] | None = header.get("request")
    if value is None:
        return None
    problem = _problem(value)
    if problem is None:
        size = len(json.dumps(value, separators=(",", ":")).encode())
        if size > MAX_SAVED_REQUEST_BYTES:
            problem = f"{size} bytes > {MAX_SAVED_REQUEST_BYTES}"
    if problem is not None:
        raise SnapshotError(f"corrupt snapshot: request: {problem}")
    return value


def restoring_request(request: dict[str, Any], saved: dict[str, Any] | None) -> dict[str, Any]:
    """The request a restore runs the app with: ``request`` (the restoring one's) with the ``saved`` parts."""
    if saved is None:
        return request
    return {**request, **{part: saved[part] for part in _PARTS}}
