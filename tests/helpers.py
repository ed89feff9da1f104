"""Helpers the tests share: repository paths and running the stage scripts."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCHMARK_DIR = ROOT.parent / "shared" / "data" / "benchmarks"


def run_script(python: str, script: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run `scripts/<script>` with `python` from the repository root, capturing its output."""
    result = subprocess.run(
        [python, str(ROOT / "scripts" / script), *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"{script} failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}")
    return result

