"""Under ``manage.py runserver``, editing a script app or a directory app restarts the server with the edit."""

from __future__ import annotations

import asyncio
import http.client
import time
from pathlib import Path

import pytest
import websockets

from docsync.client import ClientSession, ServerError, fetch_page_config
from docsync.testing import EVENT_WAIT

from .conftest import StartServer

APP = """from docsync.document.models import Div
doc.add_root(Div(text={text!r}, name="version"))
"""


async def _version(url: str, failures: list[str]) -> str | None:
    """The text a new session of the app at ``url`` shows, or None while the server restarts (why, in ``failures``)."""
    session = None
    try:
        config = await asyncio.to_thread(fetch_page_config, url)
        session = ClientSession(config)
        await asyncio.wait_for(session.connect(), EVENT_WAIT)
    except (TimeoutError, OSError, http.client.HTTPException, websockets.exceptions.InvalidMessage) as exc:
        # Nothing listens, or the process that answered exited mid-response or mid-handshake
        # (the old one reached while it exits: its reloader ends it with the server in it).
        failures.append(repr(exc))
        return None
    except ServerError as exc:
        # Reached the reloading process while it stopped (1013), or as it exited (1006: gone
        # without a close frame) between the handshake and the document.
        if exc.code == "close-1013" or (session is not None and session.close_code == 1006):
            failures.append(repr(exc))
            return None
        raise
    try:
        return str(session.document.get_model_by_name("version").text)
    finally:
        await session.close()


async def _wait_watched(log: Path, path: Path, timeout: float = 120) -> None:
    """Wait until the serving process's reloader has recorded ``path``'s mtime (its first look at it).

    Its reloader thread takes that look while the server starts serving: under load, a
    session can see the app before it. An edit made before that look is the file's first
    state to the reloader, not a change, and restarts nothing.
    """
    deadline = time.monotonic() + timeout
    while True:
        text = log.read_text(errors="replace")
        # One "Watching" line per serving process started, one "first seen" per process's look.
        started = text.count("Watching for file changes with")
        if started and text.count(f"File {path} first seen with mtime") >= started:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"no reloader looked at {path} in {timeout} s ({started} serving processes started)")
        await asyncio.sleep(0.1)


async def _wait_for_version(url: str, text: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    seen = None
    failures: list[str] = []
    while seen != text:
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} still shows {seen!r}, not {text!r}, after {timeout} s (last: {failures[-3:]})")
        await asyncio.sleep(0.3)
        seen = await _version(url, failures)


@pytest.mark.asyncio
async def test_script_and_directory_apps_reload_on_edit(start_server: StartServer, tmp_path: Path) -> None:
    script = tmp_path / "script_app.py"
    folder = tmp_path / "folder_app"
    folder.mkdir()
    script.write_text(APP.format(text="script 1"))
    (folder / "main.py").write_text(APP.format(text="folder 1"))
    server = start_server(
        "reload",
        kind="runserver",
        DJANGO_SETTINGS_MODULE="tests.server.reload_settings",
        DOCSYNC_RELOAD_SCRIPT=str(script),
        DOCSYNC_RELOAD_DIR=str(folder),
    )
    await _wait_for_version(server.url + "script/", "script 1")
    await _wait_for_version(server.url + "folder/", "folder 1")

    await _wait_watched(server.log, script)
    script.write_text(APP.format(text="script 2"))
    await _wait_for_version(server.url + "script/", "script 2")
    await _wait_watched(server.log, folder / "main.py")  # by the process started with script 2
    (folder / "main.py").write_text(APP.format(text="folder 2"))
    await _wait_for_version(server.url + "folder/", "folder 2")
    assert "Watching for file changes" in server.log.read_text(errors="replace")
