"""The `rzero/*` metrics both training engines log at every step of either role, from the step's final rewards.

verl's trainer (`recipe/rzero/rzero_ray_trainer.py`) and the TRL engine (`recipe/rzero/trl_engine.py`)
log them under the same names, so the run report (`recipe/rzero/report.py`) reads one set of names
whatever the engine.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

# The mean reward of the step's rollouts (after the Challenger's batch terms).
REWARD_MEAN = "rzero/reward/mean"
# The share of prompt groups whose rewards were all equal: each of their GRPO advantages is 0, so a step
# whose share is 1 has no learning signal (TRL calls the same quantity `frac_reward_zero_std`).
EQUAL_REWARD_GROUPS = "rzero/equal_reward_groups"


def step_reward_metrics(rewards: Sequence[float], groups: Sequence[Hashable]) -> dict[str, float]:
    """`REWARD_MEAN` and `EQUAL_REWARD_GROUPS` of one step.

    Args:
        rewards: the final reward of each rollout.
        groups: each rollout's prompt group (GRPO normalises rewards within a group): verl's `uid`, or
            the group index in TRL, whose batches hold each prompt's rollouts consecutively.

    Raises:
        ValueError: `rewards` and `groups` differ in length, or are empty.
    """
    if len(rewards) != len(groups) or not rewards:
        raise ValueError(f"{len(rewards)} rewards for {len(groups)} group ids: need one each, at least one")
    by_group: dict[Hashable, set[float]] = {}
    for reward, group in zip(rewards, groups):
        by_group.setdefault(group, set()).add(float(reward))
    equal = sum(len(values) == 1 for values in by_group.values())
    return {REWARD_MEAN: sum(map(float, rewards)) / len(rewards), EQUAL_REWARD_GROUPS: equal / len(by_group)}
