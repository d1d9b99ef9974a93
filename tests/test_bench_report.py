"""bench/run.py's report: a saved run's ``--report-from`` prints every section the run printed, none empty."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import run  # noqa: E402  (bench/ is not a package)

INFO: dict[str, Any] = {
    "date": "2026-12-06 01:00 UTC",
    "machine": "test machine",
    "python": "3.11",
    "versions": {"uvicorn": "0"},
    "commit": "abc1234",
    "mode": "quick",
    "reps": 1,
    "took": "1 min",
    "loadavg_start": "0.1 0.1 0.1",
    "loadavg_end": "0.1 0.1 0.1",
}
RELAY = {
    "processes": 3, "server": "uvicorn", "layer": "docsync", "route": "direct", "direct_p50_ms": 0.5,
    "relayed_p50_ms": 0.7, "direct_p99_ms": 1.0, "relayed_p99_ms": 1.4, "direct_rate": 1000.0,
    "relayed_rate": 750.0, "random_rate": 800.0, "added_p50_ms": 0.2, "relayed_vs_direct": 0.75,
    "random_vs_direct": 0.8,
}  # fmt: skip


def test_a_saved_run_of_the_scale_out_alone_prints_its_section_and_no_empty_tables(tmp_path: Path) -> None:
    saved = tmp_path / "saved.json"
    saved.write_text(json.dumps({"info": {**INFO, "relay": [RELAY]}, "runs": []}))
    text = run.rewrite_report(saved)
    assert "## Scale-out: 3 uvicorn processes" in text
    assert "0.75" in text  # the relayed / direct ratio, from the saved figures
    # Nothing but the scale-out ran: no scenario tables, empty or not.
    assert "## daphne (runserver's server) against uvicorn" not in text
    assert "## docsync under four ASGI servers" not in text
    assert "## Metrics overhead" not in text and "## Cost curves" not in text


def test_the_latest_full_run_rewritten_has_its_scenario_tables_and_every_saved_section() -> None:
    saved = json.loads((BENCH / "results" / "latest.json").read_text())
    text = run.rewrite_report(BENCH / "results" / "latest.json")
    assert saved["runs"] and "## daphne (runserver's server) against uvicorn" in text
    assert "round trip p50" in text
    sections = {"relay": "## Scale-out", "metrics_overhead": "## Metrics overhead", "curves": "## Cost curves"}
    for key, heading in sections.items():
        assert (heading in text) == bool(saved["info"].get(key)), heading
