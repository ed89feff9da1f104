"""Which dtype this machine's CPU computes fast in: vLLM's CPU build (`vllm_engine.resolve_dtype`) and
verl's trainer on CPU (`config/device/cpu.yaml`, through the `rzero_cpu_compute_dtype` resolver that
`recipe/rzero/__init__.py` registers) compute in bf16 only where the CPU has bf16 instructions.

Without them torch and vLLM run bf16 products on a slow fallback (an AVX2 EPYC, 2026-12-01: a
SmolLM2 512-token training row's backward 24x slower than in fp32, vLLM's SmolLM2 2.7x fewer
tokens/s; `benchmarks/bench_compute_dtype.py`, `benchmarks/bench_solver.py --dtype`); with AMX, bf16
is the faster (vLLM: 439 against 203 tokens/s; benchmarks/README.md).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

__all__ = ["cpu_bf16_instructions", "cpu_compute_dtype"]


def cpu_bf16_instructions(cpuinfo: Path = Path("/proc/cpuinfo")) -> list[str]:
    """The bf16 instruction sets (`avx512_bf16`, `amx_bf16`) among the CPU's flags in `cpuinfo`,
    sorted; [] if it has none or the file does not exist (not Linux)."""
    flags = cpuinfo.read_text() if cpuinfo.exists() else ""
    return sorted(set(re.findall(r"\b(avx512_bf16|amx_bf16)\b", flags)))


def cpu_compute_dtype() -> Literal["bf16", "fp32"]:
    """`bf16` where the CPU has bf16 instructions, else `fp32` (verl's spelling of the two)."""
    return "bf16" if cpu_bf16_instructions() else "fp32"
