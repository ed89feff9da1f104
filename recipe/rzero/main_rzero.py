"""Train one R-Zero role with GRPO on verl 0.9.1.

    python -m recipe.rzero.main_rzero --config-name rzero_challenger actor_rollout_ref.model.path=... ...
    python -m recipe.rzero.main_rzero --config-name rzero_solver data.train_files=... ...

This is verl's `run_ppo` with a task runner that builds `RayRZeroTrainer` instead of
`RayPPOTrainer` (as verl-recipe's DAPO does); the rest of the set-up is verl's own helpers.
"""

from __future__ import annotations

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


class RZeroTaskRunner(BaseTaskRunner):
    """verl's v0 task runner with R-Zero's trainer."""

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
        trainer = RayRZeroTrainer(
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


@hydra.main(config_path="config", config_name="rzero_challenger", version_base=None)
def main(config: DictConfig) -> None:
    if config.trainer.device == "cpu":  # `+device=cpu`: verl's trainer on this machine's CPU
        from .cpu import enable

        enable()
    auto_set_device(config)
    check_rzero_config(config)  # before Ray starts: a wrong setting should cost seconds, not minutes
    run_ppo(config, task_runner_class=ray.remote(num_cpus=1)(RZeroTaskRunner))


if __name__ == "__main__":
    main()
