"""verl's `cpu` platform: the device, collective backend and Ray resource verl asks its platform for.

verl 0.9.1 resolves its platform once per process (`verl.plugin.platform.get_platform`, from
`VERL_PLATFORM` or by probing accelerators, silently falling back to NVIDIA). Registering this class
as `cpu` and setting `VERL_PLATFORM=cpu` in every verl process (`recipe.rzero.cpu.enable`) makes verl
place tensors on `"cpu"`, use gloo, and schedule its workers on Ray `GPU` slots that `ray.init`
declares (Ray's resource checks count only GPU/NPU: verl issue #3266). Nothing here pretends a GPU
exists beyond that Ray bookkeeping: memory figures are the process's and the machine's real ones.
"""

from __future__ import annotations

import contextlib
import os
from types import ModuleType
from typing import Any

import psutil
import torch
from verl.plugin.platform.platform_base import PlatformBase
from verl.plugin.platform.platform_manager import PlatformRegistry


class CPUDeviceModule(ModuleType):
    """`torch.cpu` plus the `torch.cuda` calls verl makes on its device module (memory, RNG, cache).

    Memory: `memory_allocated`/`memory_reserved` are this process's resident set and
    `mem_get_info()` is (available, total) RAM, in bytes; caches and IPC are no-ops; RNG state
    is torch's default CPU generator.
    """

    def __init__(self) -> None:
        super().__init__("rzero_cpu_device")
        self._peak_rss = 0

    def __getattr__(self, name: str) -> Any:  # everything else torch.cpu has: synchronize, Stream, ...
        return getattr(torch.cpu, name)

    def _rss(self) -> int:
        rss = psutil.Process().memory_info().rss
        self._peak_rss = max(self._peak_rss, rss)
        return rss

    def memory_allocated(self, device: Any = None) -> int:
        return self._rss()

    memory_reserved = memory_allocated

    def max_memory_allocated(self, device: Any = None) -> int:
        self._rss()
        return self._peak_rss

    max_memory_reserved = max_memory_allocated

    def reset_peak_memory_stats(self, device: Any = None) -> None:
        self._peak_rss = 0

    def mem_get_info(self, device: Any = None) -> tuple[int, int]:
        memory = psutil.virtual_memory()
        return memory.available, memory.total

    def empty_cache(self) -> None:
        pass

    def ipc_collect(self) -> None:
        pass

    def set_per_process_memory_fraction(self, fraction: float, device: Any = None) -> None:
        pass

    def get_device_name(self, device: Any = None) -> str:
        return "cpu"

    def get_rng_state(self, device: Any = None) -> torch.Tensor:
        return torch.get_rng_state()

    def set_rng_state(self, state: torch.Tensor, device: Any = None) -> None:
        torch.set_rng_state(state)

    def manual_seed(self, seed: int) -> None:
        torch.manual_seed(seed)

    manual_seed_all = manual_seed


@PlatformRegistry.register(platform="cpu")
class PlatformCPU(PlatformBase):
    """verl's platform interface on a machine without accelerators (one process per node: world size 1)."""

    _device_module = CPUDeviceModule()

    @property
    def device_name(self) -> str:
        return "cpu"

    @property
    def vendor_name(self) -> str:
        return "cpu"

    @property
    def device_module(self) -> ModuleType:
        return self._device_module

    def is_available(self) -> bool:
        return True

    def is_platform_available(self, use_smi_check: bool = False) -> bool:
        return os.environ.get("VERL_PLATFORM", "").strip().lower() == "cpu"  # never auto-detected

    def current_device(self) -> str:  # verl uses the result as a torch device
        return "cpu"

    def device_count(self) -> int:
        return 1

    def set_device(self, device_index: int) -> None:
        pass

    def synchronize(self, device_index: int | None = None) -> None:
        pass

    def manual_seed(self, seed: int) -> None:
        torch.manual_seed(seed)

    def manual_seed_all(self, seed: int) -> None:
        torch.manual_seed(seed)

    def set_allocator_settings(self, settings: str) -> None:
        pass

    def empty_cache(self) -> None:
        pass

    def get_device_capability(self, device_index: int = 0) -> tuple[int | None, int | None]:
        return None, None

    def communication_backend_name(self) -> str:
        return "gloo"

    def visible_devices_envvar(self) -> str:
        return "CUDA_VISIBLE_DEVICES"  # what Ray sets for the `GPU` slots verl's workers take

    @contextlib.contextmanager
    def nvtx_range(self, msg: str):
        yield

    def profiler_start(self) -> None:
        pass

    def profiler_stop(self) -> None:
        pass

    def ray_resource_name(self) -> str:
        return "GPU"

    def ray_noset_envvars(self) -> list[str]:
        return []

    def is_ipc_supported(self) -> bool:
        return False

    def cudart(self) -> Any:
        return None
