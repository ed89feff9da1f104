"""`RayRZeroTrainer`: verl's `RayPPOTrainer` plus the Challenger's batch repetition penalty.

verl's reward loop scores each rollout on its own (`reward_fn.challenger_compute_score`: the
uncertainty reward), but R-Zero's repetition penalty clusters the whole rollout batch. With
streaming rewards (the Solver served by our `SolverService`, or by verl's reward model on its own
resource pool) the scores are in the batch when `fit()` balances it, right before it extracts the
rewards for the advantages; this trainer applies the penalty there and logs the Challenger's
diagnostics. Everything else is verl's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from omegaconf import DictConfig
from verl import DataProto
from verl.trainer.ppo.ray_trainer import RayPPOTrainer

from rzero_rewards import parse_challenger_output, score_challenger_batch

from .config_checks import check_rzero_config


def apply_challenger_batch_rewards(
    batch: DataProto, tokenizer: Any, penalty_threshold: float | None, clip: bool, format_penalty: float
) -> dict[str, float]:
    """Turn each well-formed rollout's uncertainty into its final reward, in place; return step metrics.

    Reads the per-rollout `uncertainty`, `p_hat` and `format_ok` that `challenger_compute_score`
    reported, scores the batch with `score_challenger_batch` (repetition penalty unless
    `penalty_threshold` is None, clip) and rewrites `rm_scores` (the score sits on the last
    response token). Malformed rollouts keep the format score (`format_penalty`) the reward
    function gave them.
    """
    scores = batch.batch["rm_scores"]
    response_length = scores.shape[1]
    lengths = batch.batch["attention_mask"][:, -response_length:].sum(-1).tolist()
    info = batch.non_tensor_batch
    valid = [i for i in range(len(lengths)) if float(info["format_ok"][i]) > 0]
    texts = tokenizer.batch_decode([batch.batch["responses"][i, : lengths[i]] for i in valid], skip_special_tokens=True)
    questions: list[str | None] = [None] * len(lengths)
    for i, text in zip(valid, texts):
        questions[i] = parse_challenger_output(text)[0]
    scored = score_challenger_batch(
        questions,
        info["uncertainty"].astype(np.float64).tolist(),
        info["p_hat"].astype(np.float64).tolist(),
        info["solver_latency_s"].astype(np.float64).tolist(),
        penalty_threshold=penalty_threshold,
        clip=clip,
        format_penalty=format_penalty,
    )
    for i in valid:
        scores[i].zero_()
        scores[i, lengths[i] - 1] = scored.rewards[i]
    info["repetition_penalty"] = np.asarray(scored.penalties)
    batch.meta_info["reward_extra_keys"] = [*batch.meta_info.get("reward_extra_keys", []), "repetition_penalty"]
    return scored.metrics


class RayRZeroTrainer(RayPPOTrainer):
    """RayPPOTrainer that applies R-Zero's batch-level Challenger reward terms."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        check_rzero_config(self.config)

    def _balance_batch(self, batch: DataProto, metrics: dict, **kwargs: Any) -> None:
        super()._balance_batch(batch, metrics, **kwargs)
        metrics.update(self.apply_batch_rewards(batch))

    def apply_batch_rewards(self, batch: DataProto) -> dict[str, float]:
        """The batch-level reward terms of this run's role (only the Challenger has one)."""
        settings = self.config.rzero
        if settings.role != "challenger":
            return {}
        threshold = settings.repetition_penalty.threshold if settings.repetition_penalty.enable else None
        format_penalty = self.config.reward.custom_reward_function.reward_kwargs.get("format_penalty", 0.0)
        return apply_challenger_batch_rewards(batch, self.tokenizer, threshold, settings.clip, format_penalty)
