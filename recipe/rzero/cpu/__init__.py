"""verl's own trainer on CPU: run and debug the recipe without GPUs (issue 11).

`python -m recipe.rzero.main_rzero --config-name rzero_{challenger,solver} +device=cpu ...`
(`config/device/cpu.yaml`) runs verl 0.9.1's real `RayPPOTrainer.fit()` - FSDP2 actor and
reference model, the reward loop, GRPO, checkpoints - in one process per role on a CPU. Nothing in
verl's installed files is edited; everything goes through verl's extension points:

- `VERL_USE_EXTERNAL_MODULES=recipe.rzero.cpu` makes verl import this package first in every process
  it starts (`verl/__init__.py`), and `VERL_PLATFORM=cpu` selects `platform.PlatformCPU`;
- `rollout.register()` adds the `hf` rollout (transformers' `generate`) to verl's rollout registries;
- four patches (`_patch_verl`, each naming its place): three for code paths that assume an
  accelerator, one for verl's fused log-prob kernels under FSDP2 with an untied output layer; and
  those kernels' chunk made a setting (`_set_fused_kernel_options`).

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
from collections.abc import Mapping
from typing import Any

MODULE = __name__
LIBC = ctypes.CDLL(ctypes.util.find_library("c")) if ctypes.util.find_library("c") else None  # glibc
MMAP_THRESHOLD_VARIABLE = "RZERO_TRAINER_MMAP_THRESHOLD"  # set by config/device/cpu.yaml (Ray's env_vars)
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
    from verl.utils import fsdp_utils
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
    # 3. The FSDP language-model engine is registered for cuda and npu only (here with the device
    #    config's fixed mmap threshold in its process, `_fix_mmap_threshold`).
    class FSDPEngineWithLMHeadOnCPU(transformer_impl.FSDPEngineWithLMHead):
        def __init__(self, *args, **kwargs):
            _fix_mmap_threshold()
            super().__init__(*args, **kwargs)
            _set_fused_kernel_options(self.model_config.fused_kernel_options or {})

    EngineRegistry.register(model_type="language_model", backend=["fsdp", "fsdp2"], device="cpu")(
        FSDPEngineWithLMHeadOnCPU
    )
    # 4. With fused kernels (`actor_rollout_ref.model.use_fused_kernels`) the model's forward
    #    (models/transformers/dense_common.py, forward_with_torch_backend) multiplies by
    #    `self.lm_head.weight` without calling `lm_head`, and apply_fsdp2 wraps an untied `lm_head`
    #    in its own FSDP2 unit (fsdp_utils._select_fsdp2_wrap_targets), so the weight is still a
    #    sharded DTensor there: "aten.mm.default got mixed torch.Tensor and DTensor". Leaving the
    #    output layer to the root unit, which is gathered for the whole forward, fixes it.
    fsdp_utils._select_fsdp2_wrap_targets = _output_layer_in_root_unit(fsdp_utils._select_fsdp2_wrap_targets)


def _output_layer_in_root_unit(select):
    """`select` (verl's FSDP2 wrap-target choice) without the output layer when the model's forward
    reads that layer's weight directly (verl marks such a model with `_verl_fused_kernels_backend`)."""

    @functools.wraps(select)
    def select_fsdp2_wrap_targets(model, *args, **kwargs):
        modules = select(model, *args, **kwargs)
        if getattr(model, "_verl_fused_kernels_backend", None) is None:
            return modules
        output_layer = model.get_output_embeddings()
        return [module for module in modules if module is not output_layer]

    return select_fsdp2_wrap_targets


_FUSED_KERNEL_OPTIONS = ("impl_backend", "chunk_size")  # verl 0.9.1 reads the first, we the second


def _set_fused_kernel_options(options: Mapping[str, Any]) -> None:
    """Make verl's fused log-prob kernels compute `options["chunk_size"]` positions' logits at a time
    in this process (`actor_rollout_ref.model.fused_kernel_options.chunk_size`; absent keeps verl's
    512).

    verl 0.9.1 builds `FusedLinearForPPO()` with its default 512-token chunk in every forward
    (models/transformers/dense_common.py); its backward holds a few fp32 chunk x vocabulary tensors at
    once. For the coder's 151,936-token vocabulary, 128 tokens took 1.3 GiB off the peak of a
    3-micro-batch update at the same speed (benchmarks/README.md, AZR on CPU). Raises ValueError for
    an option other than `impl_backend` and `chunk_size` (verl would ignore a misspelled one) and for
    a chunk that is not a positive integer.
    """
    unknown = sorted(set(options) - set(_FUSED_KERNEL_OPTIONS))
    if unknown:
        raise ValueError(
            f"actor_rollout_ref.model.fused_kernel_options has unknown keys {unknown}; "
            f"known: {list(_FUSED_KERNEL_OPTIONS)}"
        )
    tokens = options.get("chunk_size")
    if tokens is None:
        return
    if isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 1:
        raise ValueError(
            f"actor_rollout_ref.model.fused_kernel_options.chunk_size must be a positive integer, got {tokens!r}"
        )
    from verl.utils.experimental import torch_functional

    verl_class = getattr(torch_functional.FusedLinearForPPO, "verl_class", torch_functional.FusedLinearForPPO)

    class FusedLinearForPPO(verl_class):
        def __init__(self, chunk_size: int = tokens, impl_backend: str = "torch"):
            super().__init__(chunk_size=chunk_size, impl_backend=impl_backend)

    FusedLinearForPPO.verl_class = verl_class
    torch_functional.FusedLinearForPPO = FusedLinearForPPO


def _fix_mmap_threshold() -> None:
    """Give every allocation of `$RZERO_TRAINER_MMAP_THRESHOLD` bytes or more its own mapping, returned
    to the OS when freed, in this process (glibc's `mallopt`); unset or 0 keeps glibc's own threshold.

    `config/device/cpu.yaml` sets it for verl's Ray processes (`ray_kwargs.ray_init.runtime_env`);
    only the trainer's process applies it. By default glibc raises its threshold (up to 32 MiB) each
    time a large block is freed, after which freed parameter-, gradient- and optimizer-sized buffers
    stay on a fragmented heap: the embedded coder's FSDP actor grew from 8 to 15 GiB over two updates
    and checkpoint saves and the node ran out of memory (benchmarks/README.md, AZR on CPU; its example
    sets 64 KiB). A small threshold maps every activation afresh, whose pages the kernel zeroes on
    first touch: three SmolLM2 rows' forwards and backwards took 35.9 s at 64 KiB, 24.1 s at 4 MiB and
    23.1 s at glibc's own (benchmarks/bench_mmap_threshold.py). In the rollout server, which allocates
    and frees its cache every token, 64 KiB tripled generation time. Raises ValueError for a value that
    is not a non-negative integer of bytes below 2**31 (mallopt's C int), OSError if glibc refuses it.
    """
    value = os.environ.get(MMAP_THRESHOLD_VARIABLE, "0").strip()
    threshold = int(value) if value.isascii() and value.isdigit() else -1
    if not 0 <= threshold < 2**31:  # mallopt takes a C int
        raise ValueError(
            f"{MMAP_THRESHOLD_VARIABLE} must be a non-negative integer of bytes below 2**31, got {value!r}"
        )
    if threshold == 0:
        return
    if LIBC is None or not LIBC.mallopt(M_MMAP_THRESHOLD, threshold):
        raise OSError(f"mallopt(M_MMAP_THRESHOLD, {threshold}) failed ({MMAP_THRESHOLD_VARIABLE})")


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
