"""views/plotting/defaults.js is what scripts/plot_defaults.py makes of the models now."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_plot_defaults_of_the_browser_are_those_of_the_models() -> None:
    spec = importlib.util.spec_from_file_location("plot_defaults", ROOT / "scripts" / "plot_defaults.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.TARGET.read_text() == script.render(), "run python scripts/plot_defaults.py"
