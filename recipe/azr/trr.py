"""Task-Relative REINFORCE++ (TRR++), AZR's advantage estimator (arXiv 2505.03335, §3.3.5, Eq. 8).

AZR trains one policy on six kinds of rows: three task types (deduction, abduction, induction) in
two roles (propose, solve). TRR++ normalises each row's outcome reward within its (task type, role)
group of the batch, giving six baselines instead of REINFORCE++'s one (Appendix A, Eq. 10) or
GRPO's one per prompt:

    A = (r - mean_{task,role}) / (std_{task,role} + epsilon)

broadcast to every response token; no KL term (Table 3: KL loss and KL reward off).

The paper's public code gets there differently: it whitens each task-role sub-batch with verl's
`masked_whiten`, a mean and variance over *tokens*, so longer responses weigh more in the baseline.
This module follows the paper (one reward per response).

`task_relative_advantages` is pure (torch only). `register()` adds it to verl's advantage-estimator
registry as `task_relative_reinforce_plus_plus`; verl hands an estimator no per-row field except
`uid`, so the AZR trainer writes each row's group into `uid` as `"<task type>/<role>"`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

ESTIMATOR_NAME = "task_relative_reinforce_plus_plus"
ROLES = ("propose", "solve")


def group_label(task_type: str, role: str) -> str:
    """The `uid` the AZR trainer gives a row so that verl's estimator sees its TRR++ group.

    >>> group_label("deduction", "solve")
    'deduction/solve'
    """
    return f"{task_type}/{role}"


def task_relative_advantages(
    token_level_rewards: torch.Tensor,
    response_mask: torch.Tensor,
    task_type: Sequence[Any],
    role: Sequence[Any],
    epsilon: float = 1e-6,
) -> torch.Tensor:
    """TRR++ advantages: each response's reward normalised within its (task type, role) group.

    Args:
        token_level_rewards: (batch, response_length) float rewards; a row's outcome reward r is
            its sum (AZR's rewards, Eqs. 4-6, sit on the last response token).
        response_mask: (batch, response_length), 1 on response tokens, 0 on padding.
        task_type, role: one label per row; rows with equal (task_type, role) share a baseline.
        epsilon: added to the group's standard deviation, as verl's GRPO does.

    Returns:
        (batch, response_length) float advantages, (r - mean) / (std + epsilon) on every response
        token and 0 on padding. mean and std are over the group's rows (std with Bessel's
        correction, like `torch.std`); a group of one row, or of equal rewards, gets advantage 0.

    >>> rewards = torch.tensor([[0.0, 1.0], [0.0, 0.0], [0.0, 0.5]])
    >>> task_relative_advantages(rewards, torch.ones(3, 2), ["ded"] * 3, ["solve", "solve", "propose"])
    tensor([[ 0.7071,  0.7071],
            [-0.7071, -0.7071],
            [ 0.0000,  0.0000]])
    """
    rewards = torch.as_tensor(token_level_rewards, dtype=torch.float32)
    mask = torch.as_tensor(response_mask).to(rewards.dtype)
    if rewards.dim() != 2 or mask.shape != rewards.shape:
        raise ValueError(
            f"token_level_rewards and response_mask must both be (batch, response_length), "
            f"got {tuple(rewards.shape)} and {tuple(mask.shape)}"
        )
    if not len(task_type) == len(role) == rewards.shape[0]:
        raise ValueError(
            f"need one task_type and one role per row: {rewards.shape[0]} rows, "
            f"{len(task_type)} task types, {len(role)} roles"
        )
    scores = rewards.sum(dim=-1)
    normalised = torch.zeros_like(scores)
    groups: dict[tuple[Any, Any], list[int]] = {}
    for row, key in enumerate(zip(task_type, role)):
        groups.setdefault(key, []).append(row)
    for rows in groups.values():
        if len(rows) < 2:  # its own mean: r - mean = 0
            continue
        group = scores[rows]
        normalised[rows] = (group - group.mean()) / (group.std() + epsilon)
    return normalised.unsqueeze(-1) * mask


def compute_trr_advantage(
    token_level_rewards: torch.Tensor,
    response_mask: torch.Tensor,
    index: Sequence[str] | None = None,
    config: Any = None,
    **kwargs: Any,
) -> tuple[torch.Tensor, torch.Tensor]:
    """verl's estimator signature (`verl.trainer.ppo.ray_trainer.compute_advantage` passes the
    batch's `uid` as `index`): TRR++ over the groups named by `uid = "<task type>/<role>"`.
    Returns (advantages, returns), both the advantages, as verl's GRPO does."""
    if index is None or any("/" not in str(label) for label in index):
        raise ValueError(
            f"{ESTIMATOR_NAME} groups rows by uid = '<task type>/<role>' (recipe.azr.trr.group_label), "
            "which the AZR trainer sets; this batch's uids are not of that form"
        )
    task_type, role = zip(*(str(label).split("/", 1) for label in index))
    advantages = task_relative_advantages(token_level_rewards, response_mask, task_type, role)
    return advantages, advantages


def register() -> Any:
    """Add `compute_trr_advantage` to verl's estimator registry (idempotent); return it.

    Then `algorithm.adv_estimator=task_relative_reinforce_plus_plus` selects it.
    """
    from verl.trainer.ppo.core_algos import ADV_ESTIMATOR_REGISTRY, register_adv_est

    if ADV_ESTIMATOR_REGISTRY.get(ESTIMATOR_NAME) is not compute_trr_advantage:
        register_adv_est(ESTIMATOR_NAME)(compute_trr_advantage)
    return compute_trr_advantage
