"""Compose the recipe's configs against the installed verl's config tree, as the launcher does."""

import pytest
from hydra import compose, initialize_config_dir
from hydra.errors import ConfigCompositionException
from omegaconf import OmegaConf

from recipe.rzero.rzero_ray_trainer import check_rzero_config
from tests.helpers import ROOT

CONFIG_DIR = str(ROOT / "recipe" / "rzero" / "config")


def compose_recipe(name: str, overrides: list[str]):
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base=None):
        return compose(config_name=name, overrides=overrides)


def validate_with_verl(config) -> None:
    """verl's own checks: every section converts to its dataclass, batch sizes are consistent."""
    from verl.trainer.ppo.utils import need_critic, need_reference_policy
    from verl.utils.config import omega_conf_to_dataclass, validate_config

    OmegaConf.resolve(config)
    assert not OmegaConf.missing_keys(config), OmegaConf.missing_keys(config)
    for section in (config.actor_rollout_ref.actor, config.actor_rollout_ref.rollout, config.reward, config.algorithm):
        omega_conf_to_dataclass(section)
    validate_config(config, use_reference_policy=need_reference_policy(config), use_critic=need_critic(config))


def test_paper_defaults(tmp_path):
    challenger = compose_recipe("rzero_challenger", [])
    assert challenger.actor_rollout_ref.rollout.n == 4 and challenger.trainer.total_training_steps == 5
    assert challenger.reward.custom_reward_function.reward_kwargs.samples == 10
    solver = compose_recipe("rzero_solver", [])
    assert solver.actor_rollout_ref.rollout.n == 5 and solver.trainer.total_training_steps == 15
    for config in (challenger, solver):
        assert config.data.train_batch_size == 128 and config.actor_rollout_ref.actor.optim.lr == 1e-6
        assert config.actor_rollout_ref.actor.kl_loss_coef == 0.01
        assert config.actor_rollout_ref.actor.kl_loss_type == "low_var_kl"
        assert config.algorithm.adv_estimator == "grpo"


def test_unknown_keys_fail():
    with pytest.raises(ConfigCompositionException):
        compose_recipe("rzero_challenger", ["rzero.repetition_penalty.no_such_key=1"])
    with pytest.raises(ConfigCompositionException):
        compose_recipe("rzero_solver", ["actor_rollout_ref.actor.no_such_key=1"])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ([], "needs a Solver"),
        (["reward.reward_model.enable=true"], "own resource pool"),
        (["reward.custom_reward_function.reward_kwargs.solver_urls=http://h:1", "trainer.balance_batch=false"],
         "balance_batch"),
        (["rzero.role=judge"], "'challenger' or 'solver'"),
    ],
)  # fmt: skip
def test_rzero_settings_are_checked(overrides, message):
    with pytest.raises(ValueError, match=message):
        check_rzero_config(compose_recipe("rzero_challenger", overrides))


def test_ablation_switches_compose():
    config = compose_recipe(
        "rzero_challenger",
        [
            "rzero.repetition_penalty.enable=false",
            "reward.custom_reward_function.reward_kwargs.uncertainty_scale=min",
            "reward.custom_reward_function.reward_kwargs.format_penalty=-1",
            "rzero.clip=false",
        ],
    )
    assert config.rzero.repetition_penalty.enable is False
    assert config.reward.custom_reward_function.reward_kwargs.uncertainty_scale == "min"
