"""The contract of a training engine: train one role from a composed config, leave one HF model.

    python -m recipe.rzero.main_rzero --config-name rzero_<role> OVERRIDE ...   # ENGINE=verl
    python -m recipe.rzero.main_trl   --config-name rzero_<role> OVERRIDE ...   # ENGINE=trl

Both read the same composed Hydra config (`rzero_challenger.yaml` / `rzero_solver.yaml` plus the
same overrides), check it with `check_rzero_config`, train `trainer.total_training_steps` GRPO steps
(resuming from their own checkpoints under `trainer.default_local_dir`), log the same `rzero/*`
metrics, and write the final Hugging Face model to `<trainer.default_local_dir>/model` — verl merges
its final FSDP checkpoint there itself. The model directory appears only when complete (written as
`model.partial`, then renamed), and a run whose model exists is not trained again. So the loop
(`scripts/rzero_loop.sh`) and the report know nothing of either engine beyond its module.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from omegaconf import DictConfig

FINAL_MODEL_DIR = "model"


def final_model_dir(config: DictConfig) -> Path:
    """Where the training of `config` leaves its HF model: `<trainer.default_local_dir>/model`."""
    return Path(config.trainer.default_local_dir) / FINAL_MODEL_DIR


def train_role(
    config: DictConfig, train: Callable[[DictConfig, Path], None], check: Callable[[DictConfig], None]
) -> Path:
    """Run `train(config, directory)` — which trains and writes the HF model into `directory` — unless
    the final model already exists; return the final model's directory.

    Raises what `check(config)` raises for a config that cannot run (`check_rzero_config`; AZR's
    `check_azr_config`), before any training.
    """
    final = final_model_dir(config)
    if final.is_dir():
        print(f"[rzero] {final} exists: training already finished")
        return final
    check(config)
    partial = final.with_name(final.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)  # an interrupted save: made again from the checkpoints
    train(config, partial)
    partial.rename(final)
    print(f"[rzero] final model: {final}")
    return final
