"""Instructions counted by valgrind's cachegrind: steady where CPU time is not (shared by the counting scripts)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path


def summary_instructions(out: Path) -> int:
    """The user-space instructions (Ir, all threads) in a cachegrind output file."""
    for line in out.read_text().splitlines():
        if line.startswith("summary:"):
            return int(line.split()[1])
    raise RuntimeError(f"no summary in cachegrind's output {out}")


def script_instructions(script: str, *arguments: str) -> int:
    """Instructions of ``python script *arguments`` run under cachegrind (its output discarded).

    ``PYTHONHASHSEED`` is fixed so that two runs hash (and so iterate sets) alike, and
    BLAS kept to one thread (idle BLAS threads spin, adding instructions of no work).
    """
    with tempfile.TemporaryDirectory() as workdir:
        out = Path(workdir) / "cachegrind.out"
        command = [
            "valgrind", "--tool=cachegrind", "--cache-sim=no", f"--cachegrind-out-file={out}",
            sys.executable, script, *arguments,
        ]  # fmt: skip
        env = {**os.environ, "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1"}
        subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return summary_instructions(out)
