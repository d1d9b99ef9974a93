"""docs/extending.md's Python example runs, and declares what the demo's board (its worked example) declares."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Run in a fresh interpreter: the example registers the type name NoteBoard, which the
# demo's own class holds in this process's registry when both are imported.
_PROBE = """
import json, sys
namespace = {"__name__": "extending_example"}
exec(sys.stdin.read(), namespace)
cls = namespace["NoteBoard"]
board = cls(notes=["a", "b"])
print(json.dumps({
    "writable": sorted(cls.__client_writable__),
    "view": cls.__view_module__,
    "properties": sorted(cls.properties()),
    "title": board.title,
    "notes": list(board.notes),
}))
"""


def test_the_extending_example_runs_and_matches_the_board() -> None:
    text = (ROOT / "docs" / "extending.md").read_text(encoding="utf-8")
    [code] = re.findall(r"```python\n(.*?)```", text, re.S)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], input=code, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    example = json.loads(done.stdout)

    from project.examples.board import NoteBoard

    assert example["writable"] == sorted(NoteBoard.__client_writable__) == ["notes"]
    assert example["view"] == NoteBoard.__view_module__
    assert example["properties"] == sorted(NoteBoard.properties())
    assert (example["title"], example["notes"]) == ("Notes", ["a", "b"])
    # A relative view module lives beside docsync's client modules.
    assert (ROOT / "docsync" / "static" / "docsync" / example["view"]).is_file()
