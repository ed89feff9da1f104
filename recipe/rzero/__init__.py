"""R-Zero as a verl recipe: Challenger and Solver GRPO, the solver service and the data stages.

Registers the `rzero_cpu_compute_dtype` resolver for the training configs (`config/device/cpu.yaml`:
bf16 or fp32, `hardware.cpu_compute_dtype`) wherever OmegaConf is installed: every verl process
imports this package (the driver, and Ray's workers through `recipe.rzero.cpu`).
"""

try:
    from omegaconf import OmegaConf
except ImportError:  # the inference environment: no training configs there
    pass
else:
    from .hardware import cpu_compute_dtype

    OmegaConf.register_new_resolver("rzero_cpu_compute_dtype", cpu_compute_dtype, replace=True)
