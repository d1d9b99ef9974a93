"""Testing an app: a real server process, a real websocket, the app's document checked from Python."""

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from docsync.client import ClientSession, fetch_page_config
from docsync.testing import ServerProcess

HERE = Path(__file__).resolve().parent


async def greeting_of(page_url):
    """Open a session of the page the way a browser would; return the greeting's text."""
    session = ClientSession(await asyncio.to_thread(fetch_page_config, page_url))
    await asyncio.wait_for(session.connect(), 15)
    try:
        [greeting] = [m for m in session.document.models.values() if m.name == "greeting"]
        return greeting.text
    finally:
        await session.close()


def test_the_greeting_names_the_region(tmp_path):
    env = {"DJANGO_SETTINGS_MODULE": "howto_site.settings", "HOWTO_DB": str(tmp_path / "db.sqlite3")}
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])
    # A migrated database: the page saves the anonymous visitor in a Django session.
    migrate = [sys.executable, "-m", "django", "migrate", "-v0"]
    subprocess.run(migrate, cwd=HERE, env={**os.environ, **env}, check=True, timeout=120)
    with ServerProcess("howto_site.asgi:application", cwd=HERE, env=env) as server:  # daphne, a free port
        text = asyncio.run(greeting_of(server.url + "dash/greeting/?region=west"))
    assert text == "Figures for west"
