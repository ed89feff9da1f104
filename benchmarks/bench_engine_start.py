"""Benchmark a vLLM stage on CPU with the engine in one process (our default) against vLLM's own
default, the baseline measured in the same run: why `recipe/rzero/vllm_engine.vllm_cpu_environment`
sets `VLLM_ENABLE_V1_MULTIPROCESSING=0`.

vLLM's default runs an offline engine's core and its worker in two more processes, each importing
vLLM and torch again; on a 2-core CPU that start-up, not generation, is most of a small stage. The
stage is `rzero generate` with the embedded model (its whole command, engine start included), run
with each setting; its output is the same (same seeds).

    python -m benchmarks.bench_engine_start                  # inference environment; 8 questions
    python -m benchmarks.bench_engine_start --questions 32
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from recipe.rzero.embedded_models import prepare_embedded_model

ROOT = Path(__file__).resolve().parents[1]


def time_stage(model: Path, questions: int, output: Path, multiprocessing: str) -> float:
    """Wall seconds of one `rzero generate` run with `VLLM_ENABLE_V1_MULTIPROCESSING=multiprocessing`."""
    command = [sys.executable, "-m", "recipe.rzero", "generate", "--model", str(model), "--output", str(output),
               "--num-questions", str(questions), "--max-tokens", "64", "--format-example", "--max-model-len", "1024",
               "--device", "cpu"]  # fmt: skip
    env = {**os.environ, "VLLM_ENABLE_V1_MULTIPROCESSING": multiprocessing}
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=8, help="questions the stage generates")
    args = parser.parse_args(argv)
    model = prepare_embedded_model()
    modes = ("1", "0")  # vLLM's default first, then ours
    with tempfile.TemporaryDirectory() as directory:
        outputs = {mode: Path(directory) / f"questions_{mode}.jsonl" for mode in modes}
        seconds = {mode: time_stage(model, args.questions, outputs[mode], mode) for mode in modes}
        stats = {mode: outputs[mode].with_name(f"questions_{mode}.stats.json").read_text() for mode in modes}
    same = stats["1"] == stats["0"]
    print(f"rzero generate, {args.questions} questions, {os.cpu_count()} cores:")
    print(f"  vLLM's default (worker processes): {seconds['1']:.1f} s")
    print(f"  one process (ours):                {seconds['0']:.1f} s ({seconds['1'] / seconds['0']:.2f}x faster)")
    print(f"  same question stats: {same}")


if __name__ == "__main__":
    main()
