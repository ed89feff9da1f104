"""Train one R-Zero role with GRPO on verl 0.9.1.

    python -m recipe.rzero.main_rzero --config-name rzero_challenger actor_rollout_ref.model.path=... ...
    python -m recipe.rzero.main_rzero --config-name rzero_solver data.train_files=... ...

This is verl's `run_ppo` with a task runner that builds `RayRZeroTrainer` instead of
`RayPPOTrainer` (as verl-recipe's DAPO does); the rest of the set-up is verl's own helpers. After
the last step the final FSDP checkpoint is merged (verl's `model_merger`) into
`<trainer.default_local_dir>/model`, the training engines' common contract (`training.py`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import hydra
import ray
from omegaconf import DictConfig, OmegaConf
from verl.trainer.main_ppo import run_ppo
from verl.trainer.main_ppo_v0 import BaseTaskRunner
from verl.trainer.ppo.utils import need_critic, need_reference_policy
from verl.utils.config import validate_config
from verl.utils.device import auto_set_device

from .config_checks import check_rzero_config
from .rzero_ray_trainer import RayRZeroTrainer
from .training import train_role


class RZeroTaskRunner(BaseTaskRunner):
    """verl's v0 task runner building `trainer_class` (R-Zero's trainer; AZR's runner sets its own)."""

    trainer_class: type = RayRZeroTrainer

    def run(self, config: DictConfig) -> None:
        from verl.trainer.ppo.utils import create_rl_dataset, create_rl_sampler
        from verl.utils.config import omega_conf_to_dataclass
        from verl.utils.dataset.rl_dataset import collate_fn
        from verl.workers.config import HFModelConfig

        OmegaConf.resolve(config)
        actor_rollout_cls, ray_worker_group_cls = self.add_actor_rollout_worker(config)
        self.add_critic_worker(config)
        self.add_reward_model_resource_pool(config)
        self.add_ref_policy_worker(config, actor_rollout_cls)
        validate_config(config, use_reference_policy=need_reference_policy(config), use_critic=need_critic(config))
        model_config: HFModelConfig = omega_conf_to_dataclass(config.actor_rollout_ref.model)
        tokenizer, processor = model_config.tokenizer, model_config.processor

        def dataset(files, is_train: bool):
            max_samples = config.data.get("train_max_samples" if is_train else "val_max_samples", -1)
            return create_rl_dataset(files, config.data, tokenizer, processor, is_train=is_train, max_samples=max_samples)

        train_dataset = dataset(config.data.train_files, True)
        trainer = self.trainer_class(
            config=config,
            tokenizer=tokenizer,
            processor=processor,
            role_worker_mapping=self.role_worker_mapping,
            resource_pool_manager=self.init_resource_pool_mgr(config),
            ray_worker_group_cls=ray_worker_group_cls,
            train_dataset=train_dataset,
            val_dataset=dataset(config.data.val_files, False),
            collate_fn=collate_fn,
            train_sampler=create_rl_sampler(config.data, train_dataset),
        )
        trainer.init_workers()
        trainer.fit()


def merge_final_checkpoint(config: DictConfig, target: Path) -> None:
    """Merge the newest checkpoint of the finished training of `config` into an HF model at `target`.

    verl saves every `trainer.save_freq` steps and at the last one (when `save_freq` > 0) and names
    the newest in `latest_checkpointed_iteration.txt`. Raises `FileNotFoundError` when there is none.
    """
    from verl.model_merger.base_model_merger import ModelMergerConfig
    from verl.model_merger.fsdp_model_merger import FSDPModelMerger

    strategy = config.actor_rollout_ref.actor.strategy
    if strategy not in ("fsdp", "fsdp2"):
        raise ValueError(f"actor_rollout_ref.actor.strategy={strategy}: only FSDP checkpoints are merged")
    checkpoints = Path(config.trainer.default_local_dir)
    latest = checkpoints / "latest_checkpointed_iteration.txt"
    if not latest.is_file():
        raise FileNotFoundError(
            f"{latest} not found: verl saved no checkpoint (trainer.save_freq={config.trainer.save_freq} "
            "must be positive)"
        )
    actor = checkpoints / f"global_step_{latest.read_text().strip()}" / "actor"
    os.makedirs(target, exist_ok=True)
    merger = FSDPModelMerger(
        ModelMergerConfig(
            operation="merge",
            backend="fsdp",
            local_dir=str(actor),
            hf_model_config_path=str(actor / "huggingface"),
            target_dir=str(target),
        )
    )
    merger.merge_and_save()
    merger.cleanup()


def train(config: DictConfig, target: Path, task_runner: type = RZeroTaskRunner) -> None:
    """Train `config` with verl through `task_runner` (resuming from its checkpoints); merge it into `target`."""
    run_ppo(config, task_runner_class=ray.remote(num_cpus=1)(task_runner))
    merge_final_checkpoint(config, target)


def launch(config: DictConfig, train: Callable[[DictConfig, Path], None], check: Callable[[DictConfig], None]) -> None:
    """A Hydra main's body (R-Zero's and AZR's): verl on this CPU if `trainer.device=cpu` (`+device=cpu`),
    then `train_role`. The config is checked before Ray starts: a wrong setting should cost seconds, not minutes."""
    if config.trainer.device == "cpu":
        from .cpu import enable

        enable()
    auto_set_device(config)
    train_role(config, train, check)


@hydra.main(config_path="config", config_name="rzero_challenger", version_base=None)
def main(config: DictConfig) -> None:
    launch(config, train, check_rzero_config)


if __name__ == "__main__":
    main()
