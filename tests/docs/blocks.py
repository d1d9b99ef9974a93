"""The fenced code blocks of the docs' Markdown pages, and the shell commands in them, for tests that run them."""

from __future__ import annotations

import re
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ROOT", "Block", "block", "blocks", "command_lines", "pages", "program"]

ROOT = Path(__file__).resolve().parents[2]

# A fence (``` or ~~~, three or more), its info string, its body, and the same fence
# closing it at the same indentation.
_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=indent)(?P=fence)[ \t]*$",
    re.M | re.S,
)


@dataclass(frozen=True)
class Block:
    """One fenced block: its page (relative to the repository), first line, language and text."""

    page: str
    line: int
    language: str
    text: str

    @property
    def first_line(self) -> str:
        """The block's first non-empty line, stripped: how the reviewed lists name a block."""
        return next((line.strip() for line in self.text.splitlines() if line.strip()), "")


def pages() -> list[Path]:
    """Every Markdown page of the docs site (not the example code under code/), and the README."""
    found = [p for p in (ROOT / "docs").rglob("*.md") if "code" not in p.relative_to(ROOT / "docs").parts]
    return sorted([*found, ROOT / "README.md"])


def blocks(page: Path, root: Path = ROOT) -> list[Block]:
    """The fenced blocks of ``page`` that hold text (MyST directives such as ``{literalinclude}`` are not)."""
    text = page.read_text(encoding="utf-8")
    found = []
    for match in _FENCE.finditer(text):
        info = match.group("info").strip()
        if info.startswith("{"):
            continue  # a directive: literalinclude, toctree, eval-rst...
        indent = len(match.group("indent"))
        body = "".join(line[indent:] + "\n" for line in match.group("body").splitlines())
        found.append(
            Block(
                page=page.relative_to(root).as_posix(),
                line=text.count("\n", 0, match.start()) + 1,
                language=info.split()[0] if info else "",
                text=body,
            )
        )
    return found


def block(page: str, language: str, starting: str) -> Block:
    """The one block of ``page`` in ``language`` whose first line starts with ``starting``."""
    [found] = [b for b in blocks(ROOT / page) if b.language == language and b.first_line.startswith(starting)]
    return found


def command_lines(text: str) -> list[str]:
    """The commands of a shell block: continuation lines joined, comments and blank lines dropped."""
    joined = re.sub(r"\\\n\s*", " ", text)
    commands = []
    for line in joined.splitlines():
        words = shlex.split(line, comments=True)
        if words:
            commands.append(line.split(" #", 1)[0].strip())
    return commands


def program(name: str) -> str:
    """The path of the console script ``name``: the one installed beside this Python first, else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    assert found, f"{name} is not installed"
    return found
