"""Benchmark one training row's forward and backward on this CPU under the trainer's mmap threshold
(`config/device/cpu.yaml`, `RZERO_TRAINER_MMAP_THRESHOLD`) against 64 KiB (the AZR coder example's)
and glibc's own, measured in the same run: why the device config sets 4 MiB.

Each threshold runs in its own process, applied as the FSDP engine's process applies it
(`recipe.rzero.cpu._fix_mmap_threshold`): a warm-up row, then `--repeats` rows of `--tokens` tokens
of a model of SmolLM2-135M's shape (`bench_compute_dtype`; random weights), fp32, with and without
gradient checkpointing. A small threshold maps every activation afresh, whose pages the kernel zeroes
on first touch (system time, minor page faults).

    python -m benchmarks.bench_mmap_threshold
    python -m benchmarks.bench_mmap_threshold --tokens 900 --repeats 2
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from omegaconf import OmegaConf

from recipe.rzero.cpu import MMAP_THRESHOLD_VARIABLE

DEVICE_CONFIG = Path(__file__).resolve().parents[1] / "recipe" / "rzero" / "config" / "device" / "cpu.yaml"

AZR_CODER_EXAMPLE = 64 * 1024


def measure(tokens: int, repeats: int, checkpointing: bool) -> dict[str, float]:
    """In this process, after `_fix_mmap_threshold`: wall and system seconds and minor page faults of
    `repeats` rows' forwards and backwards."""
    import torch

    from benchmarks.bench_compute_dtype import time_row, training_model
    from recipe.rzero.cpu import _fix_mmap_threshold

    _fix_mmap_threshold()
    model = training_model(checkpointing)
    time_row(model, tokens, torch.float32)  # warm-up
    before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    for _ in range(repeats):
        time_row(model, tokens, torch.float32)
    after = resource.getrusage(resource.RUSAGE_SELF)
    return {"wall": time.perf_counter() - start, "system": after.ru_stime - before.ru_stime,
            "faults": after.ru_minflt - before.ru_minflt}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=int, default=600, help="the row's length")
    parser.add_argument("--repeats", type=int, default=3, help="rows timed after the warm-up")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)  # 1/0: checkpointing, in a child process
    args = parser.parse_args(argv)
    if args.child is not None:
        print(json.dumps(measure(args.tokens, args.repeats, bool(args.child))))
        return
    device = int(OmegaConf.load(DEVICE_CONFIG).ray_kwargs.ray_init.runtime_env.env_vars[MMAP_THRESHOLD_VARIABLE])
    thresholds = {"64 KiB (AZR coder example)": AZR_CODER_EXAMPLE, f"{device} (device config)": device,
                  "glibc's own": 0}  # fmt: skip
    print(f"{args.repeats} rows x {args.tokens} tokens, fp32, forward and backward")
    for checkpointing in (1, 0):
        baseline = None
        for name, threshold in thresholds.items():
            command = [sys.executable, "-m", "benchmarks.bench_mmap_threshold", "--tokens", str(args.tokens),
                       "--repeats", str(args.repeats), "--child", str(checkpointing)]  # fmt: skip
            env = {**os.environ, MMAP_THRESHOLD_VARIABLE: str(threshold)}
            result = json.loads(subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout)
            baseline = baseline or result["wall"]
            print(f"checkpointing {'on ' if checkpointing else 'off'} threshold {name:28}: wall {result['wall']:6.1f} s, "
                  f"system {result['system']:5.1f} s, {result['faults'] / 1e6:4.2f} M faults, "
                  f"{baseline / result['wall']:.2f}x the 64 KiB speed")  # fmt: skip


if __name__ == "__main__":
    main()
