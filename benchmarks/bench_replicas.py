"""Benchmark engine replicas (issue 16): the same `label` work on one engine or on two, in one run.

Three layouts label the same GSM8K questions (m answers each, the embedded model, vLLM's CPU
build): one engine bound to one core, one engine on every core (the single-engine default), and
one replica per core. Wall time includes engine start-up, as a stage pays it. The benchmark asserts
that every layout wrote the same votes (in bf16 on a CPU without AMX vLLM's kernels let a few samples
differ: `--dtype float32` there; benchmarks/README.md). Target: replicas ≥ 1.0× the single engine on
all cores.

    python -m benchmarks.bench_replicas [--questions 96 --samples 4 --max-tokens 128 --dtype auto]   # infer env
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from recipe.rzero.embedded_models import prepare_embedded_model
from recipe.rzero.stages.label import LabelConfig, run_label, votes_path

DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "benchmarks"


def _label(work: Path, name: str, arguments: argparse.Namespace, replicas: int, cores: str | None) -> tuple[float, str]:
    if cores is not None:
        os.environ["VLLM_CPU_OMP_THREADS_BIND"] = cores
    config = LabelConfig(
        model=str(prepare_embedded_model()),
        device="cpu",
        output=work / f"{name}.parquet",
        benchmark="gsm8k",
        data_dir=arguments.data_dir,
        limit=arguments.questions,
        samples=arguments.samples,
        max_tokens=arguments.max_tokens,
        max_model_len=1024,
        chunk_size=arguments.chunk_size,
        filter=False,
        replicas=replicas,
        dtype=arguments.dtype,
    )
    started = time.perf_counter()
    run_label(config)
    seconds = time.perf_counter() - started
    os.environ.pop("VLLM_CPU_OMP_THREADS_BIND", None)
    return seconds, votes_path(config.output).read_text()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=96)
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--chunk-size", type=int, default=8)
    parser.add_argument("--dtype", default="auto", help="vLLM dtype (auto: bf16 with bf16 instructions, else fp32)")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    arguments = parser.parse_args()
    cores = sorted(os.sched_getaffinity(0))
    layouts = [
        ("one engine, one core", 1, str(cores[0])),
        (f"one engine, {len(cores)} cores", 1, ",".join(map(str, cores))),
        (f"{len(cores)} replicas, one core each", len(cores), None),
    ]
    print(
        f"label: {arguments.questions} GSM8K questions × {arguments.samples} answers, ≤ {arguments.max_tokens} tokens"
    )
    print("| layout | seconds | questions/s | vs one engine on all cores |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as work:
        results = [(name, *_label(Path(work), f"run{i}", arguments, n, c)) for i, (name, n, c) in enumerate(layouts)]
    baseline = results[1][1]
    for name, seconds, _ in results:
        print(f"| {name} | {seconds:.1f} | {arguments.questions / seconds:.2f} | {baseline / seconds:.2f}× |")
    assert len({votes for _, _, votes in results}) == 1, "the layouts wrote different votes"
    print("same votes in every layout: yes")


if __name__ == "__main__":
    main()
