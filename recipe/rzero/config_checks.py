"""Checks of a composed R-Zero config that both training engines run before anything starts.

Kept apart from the trainers so that the TRL path (`main_trl`) imports no verl.
"""

from __future__ import annotations

from omegaconf import DictConfig


def check_rzero_config(config: DictConfig) -> None:
    """Fail early, naming the key, on settings under which R-Zero cannot run as specified."""
    role = config.rzero.role
    if role not in ("challenger", "solver"):
        raise ValueError(f"rzero.role must be 'challenger' or 'solver', got {role!r}")
    reward_model = config.reward.reward_model
    solver_urls = config.reward.custom_reward_function.reward_kwargs.get("solver_urls")
    if role == "challenger" and not reward_model.enable and not solver_urls:
        raise ValueError(
            "the Challenger's reward needs a Solver: set reward.custom_reward_function.reward_kwargs.solver_urls "
            "or reward.reward_model.enable=true with reward.reward_model.model_path"
        )
    if reward_model.enable and not reward_model.enable_resource_pool:
        raise ValueError(
            "serve the Solver on its own resource pool (reward.reward_model.enable_resource_pool=true): the "
            "repetition penalty and the rzero/* step metrics need rewards computed during rollout, which verl's "
            "colocated mode does not do"
        )
    if not config.trainer.balance_batch:
        raise ValueError(
            "trainer.balance_batch must stay true: the Challenger's batch rewards and both roles' rzero/* step "
            "metrics are computed there"
        )
