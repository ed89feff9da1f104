"""The run report's reading of training curves (the rest of the report is checked by test_verl_cpu.py), and the
`rzero/*` step metrics it reads, which both engines log (their hooks: test_recipe_rewards.py)."""

import pytest

from recipe.rzero.report import signal_steps
from rzero_rewards import step_reward_metrics
from rzero_rewards.step_metrics import EQUAL_REWARD_GROUPS, REWARD_MEAN


def test_steps_with_a_signal_are_those_where_some_group_had_reward_variance():
    curves = {EQUAL_REWARD_GROUPS: [(1, 1.0), (2, 0.75), (3, 0.0)], REWARD_MEAN: [(1, 0.0), (2, 0.1), (3, 0.4)]}
    assert signal_steps(curves) == {"steps": [1, 2, 3], "with_signal": [2, 3]}


def test_no_signal_metric_logged_is_none_not_zero():
    assert signal_steps({"reward": [(1, 0.5)]}) is None
    assert signal_steps({"critic/advantages/max": [(1, 0.5)]}) is None
    assert signal_steps({"frac_reward_zero_std": [(1, 0.5)]}) is None  # engine-specific names are not read


def test_step_reward_metrics_share_of_groups_whose_rewards_were_all_equal():
    # verl's groups are uid strings in any order, TRL's consecutive indices: the same batch, the same metrics.
    rewards = [1.0, 0.0, 0.5, 0.5, 0.0, 0.0]
    verl = step_reward_metrics(rewards, ["a", "a", "b", "b", "c", "c"])
    trl = step_reward_metrics(rewards, [0, 0, 1, 1, 2, 2])
    assert verl == trl == {REWARD_MEAN: pytest.approx(2 / 6), EQUAL_REWARD_GROUPS: pytest.approx(2 / 3)}
    shuffled = step_reward_metrics([0.5, 1.0, 0.0, 0.0, 0.0, 0.5], ["b", "a", "c", "a", "c", "b"])
    assert shuffled == verl
    with pytest.raises(ValueError, match="2 rewards for 1 group ids"):
        step_reward_metrics([0.0, 1.0], ["a"])
