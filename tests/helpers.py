"""Helpers the tests share: repository paths, running `rzero` commands, processes left after a stop."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
BENCHMARK_DIR = ROOT.parent / "shared" / "data" / "benchmarks"


def run_command(
    python: str, command: str, *args: str, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run `rzero <command>` (`python -m recipe.rzero`) from the repository root (`env`: extra variables),
    capturing its output."""
    result = subprocess.run(
        [python, "-m", "recipe.rzero", command, *map(str, args)],
        cwd=ROOT,
        env=os.environ | env if env else None,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"rzero {command} failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}")
    return result


def remove_checkpoints(run_dir: Path) -> None:
    """Delete the trainings' checkpoints under `run_dir` (verl's `global_step_N`, TRL's `checkpoint-N`;
    about 1.6 GiB each for the 135M model) once a module's tests have read them, keeping logs and
    records: the suite's peak disk use stays one run's checkpoints."""
    for pattern in ("global_step_*", "checkpoint-*"):
        for checkpoint in sorted(run_dir.rglob(pattern)):
            if checkpoint.is_dir():
                shutil.rmtree(checkpoint, ignore_errors=True)


def left_running(started: list[psutil.Process], timeout: float = 60) -> list[str]:
    """The commands of the `started` processes still running code after waiting up to `timeout` s for
    them to end (a zombie runs nothing, and no init may reap it here; a reused PID is not ours)."""
    _, alive = psutil.wait_procs(started, timeout=timeout)
    left = []
    for process in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                left.append(" ".join(process.cmdline()) or process.name())
    return left
