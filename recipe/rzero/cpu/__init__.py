"""verl's own trainer on CPU: run and debug the recipe without GPUs (issue 11).

`python -m recipe.rzero.main_rzero --config-name rzero_{challenger,solver} +device=cpu ...`
(`config/device/cpu.yaml`) runs verl 0.9.1's real `RayPPOTrainer.fit()` - FSDP2 actor and
reference model, the reward loop, GRPO, checkpoints - in one process per role on a CPU. Nothing in
verl's installed files is edited; everything goes through verl's extension points:

- `VERL_USE_EXTERNAL_MODULES=recipe.rzero.cpu` makes verl import this package first in every process
  it starts (`verl/__init__.py`), and `VERL_PLATFORM=cpu` selects `platform.PlatformCPU`;
- `rollout.register()` adds the `hf` rollout (transformers' `generate`) to verl's rollout registries;
- three patches for code paths that assume an accelerator (`_patch_verl`, each naming its place).

`enable()` sets both variables in the launching process before Ray starts (Ray's workers inherit
them) and imports this package there too. World size 1 per role (one FSDP process) is the supported
layout; multi-process FSDP on CPU is not.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import dataclasses
import functools
import os

MODULE = __name__
LIBC = ctypes.CDLL(ctypes.util.find_library("c")) if ctypes.util.find_library("c") else None  # glibc
MMAP_THRESHOLD_BYTES = 64 * 1024
M_MMAP_THRESHOLD = -3  # glibc's malloc.h


def _unpinned_offload_policy_class() -> type:
    from torch.distributed.fsdp import CPUOffloadPolicy

    @dataclasses.dataclass
    class UnpinnedCPUOffloadPolicy(CPUOffloadPolicy):
        """FSDP2's CPU offload policy with `pin_memory` always false (verl asks for true)."""

        def __post_init__(self) -> None:
            self.pin_memory = False

    return UnpinnedCPUOffloadPolicy


def _patch_verl() -> None:
    import verl.utils.distributed as distributed
    import verl.workers.engine.fsdp.transformer_impl as transformer_impl
    from verl.workers.engine.base import EngineRegistry

    # 1. utils/distributed.py builds the backend "cpu:gloo,{device}:{backend}", which on this
    #    platform reads "cpu:gloo,cpu:gloo" and torch rejects: gloo alone is the same backend.
    original = distributed.initialize_global_process_group_ray

    @functools.wraps(original)
    def initialize_global_process_group_ray(timeout_second=None, backend=None):
        return original(timeout_second=timeout_second, backend=backend or "gloo")

    distributed.initialize_global_process_group_ray = initialize_global_process_group_ray
    # 2. The FSDP2 reference model is offloaded with CPUOffloadPolicy(pin_memory=True)
    #    (transformer_impl.py, _build_fsdp_module); pinning needs an accelerator.
    transformer_impl.CPUOffloadPolicy = _unpinned_offload_policy_class()
    # 3. The FSDP language-model engine is registered for cuda and npu only (here with a fixed mmap
    #    threshold in its process, `_fix_mmap_threshold`).
    class FSDPEngineWithLMHeadOnCPU(transformer_impl.FSDPEngineWithLMHead):
        def __init__(self, *args, **kwargs):
            _fix_mmap_threshold()
            super().__init__(*args, **kwargs)

    EngineRegistry.register(model_type="language_model", backend=["fsdp", "fsdp2"], device="cpu")(
        FSDPEngineWithLMHeadOnCPU
    )


def _fix_mmap_threshold() -> None:
    """Give every allocation of `MMAP_THRESHOLD_BYTES` or more its own mapping, returned to the OS when
    freed, in this process (glibc's `mallopt`).

    By default glibc raises its mmap threshold (up to 32 MiB) each time a large block is freed, after
    which freed parameter-, gradient- and optimizer-sized buffers stay on a fragmented heap: the
    embedded coder's FSDP actor grew from 8 to 15 GiB over two updates and checkpoint saves and the node
    ran out of memory (benchmarks/README.md, AZR on CPU). Only the trainer's process gets it: in the
    rollout server, where generation allocates and frees its cache every token, it tripled generation
    time.
    """
    if LIBC is None or not LIBC.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES):
        raise OSError(f"mallopt(M_MMAP_THRESHOLD, {MMAP_THRESHOLD_BYTES}) failed")


_installed = False


def _install() -> None:
    global _installed
    if _installed:
        return
    import torch

    from . import platform, rollout  # noqa: F401  (registers the `cpu` platform)

    rollout.register()
    _patch_verl()
    torch.set_num_threads(len(os.sched_getaffinity(0)))  # Ray sets OMP_NUM_THREADS=1 in its workers
    _installed = True


def enable() -> None:
    """Run verl on this machine's CPU in this process and in every process verl starts from it.

    Call before Ray starts. verl may have resolved its platform already while its modules were
    imported here (to the NVIDIA fallback): that choice is replaced.
    """
    from verl.plugin.platform import platform_manager

    os.environ["VERL_PLATFORM"] = "cpu"
    modules = [m for m in os.environ.get("VERL_USE_EXTERNAL_MODULES", "").split(",") if m]
    if MODULE not in modules:
        os.environ["VERL_USE_EXTERNAL_MODULES"] = ",".join([*modules, MODULE])
    _install()
    current = platform_manager._current_platform
    if current is not None and current.device_name != "cpu":
        from .platform import PlatformCPU

        platform_manager.set_platform(PlatformCPU())


if os.environ.get("VERL_PLATFORM", "").strip().lower() == "cpu":
    _install()
