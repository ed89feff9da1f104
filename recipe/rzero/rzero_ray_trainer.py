"""`RayRZeroTrainer`: verl's `RayPPOTrainer` plus the Challenger's batch repetition penalty and the `rzero/*` step metrics.

verl's reward loop scores each rollout on its own (`reward_fn.challenger_compute_score`: the
uncertainty reward), but R-Zero's repetition penalty clusters the whole rollout batch. With
streaming rewards (the Solver served by our `SolverService`, or by verl's reward model on its own
resource pool) the scores are in the batch when `fit()` balances it, right before it extracts the
rewards for the advantages; this trainer applies the penalty there (the step shared with the TRL
engine, `rzero_rewards.score_challenger_rollouts`) and logs the Challenger's diagnostics and both
roles' `rzero/*` step metrics (`rzero_rewards.step_reward_metrics`). Everything else is verl's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from verl import DataProto
from verl.experimental.reward_loop.reward_manager.base import RewardManagerBase
from verl.trainer.ppo.ray_trainer import RayPPOTrainer

from rzero_rewards import ChallengerRewardSettings, score_challenger_rollouts, step_reward_metrics

from .config_checks import check_rzero_config
from .reward_fn import challenger_reward_settings


def apply_challenger_batch_rewards(batch: DataProto, settings: ChallengerRewardSettings) -> dict[str, float]:
    """Replace each rollout's reward by its final Challenger reward, in place; return the step's metrics.

    Scores the `question`, `uncertainty`, `p_hat` and `solver_latency_s` that `challenger_compute_score`
    reported (in `non_tensor_batch`) with `score_challenger_rollouts` and rewrites `rm_scores`
    (batch × response tokens; the reward sits on the last response token, placed by verl's reward
    loop's own `RewardManagerBase.assemble_rm_scores`). Malformed rollouts get
    `settings.format_penalty`, the score the reward function gave them. Each rollout's penalty is
    added to the batch as the reward extra `repetition_penalty`.
    """
    scored = score_challenger_rollouts(batch.non_tensor_batch, settings)
    batch.batch["rm_scores"].copy_(RewardManagerBase.assemble_rm_scores(batch, scored.rewards))
    batch.non_tensor_batch["repetition_penalty"] = np.asarray(scored.penalties)
    batch.meta_info["reward_extra_keys"] = [*batch.meta_info.get("reward_extra_keys", []), "repetition_penalty"]
    return scored.metrics


def rollout_reward_metrics(batch: DataProto) -> dict[str, float]:
    """`step_reward_metrics` of the batch's final rewards (`rm_scores` summed over tokens), grouped by verl's
    prompt `uid` as its GRPO advantage groups them."""
    return step_reward_metrics(batch.batch["rm_scores"].sum(-1).tolist(), batch.non_tensor_batch["uid"].tolist())


class RayRZeroTrainer(RayPPOTrainer):
    """RayPPOTrainer that applies R-Zero's batch-level Challenger reward terms and logs the `rzero/*` step metrics."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        check_rzero_config(self.config)

    def _balance_batch(self, batch: DataProto, metrics: dict, **kwargs: Any) -> None:
        super()._balance_batch(batch, metrics, **kwargs)
        metrics.update(self.apply_batch_rewards(batch))
        metrics.update(rollout_reward_metrics(batch))

    def apply_batch_rewards(self, batch: DataProto) -> dict[str, float]:
        """The batch-level reward terms of this run's role (only the Challenger has one)."""
        if self.config.rzero.role != "challenger":
            return {}
        return apply_challenger_batch_rewards(batch, challenger_reward_settings(self.config))
