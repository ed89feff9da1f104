"""Shared fixtures: the embedded model, the inference environment, the benchmark files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import BENCHMARK_DIR


@pytest.fixture(scope="session")
def benchmark_dir() -> Path:
    if not BENCHMARK_DIR.is_dir():
        pytest.fail(f"benchmark files expected in {BENCHMARK_DIR} (the shared/ folder beside the checkout)")
    return BENCHMARK_DIR


@pytest.fixture(scope="session")
def embedded_model() -> str:
    """The converted SmolLM2-135M-Instruct checkpoint (converted once per machine)."""
    from recipe.rzero.models import prepare_embedded_model

    return str(prepare_embedded_model())


@pytest.fixture(scope="session")
def infer_python() -> str:
    """The interpreter of the environment with vLLM (scripts/test.sh exports it)."""
    python = os.environ.get("RZERO_INFER_PYTHON")
    if not python or not Path(python).exists():
        pytest.fail("RZERO_INFER_PYTHON is not set: run the tests with `bash scripts/test.sh`")
    return python
