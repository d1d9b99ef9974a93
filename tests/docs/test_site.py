"""The docs site builds with warnings as errors, its internal links lead somewhere, its reference covers the code.

The build is the one command the README gives (``python3 -m sphinx -W -b html docs
build/docs``), run fresh (``-E``) so that no cached page hides a warning; its output
stays under the untracked build/.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from docsync.conf import DEFAULTS
from docsync.exceptions import closing_errors

from .links import broken_links

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "build" / "docs"


@pytest.fixture(scope="module")
def site() -> Path:
    """Build the site once for this module; fail with Sphinx's output on any warning."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-E", "-q", "-b", "html", "docs", str(SITE)]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"the docs build warned or failed:\n{done.stdout}\n{done.stderr}"
    return SITE


def _page(site: Path, name: str) -> str:
    return (site / name).read_text(encoding="utf-8")


def test_every_internal_link_leads_somewhere(site: Path) -> None:
    assert (site / "index.html").exists()
    assert broken_links(site) == []


def test_the_link_check_finds_a_broken_link(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text('<a id="top" href="b.html#here">b</a><a href="a.html#top">a</a>', encoding="utf-8")
    (tmp_path / "b.html").write_text('<p id="there"><img src="missing.png"></p>', encoding="utf-8")
    assert broken_links(tmp_path) == ["a.html: b.html#here (no such anchor)", "b.html: missing.png (no such file)"]


def test_every_setting_is_in_the_reference(site: Path) -> None:
    page = _page(site, "reference/settings.html")
    missing = [key for key in DEFAULTS if f'id="setting-{key.lower().replace("_", "-")}"' not in page]
    assert missing == []


def test_every_system_check_is_in_the_reference(site: Path) -> None:
    source = "\n".join(
        (ROOT / "docsync" / name).read_text(encoding="utf-8") for name in ("checks.py", "site_checks.py")
    )
    ids = {line.split('id="', 1)[1].split('"', 1)[0] for line in source.splitlines() if 'id="docsync.' in line}
    page = _page(site, "reference/checks.html")
    assert len(ids) >= 10
    assert sorted(i for i in ids if i not in page) == []


def test_each_system_check_id_means_one_thing() -> None:
    sys.path.insert(0, str(ROOT / "docs" / "_ext"))
    try:
        from docsync_reference import system_checks
    finally:
        sys.path.remove(str(ROOT / "docs" / "_ext"))
    meanings: dict[str, set[str]] = {}
    for check in system_checks():
        meanings.setdefault(check["id"], set()).add(check["message"].split("{", 1)[0])
    assert len(meanings) >= 10
    assert {i: m for i, m in meanings.items() if len(m) > 1} == {}


def test_every_close_code_is_in_the_reference(site: Path) -> None:
    page = _page(site, "reference/errors.html")
    for cls in closing_errors():
        assert f'id="docsync.exceptions.{cls.__name__}"' in page
        assert f"<td><p>{cls.close_code}</p>" in page, cls


def test_models_mark_what_a_browser_may_write(site: Path) -> None:
    import docsync.document.models as models

    page = _page(site, "reference/models.html")
    assert 'id="model-slider"' in page and 'id="model-columndatasource"' in page
    # Slider.value is writable, Slider.title is not: the row says so, or does not.
    slider = page.split('id="model-slider"', 1)[1].split('<section id="model-', 1)[0]
    assert models.Slider.__client_writable__ == frozenset({"value"})
    assert '<code class="docutils literal notranslate"><span class="pre">value</span></code></p></td>' in slider
    rows = {row.split("</span>", 1)[0].rsplit(">", 1)[-1]: row for row in slider.split("<tr")[2:]}
    assert "<strong>yes</strong>" in rows["value"]
    assert "<strong>yes</strong>" not in rows["title"]


def test_the_tutorial_shows_every_file_its_test_runs() -> None:
    pages = "".join(path.read_text(encoding="utf-8") for path in (ROOT / "docs" / "tutorial").glob("*.md"))
    code = ROOT / "docs" / "tutorial" / "code"
    files = [path for path in code.rglob("*") if path.is_file() and path.name != "__init__.py"]
    assert len(files) >= 10
    hidden = [
        path
        for path in files
        if "{literalinclude} " + path.relative_to(ROOT / "docs" / "tutorial").as_posix() not in pages
    ]
    assert hidden == []


# Tables in furo's scrolling wrapper that overflow it, and whether the page itself is wider than the window.
_WIDE_TABLES = """() => [
  ...Array.from(document.querySelectorAll("article .table-wrapper"))
    .filter((box) => box.scrollWidth > box.clientWidth + 1)
    .map((box) => box.querySelector("th, td")?.innerText.trim() ?? "?"),
  ...(document.documentElement.scrollWidth > document.documentElement.clientWidth + 1 ? ["the page"] : []),
]"""


def test_no_table_scrolls_sideways_at_laptop_width(site: Path) -> None:
    from playwright.sync_api import sync_playwright

    pages = sorted(path.relative_to(site).as_posix() for path in site.rglob("*.html") if "_modules" not in path.parts)
    assert "reference/errors.html" in pages and "reference/checks.html" in pages
    wide: dict[str, list[str]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            for name in pages:
                page.goto((site / name).as_uri())
                if found := page.evaluate(_WIDE_TABLES):
                    wide[name] = found
        finally:
            browser.close()
    assert wide == {}
