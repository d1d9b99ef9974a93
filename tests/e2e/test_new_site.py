"""A new Django site built from the README alone, from a wheel of docsync, under runserver, daphne and uvicorn.

The README's blocks are read from README.md (each starts with ``# mysite/<file>: <how>``
and its commands are its ``bash`` block), so the README cannot drift from what works.
One sdist and wheel are built per run (python -m build); the wheel goes into a fresh
venv that sees the machine's packages (Django, Channels, daphne, uvicorn, numpy) but
takes docsync from the wheel only, and the sdist into another.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import BrowserContext

from docsync.client import ClientSession, fetch_page_config
from docsync.testing import EVENT_WAIT, ServerProcess

from .browser import open_app, wait_for
from .conftest import ROOT, SCREENSHOTS

BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.S)
FILE_HEADER = re.compile(r"^# (mysite/[\w/.]+): (add at the end|the whole file|a new file)\n")
SERVERS = ("python manage.py runserver", "daphne", "uvicorn")
ADMIN = ("admin", "a-new-site-password")  # the README's createsuperuser, answered


def readme_blocks() -> tuple[dict[str, tuple[str, str]], list[str]]:
    """Return the README's file blocks ({path: (how, code)}) and its bash command lines."""
    files: dict[str, tuple[str, str]] = {}
    commands: list[str] = []
    for language, code in BLOCK.findall((ROOT / "README.md").read_text(encoding="utf-8")):
        header = FILE_HEADER.match(code)
        if language == "python" and header:
            files[header.group(1)] = (header.group(2), code)
        elif language == "bash" and "manage.py runserver" in code and not commands:
            commands = [line.split("#", 1)[0].strip() for line in code.splitlines() if line.strip()]
    return files, commands


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{shlex.join(command)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


class Site:
    """The new site: its folder, the venv's python, and the environment to run it in."""

    def __init__(self, folder: Path, python: Path, env: dict[str, str], commands: list[str]) -> None:
        self.folder = folder
        self.python = python
        self.env = env
        self.commands = commands
        self.dist: Path = folder  # where the sdist and the wheel were built

    def argv(self, line: str) -> list[str]:
        """The README's command line, run with the venv's python (so docsync comes from the wheel)."""
        words = shlex.split(line)
        if words[0] == "python":
            return [str(self.python), *words[1:]]
        return [str(self.python), "-m", *words]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """Build the sdist and the wheel, make the venv, start the project and apply the README to it."""
    work = tmp_path_factory.mktemp("new-site")
    # What packaging needs, copied: building never writes into the repository.
    source = work / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "docsync", source / "docsync", ignore=shutil.ignore_patterns("__pycache__"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith(("DJANGO_", "DOCSYNC_"))}
    wheels = work / "wheels"
    # python -m build makes the sdist, then the wheel from the sdist: a file the sdist
    # lacks is missing from the wheel too. Offline: the machine's setuptools builds.
    _run([sys.executable, "-m", "build", "--no-isolation", "-o", str(wheels), str(source)], work, env)
    [wheel] = wheels.glob("docsync-*.whl")
    venv = work / "venv"
    # No pip of the venv's own (ensurepip: ~5 s of CPU): the machine's pip, seen through
    # the system site-packages, installs into the venv that runs it.
    _run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], work, env)
    python = venv / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)], work, env)
    where = _run([str(python), "-c", "import docsync; print(docsync.__file__)"], work, env)
    assert str(venv) in where, f"docsync must come from the wheel, not {where}"

    _run([str(python), "-m", "django", "startproject", "mysite"], work, env)
    folder = work / "mysite"
    files, commands = readme_blocks()
    assert set(files) == {"mysite/settings.py", "mysite/urls.py", "mysite/asgi.py", "mysite/sliders.py"}
    for relative, (how, code) in files.items():
        path = folder / relative
        if how == "add at the end":
            path.write_text(path.read_text(encoding="utf-8") + "\n" + code, encoding="utf-8")
        else:
            path.write_text(code, encoding="utf-8")
    assert [c for c in commands if c.startswith(SERVERS)], "the README shows how to serve the site"
    site = Site(folder, python, env, commands)
    site.dist = wheels
    for line in commands:
        if "createsuperuser" in line:  # the README's prompts, answered
            answers = ["--noinput", "--username", ADMIN[0], "--email", "admin@example.com"]
            _run(site.argv(line) + answers, folder, {**env, "DJANGO_SUPERUSER_PASSWORD": ADMIN[1]})
        elif line.startswith("python manage.py") and not line.startswith(SERVERS):
            _run(site.argv(line), folder, env)  # migrate, check
    return site


def _port_arguments(line: str, port: int) -> list[str]:
    if line.startswith("python manage.py runserver"):
        return [f"127.0.0.1:{port}"]
    if line.startswith("daphne"):
        return ["-b", "127.0.0.1", "-p", str(port)]
    return ["--host", "127.0.0.1", "--port", str(port)]


class ReadmeServer(ServerProcess):
    """A server started with one of the README's command lines, on a free port."""

    def __init__(self, site: Site, line: str, log: Path) -> None:
        kind = "runserver" if "runserver" in line else line.split()[0]
        super().__init__(server=kind, cwd=site.folder, env=site.env, log_path=log)
        self.line = line
        self.site = site
        self.env = dict(site.env)  # not this process's environment: the site's own

    def command(self) -> list[str]:
        return self.site.argv(self.line) + _port_arguments(self.line, self.port)


@pytest.fixture(params=SERVERS, ids=["runserver", "daphne", "uvicorn"])
def served(request: pytest.FixtureRequest, site: Site, tmp_path: Path) -> Iterator[ReadmeServer]:
    [line] = [c for c in site.commands if c.startswith(request.param)]
    server = ReadmeServer(site, line, tmp_path / "server.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def _round_trip(page_url: str) -> tuple[float, float]:
    """Open a session of the page, move its slider; return (y[1] before, y[1] after the callback)."""
    config = await asyncio.to_thread(fetch_page_config, page_url)
    session = ClientSession(config)
    await asyncio.wait_for(session.connect(), 15)
    try:
        [slider] = [m for m in session.document.models.values() if type(m).__name__ == "Slider"]
        [source] = [m for m in session.document.models.values() if type(m).__name__ == "ColumnDataSource"]
        before = float(source.data["y"][1])
        slider.value = 3.0
        await session.sync(EVENT_WAIT)
        after = float(source.data["y"][1])
        np.testing.assert_allclose(source.data["y"], np.sin(3.0 * np.asarray(source.data["x"])))
        return before, after
    finally:
        await session.close()


def test_the_readme_site_serves_a_live_session(served: ReadmeServer, context: BrowserContext) -> None:
    status, index = served.get("dash/")
    assert status == 200 and 'href="/dash/sliders/"' in index
    status, page = served.get("dash/sliders/")
    assert status == 200 and 'id="docsync-config"' in page
    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # Playwright owns this thread's loop
        before, after = pool.submit(asyncio.run, _round_trip(served.url + "dash/sliders/")).result(timeout=60)
    assert before != after

    if served.server == "runserver":  # and in a browser, once
        browser_page = open_app(context, served.url + "dash/sliders/")
        browser_page.get_by_role("slider", name="frequency").focus()
        browser_page.keyboard.press("End")
        # The server's callback recomputed the curve for the slider's end (5).
        wait_for(lambda: 0 <= browser_page.evaluate(CURVE_ERROR) < 1e-9, 10, "the curve for frequency 5")
        browser_page.screenshot(path=SCREENSHOTS / "new-site.png", full_page=True)
        assert browser_page.errors == []  # type: ignore[attr-defined]
        _the_admin_lists_the_session(context, served.url)


def _the_admin_lists_the_session(context: BrowserContext, url: str) -> None:
    """The README's createsuperuser login, and its admin URL listing the open page's live session."""
    admin = context.new_page()
    admin.goto(url + "admin/docsync/livesession/")
    admin.fill("#id_username", ADMIN[0])
    admin.fill("#id_password", ADMIN[1])
    admin.locator("input[type=submit]").click()

    def listed() -> bool:  # the table is written every ADMIN_REFRESH (2 s)
        admin.goto(url + "admin/docsync/livesession/")
        rows = admin.locator("#result_list tbody tr")
        return rows.count() >= 1 and "sliders" in rows.first.inner_text()

    wait_for(listed, 10, "the admin to list the sliders session", interval=0.5)


# How far the page's curve is from sin(5x): the README's app names no model, so find them by type.
CURVE_ERROR = """() => {
  const models = [...window.docsync.document.models.values()];
  const slider = models.find((m) => m.type === 'Slider');
  const data = models.find((m) => m.type === 'ColumnDataSource').get('data');
  if (slider.get('value') !== 5) return -1;
  return Math.max(...Array.from(data.x, (x, i) => Math.abs(data.y[i] - Math.sin(5 * x))));
}"""


def test_the_sdist_installs_in_a_fresh_venv(site: Site, tmp_path: Path) -> None:
    """The sdist builds and installs on its own, with docsync's JavaScript, templates and metadata."""
    [sdist] = site.dist.glob("docsync-*.tar.gz")
    venv = tmp_path / "venv"
    # Without a pip of its own, the venv uses the machine's pip and setuptools: ensurepip's
    # bundled setuptools may predate PEP 639's licence expressions, which building needs.
    _run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], tmp_path, site.env)
    python = venv / "bin" / "python"
    install = [str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--no-build-isolation", "-q", str(sdist)]
    _run(install, tmp_path, site.env)
    probe = (
        "import importlib.metadata as m, pathlib, docsync\n"
        "root = pathlib.Path(docsync.__file__).parent\n"
        "meta = m.metadata('docsync')\n"
        "print(root)\n"
        "print((root / 'static/docsync/connection.js').is_file(), (root / 'py.typed').is_file())\n"
        "print(meta['License-Expression'], len(meta.get_all('Classifier')), meta['Requires-Python'])\n"
    )
    where, files, meta = _run([str(python), "-c", probe], tmp_path, site.env).splitlines()[:3]
    assert where.startswith(str(venv)), f"docsync must come from the sdist, not {where}"
    assert files == "True True"
    license_, classifiers, python_requires = meta.split()
    assert license_ == "BSD-3-Clause" and int(classifiers) >= 10 and python_requires == ">=3.11"
