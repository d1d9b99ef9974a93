"""The README's links lead somewhere: each relative link names a file of the repository, each #fragment a heading."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# [text](target) and ![alt](target), not inside code: the README's own links.
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
_FENCE = re.compile(r"^```.*?^```", re.M | re.S)


def _slug(heading: str) -> str:
    """A heading's anchor as GitHub (and MyST with heading anchors) makes it."""
    text = re.sub(r"[`*_]|<[^>]+>", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = _FENCE.sub("", page.read_text(encoding="utf-8"))
    return {_slug(line.lstrip("#")) for line in text.splitlines() if re.match(r"#{1,6} ", line)}


def broken_links(page: Path) -> list[str]:
    """Return 'link (why)' for every relative link of the Markdown file ``page`` that leads nowhere."""
    broken = []
    for link in _LINK.findall(_FENCE.sub("", page.read_text(encoding="utf-8"))):
        if re.match(r"[a-z]+:", link):
            continue  # http(s), mailto: not this check's business
        path, _, fragment = link.partition("#")
        target = (page.parent / path).resolve() if path else page
        if not target.exists():
            broken.append(f"{link} (no such file)")
        elif fragment and target.suffix == ".md" and fragment not in _anchors(target):
            broken.append(f"{link} (no such heading)")
    return broken


def test_every_readme_link_leads_somewhere() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(_LINK.findall(text)) >= 10
    assert broken_links(ROOT / "README.md") == []


def test_the_check_finds_a_broken_link(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# A `heading`, here\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text(
        "# Top\n[a](other.md#a-heading-here) [b](other.md#nope) [c](missing.md) [d](#top) [e](https://x.org/y)\n"
        "```\n[f](inside-code.md)\n```\n",
        encoding="utf-8",
    )
    assert broken_links(page) == ["other.md#nope (no such heading)", "missing.md (no such file)"]
