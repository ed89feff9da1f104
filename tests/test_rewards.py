"""Challenger and solver rewards and the solver-data filter."""

import pytest

from rzero_rewards import (
    challenger_reward,
    in_band,
    parse_challenger_output,
    score_challenger_batch,
    solver_reward,
    uncertainty_reward,
)

WELL_FORMED = "<question>\nWhat is 6*7?\n</question>\n\n\\boxed{42}"


@pytest.mark.parametrize(
    ("p_hat", "paper", "minimum"),
    [(0.0, 0.0, 0.0), (0.5, 1.0, 0.5), (1.0, 0.0, 0.0), (0.3, 0.6, 0.3), (0.9, 0.2, 0.1)],
)
def test_uncertainty_reward(p_hat, paper, minimum):
    assert uncertainty_reward(p_hat) == pytest.approx(paper)
    assert uncertainty_reward(p_hat, scale="min") == pytest.approx(minimum)


@pytest.mark.parametrize("bad", [-0.1, 1.5])
def test_uncertainty_reward_rejects_out_of_range(bad):
    with pytest.raises(ValueError, match="p_hat"):
        uncertainty_reward(bad)


def test_uncertainty_reward_rejects_unknown_scale():
    with pytest.raises(ValueError, match="'paper' or 'min'"):
        uncertainty_reward(0.5, scale="max")


@pytest.mark.parametrize(
    ("response", "parsed"),
    [
        (WELL_FORMED, ("What is 6*7?", "42")),
        ("<question>What is 6*7?</question>", None),  # no answer
        ("\\boxed{42}", None),  # no question
        ("\\boxed{1} <question>Q?</question>", None),  # box before the question is not its answer
        ("<question>Is \\boxed{1} odd?</question> \\boxed{yes}", ("Is \\boxed{1} odd?", "yes")),
    ],
)
def test_parse_challenger_output(response, parsed):
    assert parse_challenger_output(response) == parsed


def test_challenger_reward():
    assert challenger_reward(WELL_FORMED, p_hat=0.5) == 1.0
    assert challenger_reward(WELL_FORMED, p_hat=0.5, penalty=0.25) == 0.75
    assert challenger_reward(WELL_FORMED, p_hat=1.0, penalty=0.25) == 0.0  # clipped
    assert challenger_reward(WELL_FORMED, p_hat=1.0, penalty=0.25, clip=False) == -0.25
    assert challenger_reward(WELL_FORMED, p_hat=0.4, scale="min") == pytest.approx(0.4)


def test_malformed_challenger_output():
    assert challenger_reward("no tags at all", p_hat=None) == 0.0
    assert challenger_reward("no tags at all", p_hat=None, format_penalty=-1.0) == -1.0
    with pytest.raises(ValueError, match="p_hat is required"):
        challenger_reward(WELL_FORMED, p_hat=None)


@pytest.mark.parametrize(("agreeing", "kept"), [(k, 3 <= k <= 7) for k in range(11)])
def test_in_band_keeps_three_to_seven_of_ten(agreeing, kept):
    assert in_band(agreeing / 10) is kept


def test_solver_reward():
    assert solver_reward("so the answer is \\boxed{\\frac{1}{2}}", "0.5") == 1.0
    assert solver_reward("\\boxed{1} no wait \\boxed{2}", "1") == 0.0  # the last box counts
    assert solver_reward("I don't know", "1") == 0.0
    # Issue 12: the pseudo-label and the answer in other spellings of one value.
    assert solver_reward(r"She earns \boxed{\$1,250}.", "1250") == 1.0
    assert solver_reward(r"The rate is \boxed{35\%}.", "35") == 1.0
    assert solver_reward(r"\boxed{\frac{1}{5^{31}}}", r"\frac{1}{5^{30}}") == 0.0


def test_challenger_batch_penalises_near_duplicates_and_keeps_format_scores():
    questions = [
        "What is the sum of the first 100 positive integers?",
        "What is the sum of the first 100 positive integers ?",
        None,
        "How many primes are smaller than 50?",
    ]
    scored = score_challenger_batch(questions, [1.0, 0.6, 0.0, 0.2], [0.5, 0.7, -1.0, 0.9], format_penalty=-1.0)
    # The two near-duplicates form one cluster: 2 of the 3 well-formed, scaled to the batch of 4.
    assert scored.penalties == pytest.approx([0.5, 0.5, 0.0, 0.25])
    assert scored.rewards == pytest.approx([0.5, 0.1, -1.0, 0.0])  # 0.2 - 0.25 is clipped at 0
    assert scored.metrics["rzero/format_failure_rate"] == pytest.approx(0.25)
    assert scored.metrics["rzero/question_clusters"] == 2.0
    assert sum(v for k, v in scored.metrics.items() if k.startswith("rzero/p_hat_hist/")) == pytest.approx(1.0)
    assert scored.metrics["rzero/p_hat_hist/0.5"] == pytest.approx(1 / 3)


def test_challenger_batch_ablations_without_penalty_or_clip():
    questions = ["Same question here?", "Same question here?"]
    without_penalty = score_challenger_batch(questions, [0.4, 0.8], [0.3, 0.6], penalty_threshold=None)
    assert without_penalty.rewards == pytest.approx([0.4, 0.8]) and without_penalty.penalties == [0.0, 0.0]
    unclipped = score_challenger_batch(questions, [0.4, 0.8], [0.3, 0.6], clip=False)
    assert unclipped.rewards == pytest.approx([-0.6, -0.2])


def test_challenger_batch_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="2 questions but 1 uncertainties"):
        score_challenger_batch(["a", "b"], [0.5], [0.5, 0.5])
