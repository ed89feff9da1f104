"""Shared fixtures: the embedded model, the inference environment, the benchmark files."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.helpers import BENCHMARK_DIR

GIB = 2**30

# The suite runs on two pytest-xdist workers (`-n 2`, pyproject's addopts): on 2 cores much of a test's
# time is one thread (imports, engine and Ray start-up, the sandbox's processes), so two at a time take
# less time than one after another. A group's tests run on one worker, one after another: each module
# is a group (its module fixtures run once); the modules that start verl's trainer or Ray form one (a
# training takes about 10 GiB, and `stop_ray` stops every Ray process of the machine), and so do those
# using the coder model (one conversion per session). The longest groups come first, so that neither
# worker waits for the other at the end. (xdist's own `xdist_group` marks are lost with pytest 9.2,
# whose node ids xdist 3.8 can no longer rename: hence a scheduler of our own, xdist's hook for one.)
SHARED_GROUPS = {
    "tests/test_azr_verl_cpu.py": "verl",
    "tests/test_verl_cpu.py": "verl",
    "tests/test_code_loop.py": "verl",
    "tests/test_recipe_rewards.py": "verl",
    "tests/test_azr_seeding.py": "coder",
    "tests/test_code_stages.py": "coder",
    "tests/test_models.py": "coder",
}
LONGEST_FIRST = (
    "verl",
    "tests/test_loop.py",
    "coder",
    "tests/test_stages.py",
    "tests/test_solver_service.py",
    "tests/test_evaluation.py",
    "tests/test_trl_engine.py",
)


def worker_group(nodeid: str) -> str:
    """The group of the test `nodeid`: its module, or a `SHARED_GROUPS` one."""
    module = nodeid.split("::")[0]
    return SHARED_GROUPS.get(module, module)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {group: position for position, group in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(worker_group(item.nodeid), len(LONGEST_FIRST)))  # stable


def pytest_xdist_make_scheduler(config, log):
    """xdist's scheduling by scope (a scope's tests on one worker, scopes in collection order with
    `--no-loadscope-reorder`), with `worker_group` as the scope."""
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return worker_group(nodeid)

    return GroupScheduling(config, log)


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
