"""The run report's reading of training curves (the rest of the report is checked by test_loop.py)."""

from recipe.rzero.report import signal_steps


def test_trl_steps_with_a_signal_are_those_where_some_group_had_reward_variance():
    curves = {"frac_reward_zero_std": [(1, 1.0), (2, 0.75), (3, 0.0)], "reward": [(1, 0.0), (2, 0.1), (3, 0.4)]}
    assert signal_steps(curves) == {"steps": [1, 2, 3], "with_signal": [2, 3]}


def test_verl_steps_with_a_signal_are_those_with_a_non_zero_advantage():
    curves = {
        "critic/advantages/max": [(1, 0.0), (2, 1.2), (3, 0.0)],
        "critic/advantages/min": [(1, 0.0), (2, -0.4), (3, -0.7)],
    }
    assert signal_steps(curves) == {"steps": [1, 2, 3], "with_signal": [2, 3]}


def test_no_signal_metric_logged_is_none_not_zero():
    assert signal_steps({"reward": [(1, 0.5)]}) is None
    assert signal_steps({"critic/advantages/max": [(1, 0.5)]}) is None
