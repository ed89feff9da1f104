"""Train a model by Absolute Zero self-play (arXiv 2505.03335) on verl 0.9.1.

    python -m recipe.azr.main_azr actor_rollout_ref.model.path=... trainer.default_local_dir=... [OVERRIDE ...]
    python -m recipe.azr.main_azr +device=cpu ...     # verl's trainer on this machine's CPU (recipe/rzero/cpu)

verl's `run_ppo` with a task runner that builds `RayAZRTrainer` (as `recipe.rzero.main_rzero` does
for R-Zero). AZR has no dataset: each step's batch is made by the self-play step
(`AZRAgentLoopManager`), so verl's dataloader reads a slot file of `data.train_batch_size`
identical placeholder rows (`<trainer.default_local_dir>/azr_slots.parquet`, written here) that
only counts the step's rows. The config is checked (`check_azr_config`, including a resumed
checkpoint's buffers) before Ray starts; the final checkpoint is merged into
`<trainer.default_local_dir>/model` (`recipe.rzero.training`'s contract), which evaluation reads.
"""

from __future__ import annotations

from pathlib import Path

import hydra
from omegaconf import DictConfig

from recipe.rzero.main_rzero import RZeroTaskRunner, launch
from recipe.rzero.main_rzero import train as train_on_verl
from recipe.rzero.rl_data import write_rl_parquet

from .azr_ray_trainer import RayAZRTrainer
from .config import check_azr_config

SLOT_DATA_SOURCE = "azr_slot"


class AZRTaskRunner(RZeroTaskRunner):
    """R-Zero's task runner (verl's v0 set-up) building `RayAZRTrainer`."""

    trainer_class = RayAZRTrainer


def write_slots(path: Path, rows: int) -> None:
    """The slot file: `rows` placeholder prompts, written atomically at each launch. Raises
    ValueError rather than overwrite a file at `path` that is not a slot file (`data.train_files`
    names a dataset)."""
    if path.is_file():
        import pyarrow.parquet as pq

        sources = set(pq.read_table(path, columns=["data_source"]).column("data_source").to_pylist())
        if sources != {SLOT_DATA_SOURCE}:
            raise ValueError(
                f"data.train_files={path} is not an AZR slot file: AZR has no dataset; leave data.train_files "
                "at its default (the slot file main_azr writes)"
            )
    slot = {"data_source": SLOT_DATA_SOURCE, "prompt": [{"role": "user", "content": "AZR self-play slot"}],
            "ability": "code", "reward_model": {"style": "rule", "ground_truth": ""}}  # fmt: skip
    write_rl_parquet(path, [{**slot, "extra_info": {"index": index}} for index in range(rows)])


def train(config: DictConfig, target: Path) -> None:
    """Self-play `trainer.total_training_steps` steps (resuming from the checkpoints); merge into `target`."""
    write_slots(Path(config.data.train_files), config.data.train_batch_size)
    train_on_verl(config, target, AZRTaskRunner)


@hydra.main(config_path="config", config_name="azr", version_base=None)
def main(config: DictConfig) -> None:
    launch(config, train, check_azr_config)


if __name__ == "__main__":
    main()
