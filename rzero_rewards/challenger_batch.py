"""The Challenger's rewards for a whole rollout batch, and the Challenger's step metrics both engines log.

Per rollout, the reward is the Solver's uncertainty; over the batch, the repetition penalty of
the well-formed questions is subtracted (a cluster's share is of the whole batch, as in the
paper) and the result clipped at 0. Malformed rollouts get the format score. verl's trainer
(`recipe/rzero/rzero_ray_trainer.py`) and the TRL engine (`recipe/rzero/trl_engine.py`) both
call `score_challenger_rollouts` on what the reward function reported per rollout, so the two
engines cannot drift apart; each keeps only its own I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .repetition import repetition_penalty
from .rewards import CHALLENGER_REWARD_DEFAULTS, ChallengerRewardSettings

P_HAT_BINS = np.linspace(0.0, 1.0, 11)


@dataclass(frozen=True)
class ChallengerBatchScores:
    """Final rewards, the repetition penalty of each rollout (0 if malformed) and step metrics."""

    rewards: list[float]
    penalties: list[float]
    metrics: dict[str, float] = field(default_factory=dict)


def score_challenger_batch(
    questions: Sequence[str | None],
    uncertainties: Sequence[float],
    p_hats: Sequence[float],
    solver_latencies_s: Sequence[float] | None = None,
    *,
    penalty_threshold: float | None = CHALLENGER_REWARD_DEFAULTS.repetition_threshold,
    clip: bool = CHALLENGER_REWARD_DEFAULTS.clip,
    format_penalty: float = CHALLENGER_REWARD_DEFAULTS.format_penalty,
) -> ChallengerBatchScores:
    """Score one rollout batch.

    Args:
        questions: each rollout's parsed question, `None` for a malformed output.
        uncertainties: each rollout's uncertainty reward (ignored where the question is `None`).
        p_hats: the Solver's agreement with its majority answer per rollout (ignored if malformed).
        solver_latencies_s: seconds the Solver took per rollout, for the metrics only.
        penalty_threshold: BLEU-distance threshold of the clustering; `None` disables the penalty
            (the paper's "w/o repetition penalty" ablation).
        clip: clip at 0, the paper's max(0, uncertainty − penalty).
        format_penalty: the reward of a malformed rollout.
    """
    size = len(questions)
    if not (len(uncertainties) == len(p_hats) == size):
        raise ValueError(f"{size} questions but {len(uncertainties)} uncertainties and {len(p_hats)} p_hat values")
    valid = [i for i, question in enumerate(questions) if question is not None]
    penalties = np.zeros(size)
    if valid and penalty_threshold is not None:
        shares = repetition_penalty([questions[i] for i in valid], penalty_threshold)
        penalties[valid] = np.asarray(shares) * len(valid) / size
    rewards = [float(format_penalty)] * size
    for i in valid:
        reward = float(uncertainties[i]) - float(penalties[i])
        rewards[i] = max(0.0, reward) if clip else reward

    metrics = {"rzero/format_failure_rate": 1.0 - len(valid) / size if size else 0.0}
    if valid:
        metrics["rzero/uncertainty/mean"] = float(np.mean([uncertainties[i] for i in valid]))
        metrics["rzero/repetition_penalty/mean"] = float(penalties[valid].mean())
        metrics["rzero/repetition_penalty/max"] = float(penalties[valid].max())
        if penalty_threshold is not None:
            # A cluster of c questions has c members with penalty c / size: Σ 1 / (penalty · size) counts clusters.
            metrics["rzero/question_clusters"] = float(round(sum(1.0 / (penalties[i] * size) for i in valid)))
        if solver_latencies_s is not None:
            latency = np.asarray([solver_latencies_s[i] for i in valid], dtype=np.float64)
            metrics["rzero/solver_latency_s/mean"] = float(latency.mean())
            metrics["rzero/solver_latency_s/max"] = float(latency.max())
        counts, _ = np.histogram([p_hats[i] for i in valid], bins=np.append(P_HAT_BINS - 0.05, 1.05))
        metrics |= {f"rzero/p_hat_hist/{edge:.1f}": count / len(valid) for edge, count in zip(P_HAT_BINS, counts)}
    return ChallengerBatchScores(rewards=rewards, penalties=penalties.tolist(), metrics=metrics)


def score_challenger_rollouts(
    rollouts: Mapping[str, Sequence[Any]], settings: ChallengerRewardSettings
) -> ChallengerBatchScores:
    """Score one rollout batch from what the reward function reported per rollout (both engines' shared step).

    Args:
        rollouts: `challenger_compute_score`'s report by key, each a sequence over the batch in one
            order: `question` (`None` for a malformed output), `uncertainty`, `p_hat`,
            `solver_latency_s` (verl's `non_tensor_batch` holds them so; other keys are ignored).
        settings: the run's Challenger reward settings (`ChallengerRewardSettings.from_kwargs`).
    """
    return score_challenger_batch(
        list(rollouts["question"]),
        rollouts["uncertainty"],
        rollouts["p_hat"],
        rollouts["solver_latency_s"],
        penalty_threshold=settings.repetition_threshold if settings.repetition_penalty else None,
        clip=settings.clip,
        format_penalty=settings.format_penalty,
    )
