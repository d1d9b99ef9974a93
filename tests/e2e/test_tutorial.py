"""The tutorial (docs/tutorial/), step by step, from its own files, on a real server and in Chromium.

Each step's folder under docs/tutorial/code/ holds the files the step writes (each starts
with ``# <path>: the whole file | add at the end | a new file``) and its ``commands.sh``,
which this test runs line by line: ``django-admin``, ``cd`` and ``manage.py`` commands,
``runserver`` started as a real server process on a free port. The docs show these very
files, so the tutorial cannot drift from what works. Screenshots go to build/screenshots/
(``scripts/screenshots.sh`` copies them into docs/screenshots/, which the tutorial shows).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page

from docsync.client import ClientSession, fetch_page_config
from docsync.testing import EVENT_WAIT, ServerProcess
from tests.docs.blocks import block, command_lines

from .browser import open_app, wait_for
from .conftest import ROOT, SCREENSHOTS

CODE = ROOT / "docs" / "tutorial" / "code"
STEPS = sorted(path.name for path in CODE.iterdir() if path.is_dir())
# A page's inclusions of its step's files, in order: the file, and the lines shown (all if none).
INCLUDE = re.compile(
    r"```\{literalinclude\} code/[\w-]+/([\w/.]+)\n(?::(?!lines:)\w[\w-]*:.*\n)*(?::lines: ([\d-]+)\n)?"
)
HEADER = re.compile(r"^# ([\w/.]+): (the whole file|add at the end|a new file)\b.*\n")
PAGE = "dash/dashboard/"
USER = ("ada", "change-me-too")

# Read the browser's document: the one data source's rows.
ROWS = """() => {
  const models = [...window.docsync.document.models.values()];
  const data = models.find((m) => m.type === 'ColumnDataSource').get('data');
  return Array.from(data.temperature, Number);
}"""


def _page(step: str) -> Path:
    """The tutorial page of a step: ``1-project`` is ``docs/tutorial/1-project.md``."""
    return CODE.parent / f"{step}.md"


class Tutorial:
    """The reader's project: the folder commands run in, and the steps applied so far."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.cwd = work
        self.applied: list[str] = []
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DOCSYNC_"))}
        self.env["PYTHONPATH"] = str(ROOT)  # docsync as installed: this checkout
        self.server_lines: dict[str, list[str]] = {}

    def run(self, line: str) -> str:
        """Run one line of a step's commands.sh (not runserver: ``serve`` starts that)."""
        words = shlex.split(line)
        env = dict(self.env)
        while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):
            name, value = words.pop(0).split("=", 1)
            env[name] = value
        if words[0] == "cd":
            self.cwd = self.cwd / words[1]
            return ""
        if words[0] == "django-admin":
            argv = [sys.executable, "-m", "django", *words[1:]]
        elif words[:2] == ["python", "manage.py"]:
            argv = [sys.executable, *words[1:]]
        else:
            raise AssertionError(f"the tutorial runs a command this test does not know: {line!r}")
        done = subprocess.run(argv, cwd=self.cwd, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{line} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def write(self, step: str) -> None:
        """Write the step's files into the project, as their first lines say."""
        for source in sorted((CODE / step).rglob("*.py")):
            code = source.read_text(encoding="utf-8")
            header = HEADER.match(code)
            assert header, f"{source} does not start with '# <path>: <how>'"
            relative = source.relative_to(CODE / step).as_posix()
            assert header.group(1) == relative, f"{source} says it is {header.group(1)}"
            target = self.cwd / relative
            if header.group(2) == "add at the end":
                target.write_text(target.read_text(encoding="utf-8") + "\n" + code, encoding="utf-8")
            else:
                assert (header.group(2) == "a new file") != target.exists() or target.stat().st_size == 0, target
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(code, encoding="utf-8")

    def apply(self, upto: str) -> None:
        """Apply every step up to ``upto`` not applied yet, in the order its page shows them.

        The page includes parts of ``commands.sh`` (``:lines:``) and the step's files: each
        part's commands run where the page shows them (runserver aside: ``serve`` starts it)
        and the files go in at the first file the page shows, as a reader does it.
        """
        for step in STEPS[: STEPS.index(upto) + 1]:
            if step in self.applied:
                continue
            lines = [ln.strip() for ln in (CODE / step / "commands.sh").read_text().splitlines()]
            assert any(ln.endswith("manage.py runserver") for ln in lines), f"step {step} ends by serving the site"
            shown: list[int] = []
            written = False
            for included, chosen in INCLUDE.findall(_page(step).read_text(encoding="utf-8")):
                if included != "commands.sh":
                    if not written:
                        self.write(step)
                        written = True
                    continue
                first, _, last = (chosen or f"1-{len(lines)}").partition("-")
                numbers = range(int(first), int(last or first) + 1)
                shown += numbers
                for line in (lines[n - 1] for n in numbers):
                    if line and not line.endswith("manage.py runserver"):
                        self.run(line)
            assert written or not any((CODE / step).rglob("*.py")), f"the page of {step} shows none of its files"
            assert sorted(shown) == list(range(1, len(lines) + 1)), (
                f"the page of {step} shows lines {shown} of commands.sh"
            )
            self.applied.append(step)

    @contextlib.contextmanager
    def serving(self, step: str) -> Iterator[ServerProcess]:
        """Apply the steps up to ``step``, then ``python manage.py runserver`` (on a free port) until the end."""
        self.apply(step)
        server = ServerProcess(server="runserver", cwd=self.cwd, log_path=self.work / f"{step}.log")
        server.env = dict(self.env)  # the reader's environment, not this process's settings
        server.start()
        try:
            yield server
        finally:
            server.stop()
        # What the reader sees in the terminal: no migration left to apply, no traceback.
        log = (self.work / f"{step}.log").read_text(encoding="utf-8", errors="replace")
        assert "unapplied migration" not in log and "Traceback" not in log, log


@pytest.fixture(scope="module")
def tutorial(tmp_path_factory: pytest.TempPathFactory) -> Tutorial:
    return Tutorial(tmp_path_factory.mktemp("tutorial"))


def _thread(coroutine: object) -> object:
    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # Playwright owns this thread's loop
        return pool.submit(asyncio.run, coroutine).result(timeout=60)  # type: ignore[arg-type]


async def _move_the_slider(url: str) -> tuple[float, float]:
    session = ClientSession(await asyncio.to_thread(fetch_page_config, url))
    await asyncio.wait_for(session.connect(), 15)
    try:
        [slider] = [m for m in session.document.models.values() if type(m).__name__ == "Slider"]
        [source] = [m for m in session.document.models.values() if type(m).__name__ == "ColumnDataSource"]
        before = max(source.data["temperature"])
        slider.value = 10.0
        await session.sync(EVENT_WAIT)
        return before, max(source.data["temperature"])
    finally:
        await session.close()


def test_step_1_a_project_and_a_plot(tutorial: Tutorial, context: BrowserContext) -> None:
    with tutorial.serving("1-project") as served:
        status, index = served.get("dash/")
        assert status == 200 and 'href="/dash/dashboard/"' in index
        before, after = _thread(_move_the_slider(served.url + PAGE))  # type: ignore[misc]
        assert before == pytest.approx(18.0) and after == pytest.approx(22.0)  # 12 + swing, at 15 h

        page = open_app(context, served.url + PAGE)
        page.get_by_role("slider", name="daily swing (°C)").focus()
        page.keyboard.press("End")  # the slider's end: 15 °C of swing, so 27 °C at 15 h
        wait_for(lambda: max(page.evaluate(ROWS)) == pytest.approx(27.0), 10, "the curve for a 15 °C swing")
        page.screenshot(path=SCREENSHOTS / "tutorial-1-plot.png", full_page=True)
        assert page.errors == []  # type: ignore[attr-defined]


def test_step_2_the_database_live(tutorial: Tutorial, context: BrowserContext) -> None:
    with tutorial.serving("2-database") as served:
        page = open_app(context, served.url + PAGE)
        assert page.evaluate(ROWS) == [7.5]  # Bergen (the first station) as the step's commands recorded it

        # another process writes to the database: the command the page shows
        [record] = command_lines(block("docs/tutorial/2-database.md", "bash", "python manage.py record").text)
        assert record == "python manage.py record Bergen 8.25"  # the values this test then looks for
        tutorial.run(record)
        wait_for(lambda: page.evaluate(ROWS) == [7.5, 8.25], 15, "the new reading streamed to the page")
        wait_for(lambda: "8.25" in page.inner_text("body"), 10, "the new reading in the table")

        page.get_by_role("combobox", name="station").select_option("Oslo")
        wait_for(lambda: page.evaluate(ROWS) == [4.5, 5.0], 10, "Oslo's readings")
        page.screenshot(path=SCREENSHOTS / "tutorial-2-database.png", full_page=True)
        assert page.errors == []  # type: ignore[attr-defined]


def _log_in(context: BrowserContext, url: str) -> Page:
    page = context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda error: page.errors.append(str(error)))  # type: ignore[attr-defined]
    page.goto(url + PAGE)  # login_required: the login form first
    assert "/admin/login/" in page.url and "next=/dash/dashboard/" in page.url
    page.fill("#id_username", USER[0])
    page.fill("#id_password", USER[1])
    page.click("input[type=submit]")
    page.wait_for_function("window.docsync && window.docsync.state === 'live'", timeout=EVENT_WAIT * 1000)
    return page


def test_step_3_a_login_rule(tutorial: Tutorial, context: BrowserContext) -> None:
    with tutorial.serving("3-login") as served:
        status, body = served.get(PAGE)  # urllib follows the redirect to the login form
        assert status == 200 and 'id="id_username"' in body
        assert 'id="docsync-config"' not in body  # an anonymous visitor gets no session

        page = _log_in(context, served.url)
        assert page.url == served.url + PAGE
        greeting = page.get_by_text("Signed in as")  # what the reader sees: the name in bold, no tags
        assert greeting.inner_text() == "Signed in as ada"
        assert greeting.locator("b").inner_text() == "ada"
        assert page.evaluate(ROWS)[:1] == [7.5]
        page.screenshot(path=SCREENSHOTS / "tutorial-3-login.png", full_page=True)
        assert page.errors == []  # type: ignore[attr-defined]


def test_step_4_the_admins_live_sessions(tutorial: Tutorial, context: BrowserContext) -> None:
    with tutorial.serving("4-admin") as served:
        dashboard = _log_in(context, served.url)
        admin = context.new_page()
        admin.goto(served.url + "admin/")
        admin.get_by_role("link", name="Live sessions", exact=True).click()
        # The list is written every ADMIN_REFRESH (2 s): reload until ada's dashboard row is in.
        # (The previous step's runserver may still have its own anonymous row listed: a
        # process's rows go when it reports no more, after PROCESS_TIMEOUT.)
        row = admin.locator("#result_list tbody tr", has_text="dashboard").filter(has_text="ada")
        for _ in range(20):
            if row.count():
                break
            admin.wait_for_timeout(500)
            admin.reload()
        assert row.count() == 1, admin.inner_text("body")
        # Every column is in view in a laptop's window: the list does not scroll sideways.
        results = admin.locator("#changelist .results")
        assert results.evaluate("(el) => el.scrollWidth <= el.clientWidth"), results.evaluate("(el) => el.scrollWidth")
        admin.screenshot(path=SCREENSHOTS / "tutorial-4-admin.png", full_page=True)
        # Then (after the picture: this rewrites ada's row) still so with the widest a row's
        # cells get: an anonymous visitor's session (a row of the previous step's process
        # may be listed, whenever this step runs), made yesterday (its times dated).
        widest = admin.locator("#result_list tbody tr").first
        widest.evaluate(
            """(row) => {
                row.querySelector("td.field-user_name").textContent = "anonymous";
                for (const cell of row.querySelectorAll("td.field-created_at, td.field-active_at")) {
                    cell.textContent = "2026-12-05 23:59:59";
                }
            }"""
        )
        assert results.evaluate("(el) => el.scrollWidth <= el.clientWidth"), results.evaluate("(el) => el.scrollWidth")
        assert dashboard.errors == []  # type: ignore[attr-defined]
