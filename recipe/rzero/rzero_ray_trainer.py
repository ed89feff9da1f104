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

from rzero_rewards import parse_challenger_output, repetition_penalty

P_HAT_BINS = np.linspace(0.0, 1.0, 11)


def check_rzero_config(config: DictConfig) -> None:
    """Fail early, naming the key, on settings under which R-Zero cannot run as specified."""
    role = config.rzero.role
    if role not in ("challenger", "solver"):
        raise ValueError(f"rzero.role must be 'challenger' or 'solver', got {role!r}")
    if role != "challenger":
        return
    reward_model = config.reward.reward_model
    solver_urls = config.reward.custom_reward_function.reward_kwargs.get("solver_urls")
    if not reward_model.enable and not solver_urls:
        raise ValueError(
            "the Challenger's reward needs a Solver: set reward.custom_reward_function.reward_kwargs.solver_urls "
            "or reward.reward_model.enable=true with reward.reward_model.model_path"
        )
    if reward_model.enable and not reward_model.enable_resource_pool:
        raise ValueError(
            "serve the Solver on its own resource pool (reward.reward_model.enable_resource_pool=true): the "
            "repetition penalty needs rewards computed during rollout, which verl's colocated mode does not do"
        )
    if config.rzero.repetition_penalty.enable and not config.trainer.balance_batch:
        raise ValueError("trainer.balance_batch must stay true: the repetition penalty is applied there")


def apply_repetition_penalty(batch: DataProto, tokenizer: Any, threshold: float, clip: bool) -> dict[str, float]:
    """Subtract each well-formed rollout's repetition penalty from its score, in place.

    Reads the per-rollout `uncertainty` and `format_ok` that `challenger_compute_score` reported,
    clusters the questions of the whole batch, and rewrites `rm_scores` (the score sits on the
    last response token). Malformed rollouts keep their format score. Returns step metrics.
    """
    scores = batch.batch["rm_scores"]
    response_length = scores.shape[1]
    lengths = batch.batch["attention_mask"][:, -response_length:].sum(-1).tolist()
    size = len(lengths)
    valid = [i for i in range(size) if float(batch.non_tensor_batch["format_ok"][i]) > 0]
    texts = tokenizer.batch_decode(
        [batch.batch["responses"][i, : lengths[i]] for i in valid], skip_special_tokens=True
    )
    questions = [parse_challenger_output(text)[0] for text in texts]
    penalties = np.zeros(size)
    if valid:
        # Cluster the well-formed questions; a cluster's share is of the whole batch, as in the paper.
        penalties[valid] = np.asarray(repetition_penalty(questions, threshold)) * len(valid) / size
    uncertainty = batch.non_tensor_batch["uncertainty"].astype(np.float64)
    for i in valid:
        reward = uncertainty[i] - penalties[i]
        scores[i].zero_()
        scores[i, lengths[i] - 1] = max(0.0, reward) if clip else reward
    batch.non_tensor_batch["repetition_penalty"] = penalties
    batch.meta_info["reward_extra_keys"] = [*batch.meta_info.get("reward_extra_keys", []), "repetition_penalty"]

    metrics = {"rzero/format_failure_rate": 1.0 - len(valid) / size, "rzero/reward/mean": float(scores.sum(-1).mean())}
    if valid:
        p_hat = batch.non_tensor_batch["p_hat"].astype(np.float64)[valid]
        latency = batch.non_tensor_batch["solver_latency_s"].astype(np.float64)[valid]
        metrics |= {
            "rzero/uncertainty/mean": float(uncertainty[valid].mean()),
            "rzero/repetition_penalty/mean": float(penalties[valid].mean()),
            "rzero/repetition_penalty/max": float(penalties[valid].max()),
            # Each cluster of c questions contributes c members of penalty c / size: Σ 1/c counts clusters.
            "rzero/question_clusters": float(round(sum(1.0 / (penalties[i] * size) for i in valid))),
            "rzero/solver_latency_s/mean": float(latency.mean()),
            "rzero/solver_latency_s/max": float(latency.max()),
        }
        counts, _ = np.histogram(p_hat, bins=np.append(P_HAT_BINS - 0.05, 1.05))
        metrics |= {f"rzero/p_hat_hist/{edge:.1f}": count / len(valid) for edge, count in zip(P_HAT_BINS, counts)}
    return metrics


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
        if settings.role != "challenger" or not settings.repetition_penalty.enable:
            return {}
        return apply_repetition_penalty(batch, self.tokenizer, settings.repetition_penalty.threshold, settings.clip)
